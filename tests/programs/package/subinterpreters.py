"""gcx in subinterpreters (run by tests/test_package.py).

    python subinterpreters.py

gcx is the main interpreter's collector.  With gcx installed and cyclic
garbage with finalizers waiting in the main interpreter, a legacy
subinterpreter (shared GIL, as mod_wsgi makes them) and an isolated one
each try `import gcx` and `import gcx._gcx`; each attempt prints the
exception's type (ImportError expected: a legacy subinterpreter that got
gcx would work on the main interpreter's records).  Then the main
interpreter's gcx._gcx imported again, and reloaded, must be the module it
had, and the main interpreter's collection must find the garbage: it prints
how many finalizers the subinterpreters ran (0) and what collect() returns
and the finalizers run then, beside the same under the stdlib collector.
"""
import importlib
import sys

import gcx

try:
    import _interpreters as interps                  # 3.13+
    def create(legacy):
        return interps.create("legacy" if legacy else "isolated")
except ImportError:
    import _xxsubinterpreters as interps              # 3.12
    def create(legacy):
        return interps.create(isolated=not legacy)

FIN = []


class Node:
    def __del__(self):
        FIN.append(1)


def make_garbage():
    for i in range(300):
        n = Node()
        n.me = n
        n.items = [n, {"n": n}]


ATTEMPT = """
for name in ("gcx", "gcx._gcx"):
    try:
        __import__(name)
    except BaseException as exc:
        print(KIND, name, type(exc).__name__, flush=True)
    else:
        print(KIND, name, "imported", flush=True)
        import gcx
        gcx.collect()
"""


def outcome(collect):
    FIN.clear()
    make_garbage()
    subs = []
    for legacy in (True, False):
        sub = create(legacy)
        subs.append(sub)
        interps.run_string(sub, ATTEMPT.replace("KIND", repr("legacy" if legacy else "isolated")))
    during = len(FIN)
    found = collect()
    for sub in subs:
        interps.destroy(sub)
    return during, found, len(FIN)


import gc  # noqa: E402
gc.disable()
gc.collect()
stdlib = outcome(gc.collect)
gcx.install()
gc.disable()         # gcx's now: install() enabled it
gc.collect()
core = sys.modules["gcx._gcx"]
del sys.modules["gcx._gcx"]
import gcx._gcx  # noqa: E402,F401
print("same module", sys.modules["gcx._gcx"] is core, importlib.reload(core) is core)
print("stdlib", *stdlib)
print("gcx", *outcome(gc.collect))
