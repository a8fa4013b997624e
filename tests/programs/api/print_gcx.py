"""Which gcx a child imports, in which mode (run by tests/test_api.py).

    python print_gcx.py

Prints gcx.__file__ and gcx.mode() on two lines.
"""
import gcx

print(gcx.__file__)
print(gcx.mode())
