"""What the programs ``python -m gcx run`` runs in tests/test_cli.py check
(imported, never run on its own; a program copied elsewhere takes a copy
of this file with it).

check_installed(namespace)
        assert what ``gcx run`` promises from the program's first line:
        gcx installed, the stdlib collector off, gc's functions gcx's, and
        ``namespace`` (the program's globals()) the namespace of __main__
churn()
        make 50,000 garbage pairs, then assert that gcx's automatic
        collection ran and freed more than half of the watched ones
"""
import gc
import importlib.util
import sys
import weakref

import gcx


def stdlib_gc():
    # a second instance of the gc module: its functions are the stdlib's
    # own, whatever install() did to the gc module's attributes
    spec = importlib.util.find_spec("gc")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_installed(namespace):
    assert gcx.is_installed()
    # the stdlib collector is off, or serves as gcx's trigger (src/tracer.c, K1)
    assert stdlib_gc().isenabled() is (gcx._gcx.info()["trigger"] == "cpython")
    assert gc.isenabled() is True              # gc.isenabled is gcx's now
    assert gc.isenabled is gcx.isenabled and gc.collect is gcx.collect
    assert namespace["__name__"] == "__main__"
    assert sys.modules["__main__"].__dict__ is namespace


class Node:
    pass


def _churn(n):
    watched = []
    for i in range(n):
        a, b = Node(), Node()
        a.peer, b.peer = b, a
        if i % 1000 == 0:
            watched.append(weakref.ref(a))
    return watched


def churn():
    watched = _churn(50_000)
    assert gcx.get_stats()[0]["collections"] > 0, gcx.get_stats()
    assert sum(ref() is None for ref in watched) > len(watched) // 2
