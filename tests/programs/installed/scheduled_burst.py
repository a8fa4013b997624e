"""A collection scheduled while a C call allocates, run after the count of
generation 0 fell back (run by tests/test_installed.py).

    python scheduled_burst.py COLLECTOR

COLLECTOR: "gc" (gcx never imported) or "gcx" (installed on the first
line).  With generation 1's count just past its threshold, one C call
(pickle.loads under map and sum) makes 3,000 lists, passing threshold 0,
and frees them before it returns.  The stdlib's collector scheduled a
collection when the count passed threshold 0 and runs it at the next
eval-breaker check, where its rule takes the oldest generation past its
threshold: generation 1.  Prints the generations of the collections that
began from the C call on, then gcx's mode (or "-").
"""
import gc
import pickle
import sys

if sys.argv[1] == "gcx":
    import gcx
    gcx.install()

data = pickle.dumps([[i] for i in range(3000)])
gc.collect()
began = []
gc.callbacks.append(lambda phase, info: phase == "start" and began.append(info["generation"]))
keep = []
while gc.get_count()[1] <= gc.get_threshold()[1]:
    keep.append([0])           # young collections until generation 1's count passes
del began[:]
n = sum(map(len, map(pickle.loads, [data])))
x = [n]
for _ in range(3):
    pass
gc.callbacks.clear()
print(*began)
print(gcx.mode() if sys.argv[1] == "gcx" else "-")
