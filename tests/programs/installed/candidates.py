"""3.15's candidates (the objects a collection examined) of young
collections, stock or with gcx installed (run by tests/test_installed.py):

    python candidates.py [stock]

makes a few cycles and lists between collections of generations 0 and 1
and prints what each collection's "stop" callback said it examined.
"""
import gc
import json
import sys

if sys.argv[-1] != "stock":
    import gcx
    gcx.install()

seen = []
gc.collect()
gc.callbacks.append(lambda phase, info: phase == "stop" and seen.append(
    [info["generation"], info.get("candidates")]))
keep = []
for k in (0, 1, 5, 40):
    for _ in range(k):
        a = []
        a.append(a)
        keep.append([[], {}])
    gc.collect(0)
gc.collect(1)
gc.callbacks.clear()
print("RESULT " + json.dumps({"seen": seen}))
