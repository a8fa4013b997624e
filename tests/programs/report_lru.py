"""functools.lru_cache on methods, whose caches hold the instances they
were called on (``self`` is in every key), for ``gcx report`` (run by
tests/test_report_program.py).

    gcx report --at-exit --json - report_lru.py

Qv and Qw are module classes: their caches keep every instance alive for
as long as the class lives, and are cyclic garbage only when runpy drops
the module after the program ended.  make() also builds a class at run
time with such a method, uses it and drops it: that one is garbage while
the program runs.
"""
import functools

CALLS = 4


class Qv:
    @functools.lru_cache          # bounded (128): the wrapper refers to keys directly
    def g1(self, k):
        return [k]


class Qw:
    @functools.lru_cache(maxsize=None)   # unbounded: keys only in the cache dict
    def h2(self, k):
        return k * 2


def make():
    class Qz:
        @functools.lru_cache(maxsize=None)
        def j3(self, k):
            return k
    for i in range(CALLS):
        Qz().j3(i)


for i in range(CALLS):
    Qv().g1(i)
    Qw().h2(i)
make()
