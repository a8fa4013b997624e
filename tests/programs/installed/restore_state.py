"""install() and uninstall() (and the installed() context manager) leave the
gc module and both collectors exactly as they found them
(run by tests/test_installed.py).

    python restore_state.py STDLIB GCX

STDLIB and GCX (``on`` or ``off``) say whether the stdlib's and gcx's
automatic collection are enabled beforehand; thresholds and debug flags are
set to values no default has.  The state compared: the identity of every
attribute of the gc module, the stdlib collector's enabled flag,
thresholds, debug flags and freeze count, gcx's enabled flag, and what the
gc module answers.  Asserts that install() takes over TAKEN_OVER below and
switches the stdlib collector off (or to serving as gcx's trigger:
src/tracer.c, K1); that a second install() or uninstall() changes nothing;
that after uninstall() the state is what it was, even
after the program changed thresholds, debug flags, enabled state and
callbacks while installed; that installed() restores it on a normal exit,
nested, and on an exception, and leaves gcx installed when it already was.
Reports ok=True at the end.
"""
import gc
import sys

import gcx
from churnlib import report, stdlib_gc, stdlib_triggers

# the stdlib gc attributes install() points at gcx's (as documented)
TAKEN_OVER = ["collect", "enable", "disable", "isenabled", "get_count",
              "get_threshold", "set_threshold", "get_stats", "get_debug",
              "set_debug", "freeze", "unfreeze", "get_freeze_count",
              "is_finalized", "garbage", "callbacks"]

STDLIB_ON, GCX_ON = ({"on": True, "off": False}[arg] for arg in sys.argv[1:3])
real = stdlib_gc()
(gc.enable if STDLIB_ON else gc.disable)()
(gcx.enable if GCX_ON else gcx.disable)()
gc.set_threshold(1234, 7, 3)
gc.set_debug(gc.DEBUG_UNCOLLECTABLE)
gcx.set_threshold(555, 4, 2)


def state():
    return {
        "attributes": {name: id(value) for name, value in vars(gc).items()},
        "stdlib": (real.isenabled(), real.get_threshold(), real.get_debug(),
                   real.get_freeze_count()),
        "gcx_enabled": gcx.isenabled(),
        "gc_answers": (gc.isenabled(), gc.get_threshold(), gc.get_debug()),
    }


def mess_up():
    # what a program might do while gcx is installed
    gc.set_threshold(10, 10, 10)
    gc.set_debug(0)
    gc.disable()
    gc.callbacks.append(print)
    gc.callbacks.remove(print)


before = state()
gcx.install()
assert gcx.is_installed()
assert real.isenabled() is stdlib_triggers() and gcx.isenabled()
assert all(getattr(gc, name) is getattr(gcx, name) for name in TAKEN_OVER)
gcx.install()                       # a second install changes nothing
mess_up()
gcx.uninstall()
assert not gcx.is_installed()
assert state() == before, (state(), before)
gcx.uninstall()                     # a second uninstall changes nothing
assert state() == before

with gcx.installed():
    assert gcx.is_installed() and real.isenabled() is stdlib_triggers()
    with gcx.installed():           # nested: the outer one owns it
        pass
    assert gcx.is_installed()
    mess_up()
assert not gcx.is_installed() and state() == before

try:
    with gcx.installed():
        raise KeyError("inside")
except KeyError:
    pass
assert not gcx.is_installed() and state() == before

gcx.install()
with gcx.installed():               # already installed: stays installed
    pass
assert gcx.is_installed()
gcx.uninstall()
assert state() == before
report(ok=True)
