"""A C call that allocates containers far past threshold 0, under the
stdlib collector or with gcx installed (run by tests/test_installed.py).

    python c_call_allocates.py COLLECTOR

COLLECTOR: "gc" or "gcx".  json.loads builds 60,000 lists and dicts in one
C call, which runs no eval-breaker check: the stdlib asks for a
collection when its count first passes threshold 0 and collects once the
call has returned (at the first eval-breaker check after it).  Prints
the collections the gc callbacks saw by the end of a loop after the call,
and, with gcx in lists mode, how many object allocations looked whether a
read or a collection was due while the call ran (0 elsewhere): once one
is asked for, none should until it has run.
"""
import gc
import json
import sys

import gcx

collector = sys.argv[1]
text = json.dumps([[i, {"k": [i]}] for i in range(20_000)])
seen = []


def on_gc(phase, info):
    if phase == "start":
        seen.append(info["generation"])


if collector == "gcx":
    gcx.install()
gc.collect()
gc.set_threshold(700, 10, 10)
gc.callbacks.append(on_gc)
looks = gcx.info()["looks"]
doc = json.loads(text)
looks = gcx.info()["looks"] - looks
for i in range(10_000):      # the pending call runs at an eval-breaker check
    if seen:
        break
gc.callbacks.remove(on_gc)
print(len(seen), looks if gcx.is_installed() else 0, len(doc))
