"""A daemon thread still allocating cycles while the interpreter shuts down
with gcx installed (run by tests/test_faults.py).

    python daemon_shutdown.py COLLECTOR HOW

COLLECTOR: ``gcx`` installs gcx as the process's collector, ``gc`` leaves
the stdlib's.  Daemon threads make cycles with finalizers and weakref
callbacks (and call gc.collect() now and then) without stopping; the main
thread waits until they have made some, prints "exiting" and leaves by HOW:
``return`` (falls off the end), ``exit`` (sys.exit(0)) or ``raise``
(an exception caught by nothing: exit status 1).  The test checks the exit
status and that nothing fatal was printed.
"""
import gc
import sys
import threading
import time
import weakref

COLLECTOR, HOW = sys.argv[1], sys.argv[2]

if COLLECTOR == "gcx":
    import gcx
    gcx.install()
    gcx.set_threshold(200)
else:
    gc.set_threshold(200)

MADE = [0]
DELS = [0]
CBS = [0]


class Node:
    def __del__(self):
        DELS[0] += 1
        self.more = [self]      # new garbage from a finalizer


def cb(wr):
    CBS[0] += 1


def churn(k):
    keep = []
    while True:
        a, b = Node(), Node()
        a.b, b.a = b, a
        keep.append(weakref.ref(a, cb))
        if len(keep) > 100:
            del keep[:50]
        MADE[0] += 1
        if MADE[0] % 500 == k:
            gc.collect()


threads = [threading.Thread(target=churn, args=(k,), daemon=True) for k in range(3)]
for t in threads:
    t.start()
deadline = time.monotonic() + 30
while MADE[0] < 5000 and time.monotonic() < deadline:
    time.sleep(0.01)
print("exiting", MADE[0] >= 5000, DELS[0] > 0, CBS[0] > 0, flush=True)
if HOW == "exit":
    sys.exit(0)
elif HOW == "raise":
    raise RuntimeError("leaving by an exception")
