"""A program whose memory rises in steps, for compare's memory samples (run
by tests/test_compare.py through gcx/compare.py's run_once).

    python memory_steps.py

Four steps of 0.25 s, each keeping 25,000 more lists of one 1 KiB bytes
object; then ends.  Prints nothing.
"""
import time

kept = []
for _ in range(4):
    kept += [[bytes(1024)] for _ in range(25_000)]
    time.sleep(0.25)
