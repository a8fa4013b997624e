"""What ``import gcx`` and ``gcx.install()`` load (run by tests/test_api.py).

    python import_cost.py

Prints, on four lines: the names of the modules that ``import gcx`` and
``gcx.install()`` added to sys.modules, separated by spaces; then how many
times they compiled Python source (the "compile" audit event: the core's
probes and self-tests are a module, gcx/_probes.py, whose bytecode the
import system caches); then whether typing is loaded once gcx.Pause has
been used (it is made on first use); then how many threads they started
(the "_thread.start_*" audit events).
"""
import sys

compiled = []
threads = []
sys.addaudithook(lambda event, args: compiled.append(args) if event == "compile" else None)
sys.addaudithook(lambda event, args: threads.append(event)
                 if event.startswith("_thread.start_") else None)
before = set(sys.modules)
import gcx  # noqa: E402  (after the snapshot above, on purpose)

gcx.install()
print(" ".join(sorted(set(sys.modules) - before)))
print(len(compiled))
gcx.Pause
print("typing" in sys.modules)
print(len(threads))
