"""gcx.recent_pauses() against get_stats(): the pause ring and the
statistics count the same collections (run by tests/test_compare.py).

    python recent_pauses.py

Installs gcx, makes 200,000 pairs of instances in cycles (many automatic
collections), collects generation 1, and prints one JSON line: the pause
records' fields, how many there are and how many collections the
statistics count, get_stats' keys and the stdlib's, whether the pauses'
start times are in order, the time and objects each side counts, the
fewest candidates of a pause, and the last pause's generation.
"""
import gc, json, time
import gcx
# gcx.Pause is made on first use and imports typing, whose allocations can
# set off collections: made here, before gcx collects, not in the middle of
# the reads below (between recent_pauses() and get_stats())
gcx.Pause
# before install(): a collection may be due at once (gcx counts the
# containers its own import made, and in safe mode their deaths go
# unreported), as the stdlib's may be when it is enabled
t0 = time.perf_counter()
gcx.install()

class Pair:
    pass

for _ in range(200_000):
    a, b = Pair(), Pair()
    a.peer, b.peer = b, a
gcx.collect(1)
# the two reads see the same collections: the Pause tuples made between
# them could otherwise set one off (lists mode collects at the stdlib's
# very allocation)
gcx.disable()
pauses = gcx.recent_pauses()
stats = gcx.get_stats()
print(json.dumps({
    "fields": list(pauses[0]._fields),
    "n": len(pauses), "collections": sum(s["collections"] for s in stats),
    "keys": sorted(stats[0]), "stdlib_keys": sorted(gc.get_stats()[0]),
    "starts_ok": all(
        t0 <= p.start <= q.start for p, q in zip(pauses, pauses[1:])),
    "durations": [sum(p.duration for p in pauses if p.generation == g)
                  for g in range(3)],
    "stat_durations": [s.get("duration") for s in stats],
    "collected": sum(p.collected for p in pauses),
    "stat_collected": sum(s["collected"] for s in stats),
    "candidates": min(p.candidates for p in pauses),
    "last_generation": pauses[-1].generation,
}))
