"""The core's ImportError reaches the importer of gcx unchanged
(run by tests/test_api.py).

    python import_error.py

A meta path finder refuses gcx._gcx with an ImportError (as the core does on
an interpreter it does not support); prints the type and message of what
``import gcx`` raised.
"""
import sys


class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name == "gcx._gcx":
            raise ImportError("gcx supports only ... (test)")


sys.meta_path.insert(0, Refuse())
try:
    import gcx  # noqa: F401
except ImportError as exc:
    print(type(exc).__name__, str(exc))
