"""What the programs in this folder share (imported, never run on its own).

A program reports with report(**values): one line ``RESULT <json>`` on
stdout, which tests/test_installed.py reads back.

report(**values)   print the RESULT line
hwm(), rss()       this process's peak and current resident set size, bytes
stdlib_gc()        a second instance of the gc module: its functions are the
                   stdlib's own, whatever install() did to the gc module's
                   attributes
Node               the class churn() makes garbage cycles of
alive()            Node instances alive, garbage included: every instance
                   holds a reference to Node, so sys.getrefcount(Node) rises
                   by one per Node (exact while nothing else refers to Node:
                   a program that counts should not import it)
churn(cycles, blob=0, sample=1000)
                   make ``cycles`` garbage cycles of two Nodes (each with a
                   bytearray of ``blob`` bytes); the peak of alive(), sampled
                   every ``sample`` cycles
collections()      gcx's collections so far, all generations
"""
import importlib.util
import json
import sys


def report(**values):
    print("RESULT", json.dumps(values), flush=True)


def _status(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field}")


def hwm():
    return _status("VmHWM")


def rss():
    return _status("VmRSS")


def stdlib_gc():
    spec = importlib.util.find_spec("gc")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stdlib_triggers():
    """Does CPython's own collector serve as gcx's trigger now (src/tracer.c,
    K1)?  Then it is on, at gcx's threshold 0 with the older two out of
    reach, and it freezes its lists at each collection."""
    import gcx
    return gcx._gcx.info()["trigger"] == "cpython"


INT_MAX = 2**31 - 1


class Node:
    pass


_NODE_BASE = sys.getrefcount(Node)


def alive():
    return sys.getrefcount(Node) - _NODE_BASE


def churn(cycles, blob=0, sample=1000):
    peak = 0
    for i in range(cycles):
        a, b = Node(), Node()
        a.peer, b.peer = b, a
        if blob:
            a.blob = bytearray(blob)
        if i % sample == 0:
            peak = max(peak, alive())
    return peak


def collections():
    import gcx
    return sum(s["collections"] for s in gcx.get_stats())
