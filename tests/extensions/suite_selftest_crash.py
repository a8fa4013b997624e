"""For `.ci/extensions.py --selftest`: a crash (SIGSEGV) with gcx installed."""

import os
import signal
import sys


def test_before():
    pass


def test_crash():
    gcx = sys.modules.get("gcx")
    if gcx is not None and gcx.is_installed():
        os.kill(os.getpid(), signal.SIGSEGV)


def test_after():
    pass
