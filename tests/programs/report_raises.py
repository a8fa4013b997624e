"""A program that keeps an exception in a global and then fails, for
``gcx report`` (run by tests/test_report_program.py).

    gcx report [--at-exit] --json - report_raises.py

The kept exception's traceback holds this module's frame, whose caller is
runpy's frame, whose caller is gcx's: a report must show the program's
cycle without them.  Then an uncaught exception ends the program (exit
status 1) after a function made GROUPS cycles of its own: an exception kept
by its own frame.
"""
GROUPS = 5


def work():
    raise KeyError("kept")


def fail():
    try:
        work()
    except KeyError as exc:
        caught = exc          # the frame holds the exception holding the frame
    return caught is not None


try:
    work()
except KeyError as exc:
    saved = exc
for _ in range(GROUPS):
    fail()
raise ValueError("the program fails")
