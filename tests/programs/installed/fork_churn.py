"""fork() in the middle of allocation churn, with gcx installed (run by
tests/test_installed.py).

    python fork_churn.py ROUNDS

A worker thread makes garbage cycles without pause while the main thread
forks ROUNDS times at random moments, so that a collection the parent had
queued (and not yet run) is often pending when the fork happens.  Each
child, where only the forking thread survives, must still collect
automatically: it makes cycles of its own and checks, by weak references,
that automatic collection freed them; its table must pass the core's
checker, and gcx's records must name exactly what CPython tracks.  Each
child exits 0 on success; the parent prints "OK ROUNDS" when every child
did.
"""
import os
import random
import sys
import threading
import weakref

import gcx
from gcx import _gcx, _stdlib


class Node:
    pass


def churn(stop):
    while not stop.is_set():
        for _ in range(2000):
            a = Node()
            a.b = Node()
            a.b.a = a


def in_child():
    before = gcx.get_stats()[0]["collections"]
    refs = []
    for i in range(20_000):
        a = Node()
        a.self = a
        if i % 500 == 0:
            refs.append(weakref.ref(a))
    del a
    # A cycle still alive must have been promoted while it was reachable
    # (a collection ran between its birth and its last use); one left in
    # generation 0 is one the child's automatic collection missed.
    young = {id(o) for o in gcx.get_objects(0)}
    missed = sum(r() is not None and id(r()) in young for r in refs)
    if missed > 1:       # the last one may be younger than the last collection
        print(f"child: {missed} of {len(refs)} cycles left in generation 0 "
              f"by automatic collection", file=sys.stderr)
        os._exit(1)
    if gcx.get_stats()[0]["collections"] == before:
        print("child: no automatic collection ran", file=sys.stderr)
        os._exit(1)
    _gcx.check()
    # automatic collection off for the comparison; where CPython's own
    # trigger served (src/tracer.c, K1), that also thaws CPython's lists
    # whole, which the stdlib's get_objects() reads
    gcx.disable()
    mine = gcx.get_objects()
    stdlib = _stdlib.get_objects()       # lists `mine` too
    ours = {id(o) for o in mine} | {id(mine)}
    theirs = {id(o) for o in stdlib}
    if ours != theirs:
        print(f"child: records differ from CPython's list ({len(ours - theirs)} extra, "
              f"{len(theirs - ours)} missing)", file=sys.stderr)
        os._exit(1)
    os._exit(0)


def main(rounds):
    gcx.install()
    gcx.set_threshold(300)
    rng = random.Random(7)
    stop = threading.Event()
    worker = threading.Thread(target=churn, args=(stop,))
    worker.start()
    failed = 0
    try:
        for _ in range(rounds):
            for _ in range(rng.randrange(1, 3000)):
                x = [Node()]
                x.append(x)
            pid = os.fork()
            if pid == 0:
                stop.set()   # (the child has no worker; this is the parent's event's copy)
                in_child()
            _, status = os.waitpid(pid, 0)
            failed += os.waitstatus_to_exitcode(status) != 0
    finally:
        stop.set()
        worker.join()
    if failed:
        sys.exit(f"{failed} of {rounds} children failed")
    print("OK", rounds)


if __name__ == "__main__":
    main(int(sys.argv[1]))
