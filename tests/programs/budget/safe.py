"""PauseBudget in safe mode runs stop-the-world full collections.

    GCX_MODE=safe python safe.py

Prints "ok" and state()["mode"]; raises if no full collection ran or a
cycle started.
"""
import gcx


class N:
    pass


gcx.install(policy=gcx.PauseBudget(ms=1.0))
gcx.set_threshold(700, 2, 2)   # full collections due soon
assert gcx.mode() == "safe"
keep = []
for r in range(300):
    for i in range(2000):
        a, b = N(), N()
        a.o, b.o = b, a
        keep.append(a)
    if len(keep) > 40_000:
        del keep[:20_000]
state = gcx.get_policy().state()
assert state["stop_the_world"] >= 1, state
assert state["cycles"] == 0 and not state["active"], state
print("ok", state["mode"])
