"""gcx/_stdlib.py imported again while the gc module points at gcx (a
reload) still finds the stdlib's own functions and the interpreter's lists
(run by tests/test_package.py).

    python stdlib_recaptured.py

Installs gcx, reloads gcx._stdlib and prints whether its collect is not
gc.collect (gcx's now), whether it is a builtin, whether its garbage and
callbacks are the stdlib's lists; then enables and disables the stdlib
collector through it and prints what the stdlib's own isenabled() says
(False).
"""
import gc
import importlib

import gcx
from gcx import _stdlib

garbage, callbacks, isenabled = gc.garbage, gc.callbacks, gc.isenabled
gcx.install()
again = importlib.reload(_stdlib)
print(again.collect is not gc.collect,
      type(again.collect).__name__ == "builtin_function_or_method",
      again.garbage is garbage, again.callbacks is callbacks)
again.enable()
again.disable()
print(isenabled())
gcx.uninstall()
