"""The young limit (src/schedule.c G7): with the young trigger moved down to
look often, a pending call that finds generation 0's count at most
threshold 0 and the young list short of the limit's pages (or the count
short of its minimum) never reaches the Python policy; once both are
reached, or the count passes threshold 0, it does.

    python young_limit.py

The policy records every call and collects nothing, so the count only
rises.  Prints "ok CALLS_BELOW CALLS_AT_LIMIT CALLS_PAST_THRESHOLD" or
raises.
"""
import gcx
from gcx import _gcx

calls = []


class Look(gcx.Policy):
    def decide(self, due, due_young):
        calls.append(_gcx.get_count()[0])


def grow(keep, n):
    for _ in range(n):
        keep.append([])


def main():
    gcx.install(policy=Look())
    threshold = gcx.get_threshold()[0]
    keep = []
    gcx.collect()
    _gcx.set_trigger(threshold // 20)
    _gcx.set_young_limit(1 << 40, 0)             # pages never reached
    grow(keep, threshold * 3 // 5)
    below = len(calls)
    _gcx.set_young_limit(1, threshold * 7 // 10)  # pages reached; the count once past 70%
    grow(keep, threshold // 20)
    assert len(calls) == below, (calls, threshold)
    grow(keep, threshold // 5)
    at_limit = len(calls) - below
    assert all(c >= threshold * 7 // 10 for c in calls[below:]), calls
    _gcx.set_young_limit(1 << 40, 0)
    grow(keep, threshold // 2)                    # past threshold 0: every call
    past = len(calls) - below - at_limit
    assert all(c > threshold for c in calls[below + at_limit:]), calls
    gcx.set_policy(None)
    gcx.collect()
    assert below == 0, calls
    assert at_limit >= 2 and past >= 2, (at_limit, past, calls)
    print("ok", below, at_limit, past)


main()
