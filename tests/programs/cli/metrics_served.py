"""A program for ``gcx run --metrics-port`` (run by tests/test_cli.py): it
collects, says what gcx's figures are, and waits while the test scrapes.

    gcx run --metrics-port 0 metrics_served.py SNAPSHOT GO

Makes 1,000 cycles of two instances, runs gcx.collect(0) and gcx.collect(),
writes gcx.metrics() as JSON to the file SNAPSHOT (complete when it
appears), then waits for the file GO to exist (at most 120 s) and exits 0,
or 1 if GO never appears.  Prints nothing.
"""
import json
import os
import sys
import time

import gcx

snapshot, go = sys.argv[1:]


class Node:
    pass


for _ in range(1_000):
    a, b = Node(), Node()
    a.peer, b.peer = b, a
del a, b
gcx.collect(0)
gcx.collect()
with open(snapshot + ".tmp", "w") as f:
    json.dump(gcx.metrics(), f)
os.rename(snapshot + ".tmp", snapshot)
deadline = time.monotonic() + 120
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.02)
