"""An exception that passes through a frame of gcx's own code and is kept
by the frame that catches it, recorded with gcx.record_cycles() (run by
tests/test_report_program.py, which reads the JSON report printed last).

gcx.no_cycles() used as a decorator runs the function from a frame of
gcx's (gcx/testing.py); the exception's traceback holds that frame, whose
caller is the catching frame: the cycle is the program's, the frame in it
is not.
"""
import json

import gcx


@gcx.no_cycles()
def failing():
    raise KeyError("x")


def catch():
    try:
        failing()
    except KeyError as exc:
        kept = exc            # the frame holds the exception holding the frame
    return kept is not None


gcx.collect()
with gcx.record_cycles(collect=True) as report:
    for _ in range(3):
        catch()
print(report.json())
