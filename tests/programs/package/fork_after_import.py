"""Fork right after `import gcx`, warnings as errors.

CPython 3.12+ warns (DeprecationWarning) at fork() if the process has more
than one thread.  gcx's import self-test on 3.14+ frees a deep chain in a
thread of its own; that thread must be gone, not only done, when the import
returns.  Exit status 0 and "forked" if fork() raised nothing.
"""
import os
import warnings

warnings.simplefilter("error")

import gcx  # noqa: E402  (the import is what is tested)

pid = os.fork()
if pid == 0:
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("forked", gcx.mode(), os.waitstatus_to_exitcode(status))
