"""A child forked from a process with gcx installed (and a helper thread
running) keeps collecting, and so does the parent
(run by tests/test_installed.py).

    python fork.py CYCLES

The parent churns CYCLES garbage cycles (so gcx collects and starts its
helper thread), starts a thread churning as many, and forks.  The child
churns CYCLES cycles on its main thread, then 4 * CYCLES on a worker while
its main thread sits in join() (its own helper must collect), and writes
[installed, collections, main peak, worker peak] as JSON to the parent
through a pipe.  The parent churns CYCLES more and reports child (that
list), status (the child's exit status), parent_collections and
parent_peak (most Nodes alive at once).
"""
import json
import os
import sys
import threading
import warnings

import gcx
from churnlib import churn, collections, report

gcx.install()
CYCLES = int(sys.argv[1])
churn(CYCLES)                     # the parent collects (and starts its helper)
threading.Thread(target=churn, args=(CYCLES,)).start()


def child():
    before = collections()
    main_peak = churn(CYCLES)
    blocked_peak = [0]

    def work():
        blocked_peak[0] = churn(4 * CYCLES)
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()                 # the child's own helper must collect
    line = json.dumps([gcx.is_installed(), collections() - before,
                       main_peak, blocked_peak[0]])
    os.write(1, (line + "\n").encode())


with warnings.catch_warnings():
    # The helper thread makes the process multi-threaded as far as
    # os.fork()'s check is concerned.
    warnings.simplefilter("ignore", DeprecationWarning)
    r, w = os.pipe()
    pid = os.fork()
if pid == 0:
    os.close(r)
    os.dup2(w, 1)
    try:
        child()
        code = 0
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    os._exit(code)
os.close(w)
with os.fdopen(r) as pipe:
    child_line = pipe.read()
_, status = os.waitpid(pid, 0)
before = collections()
parent_peak = churn(CYCLES)       # the parent still collects after the fork
report(child=json.loads(child_line), status=os.waitstatus_to_exitcode(status),
       parent_collections=collections() - before, parent_peak=parent_peak)
