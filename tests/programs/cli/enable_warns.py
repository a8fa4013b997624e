"""gcx.enable() warns (RuntimeWarning) when gcx is not installed and the
stdlib collector is enabled, and only then.

    python enable_warns.py

With warnings as errors: gcx.enable() beside the enabled stdlib collector
(prints ``warned: MESSAGE``; gcx stays disabled), gcx.enable() with the
stdlib collector off, gc.enable() while gcx is installed (both quiet).
Prints ``done`` at the end.
"""
import gc
import warnings

import gcx

warnings.simplefilter("error")
try:
    gcx.enable()             # the stdlib collector is on: both would run
except RuntimeWarning as exc:
    print("warned:", exc)
assert not gcx.isenabled()   # raised before enabling (an error filter)
gc.disable()
gcx.enable()                 # the stdlib collector is off: quiet
gcx.disable()
gc.enable()
gcx.install()
gc.enable()                  # gcx's, while installed: quiet
gcx.uninstall()
print("done")
