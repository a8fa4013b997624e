"""gcx.no_cycles(ignore=VALUE) with a VALUE that is neither a type name nor
an iterable of them raises TypeError.

    python no_cycles_ignore_type_error.py VALUE

VALUE is a Python literal (ast.literal_eval), e.g. ``[1]``, ``3``,
``[b'Node']``.  Prints ``TypeError MESSAGE`` when no_cycles raises it
(nothing otherwise).
"""
import ast
import sys

import gcx

ignore = ast.literal_eval(sys.argv[1])
try:
    gcx.no_cycles(ignore=ignore)
except TypeError as exc:
    print("TypeError", exc)
