"""Finalizers and weakref callbacks run in gcx's automatic collections, with
gcx installed and no collect() anywhere (run by tests/test_installed.py).

    python finalizers.py WHERE

WHERE: ``main`` (the main thread makes the garbage and churns) or ``thread``
(a worker does, while the main thread sits in join()).  The garbage: 1000
cycles of a Node with __del__ and a Node with a weakref (with a callback)
that outlives the cycle; then 200,000 plain garbage cycles so automatic
collections happen.  Reports deleted and callbacks (how many ran),
collections (gcx's, during the run), main (whether any ran on the main
thread) and others (on how many threads other than the main thread and the
worker they ran).
"""
import sys
import threading
import time
import weakref

import gcx
from churnlib import Node, churn, collections, report

gcx.install()
THREADED = {"main": False, "thread": True}[sys.argv[1]]
K = 1000
ran = {"del": 0, "callback": 0, "threads": set()}


class Finalized(Node):
    def __del__(self):
        ran["del"] += 1
        ran["threads"].add(threading.get_ident())


def on_clear(ref):
    ran["callback"] += 1
    ran["threads"].add(threading.get_ident())


refs = []


def work():
    if THREADED:
        time.sleep(0.5)       # until the main thread sits in join()
    for i in range(K):
        a, b = Finalized(), Node()
        a.peer, b.peer = b, a
        refs.append(weakref.ref(b, on_clear))   # the weakref outlives the cycle
    del a, b
    # no collect() anywhere: only gcx's automatic collections
    churn(200_000)


before = collections()
if THREADED:
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    others = ran["threads"] - {threading.get_ident(), worker.ident}
else:
    work()
    others = ran["threads"] - {threading.get_ident()}
report(deleted=ran["del"], callbacks=ran["callback"], collections=collections() - before,
       main=threading.get_ident() in ran["threads"], others=len(others))
