"""A program that does nothing but say so (test_cli's metrics options are
refused before it would run).

    python ran.py

Prints ``ran``.
"""
print("ran")
