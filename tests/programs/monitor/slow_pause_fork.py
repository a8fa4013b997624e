"""A forked child logs its own slow collections, through its own pipe and
thread, and the parent goes on logging its own (run by tests/test_monitor.py).

    python slow_pause_fork.py

Prints, one a line: "parent N" after the parent's first collection, "child
N" in the child after its collection, "parent N" after the parent's second;
N is the number of records that logger received in that process.
"""
import logging
import os
import sys
import threading

import gcx

records = []
arrived = threading.Condition()


class Handler(logging.Handler):
    def emit(self, record):
        with arrived:
            records.append(record)
            arrived.notify_all()


def wait_for(n):
    with arrived:
        if not arrived.wait_for(lambda: len(records) >= n, 60):
            sys.exit(f"{os.getpid()}: {len(records)} of {n} records")


log = logging.getLogger("fork-test")
log.propagate = False
log.addHandler(Handler())
gcx.disable()
slow = gcx.log_slow_pauses(0, log)
gcx.collect(0)
wait_for(1)
print("parent", len(records), flush=True)

pid = os.fork()
if pid == 0:
    records.clear()
    gcx.collect(0)
    wait_for(1)
    threading.Event().wait(0.2)       # nothing more arrives
    print("child", len(records), flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit("the child failed")
gcx.collect(0)
wait_for(2)
threading.Event().wait(0.2)
print("parent", len(records), flush=True)
slow.stop()
