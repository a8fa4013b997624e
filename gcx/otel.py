"""gcx's figures as OpenTelemetry metrics (pip install 'gcx[otel]'): the
OpenTelemetry metrics API only; any SDK or exporter the program sets up
reads them.

    import gcx.otel
    gcx.otel.instrument()        # the global MeterProvider, or pass one

Instruments, with the attribute ``cpython.gc.generation`` (0, 1, 2):

cpython.gc.collections            counter {collection}   } the CPython GC
cpython.gc.collected_objects      counter {object}       } semantic
cpython.gc.uncollectable_objects  counter {object}       } conventions
gcx.gc.duration                   histogram s: collection pauses, with
                                  gcx.PAUSE_BUCKETS as bucket boundaries
gcx.gc.examined_objects           counter {object}: objects the collections
                                  examined
gcx.gc.objects                    up-down counter {object}: containers in
                                  the generation now

The counters are observable instruments: their callbacks read
gcx.metrics() when a reader collects.  The OpenTelemetry API has no
observable histogram, so the duration histogram is a synchronous one, fed
from the same callbacks (never from inside a collection, which runs no
Python code for it): each pause recorded in gcx's histogram since the last
reading is recorded with the mean duration of the pauses that fell in its
bucket since then.  Bucket counts, count and sum are gcx's exactly; min and
max are those means, within the right bucket.  That is one record() per
collection, about 9 microseconds each with the SDK, in the reader's thread:
instrument(duration=False) leaves the histogram out.
"""

from __future__ import annotations

import math
import typing

try:
    from opentelemetry import metrics as otel_metrics
except ImportError as exc:
    raise ImportError("gcx.otel needs the OpenTelemetry API: pip install 'gcx[otel]'",
                      name=exc.name) from exc

from ._version import __version__
from .monitor import PAUSE_BUCKETS, metrics

if typing.TYPE_CHECKING:
    from collections.abc import Iterable

    from opentelemetry.metrics import CallbackOptions, Observation

    from ._gcx import _GenerationMetrics, _Metrics

__all__ = ["instrument", "Instruments", "GENERATION"]

GENERATION = "cpython.gc.generation"


class Instruments:
    """The instruments instrument() created, and the state of the duration
    histogram's feed."""

    def __init__(self, meter: otel_metrics.Meter, duration: bool = True) -> None:
        self.meter = meter
        n = len(PAUSE_BUCKETS)
        generations = metrics()["generations"]
        # what was fed already: per generation, cumulative counts and seconds
        self._fed_counts = [[0] * n for _ in generations]
        self._fed_seconds = [[0.0] * n for _ in generations]
        self.duration: otel_metrics.Histogram | None = None
        if duration:
            self.duration = meter.create_histogram(
                "gcx.gc.duration", unit="s",
                description="Duration of each gcx collection (its pause).",
                explicit_bucket_boundaries_advisory=list(PAUSE_BUCKETS[:-1]))
        self.collections = meter.create_observable_counter(
            "cpython.gc.collections",
            [self._observe(lambda gen: gen["collections"], feed=duration)],
            unit="{collection}",
            description="The number of times a generation was collected since "
                        "interpreter start.")
        self.collected = meter.create_observable_counter(
            "cpython.gc.collected_objects", [self._observe(lambda gen: gen["collected"])], unit="{object}",
            description="The total number of objects collected inside a generation "
                        "since interpreter start.")
        self.uncollectable = meter.create_observable_counter(
            "cpython.gc.uncollectable_objects", [self._observe(lambda gen: gen["uncollectable"])],
            unit="{object}",
            description="The total number of objects which were found to be "
                        "uncollectable inside a generation since interpreter start.")
        self.examined = meter.create_observable_counter(
            "gcx.gc.examined_objects", [self._observe(lambda gen: gen["candidates"])], unit="{object}",
            description="Objects examined by collections of the generation.")
        self.objects = meter.create_observable_up_down_counter(
            "gcx.gc.objects", [self._observe(lambda gen: gen["objects"])], unit="{object}",
            description="Containers in the generation now, by gcx's records.")

    def _observe(self, figure: typing.Callable[[_GenerationMetrics], int], feed: bool = False
                 ) -> typing.Callable[[CallbackOptions], Iterable[Observation]]:
        """A callback observing figure(generation's metrics) per generation;
        the one of cpython.gc.collections also feeds the histogram."""
        def callback(options: CallbackOptions) -> Iterable[Observation]:
            m = metrics()
            if feed:
                self._feed(m)
            return [otel_metrics.Observation(figure(gen), {GENERATION: g})
                    for g, gen in enumerate(m["generations"])]
        return callback

    def _feed(self, m: _Metrics) -> None:
        """Record into the duration histogram the pauses gcx recorded since
        the last call (module docstring)."""
        for g, gen in enumerate(m["generations"]):
            self._feed_generation(g, gen)

    def _feed_generation(self, g: int, gen: _GenerationMetrics) -> None:
        assert self.duration is not None
        counts, seconds = gen["pause_counts"], gen["pause_seconds"]
        fed_counts, fed_seconds = self._fed_counts[g], self._fed_seconds[g]
        attributes = {GENERATION: g}
        below_n, below_s, fed_below_n, fed_below_s = 0, 0.0, 0, 0.0
        for b, bound in enumerate(PAUSE_BUCKETS):
            # this bucket alone: cumulative now minus cumulative below it,
            # new since the last feed
            n = (counts[b] - below_n) - (fed_counts[b] - fed_below_n)
            s = (seconds[b] - below_s) - (fed_seconds[b] - fed_below_s)
            below_n, below_s = counts[b], seconds[b]
            fed_below_n, fed_below_s = fed_counts[b], fed_seconds[b]
            if n <= 0:
                continue
            low = PAUSE_BUCKETS[b - 1] if b else 0.0
            mean = min(max(s / n, math.nextafter(low, math.inf)), bound)
            for _ in range(n):
                self.duration.record(mean, attributes)
        self._fed_counts[g] = list(counts)
        self._fed_seconds[g] = list(seconds)


def instrument(meter_provider: otel_metrics.MeterProvider | None = None, *,
               duration: bool = True) -> Instruments:
    """Create gcx's instruments (module docstring) on a meter named "gcx"
    of ``meter_provider`` (default: the global one,
    opentelemetry.metrics.get_meter_provider()) and return them.  Call it
    once per provider: instruments cannot be removed, and a second set
    would report the same figures twice.

    duration=False leaves the duration histogram out: it is the one part
    that costs in proportion to the collections, one Histogram.record() per
    collection at each reading (about 9 microseconds each with the SDK,
    benchmarks/RESULTS.md), where the rest costs a fixed amount per
    reading."""
    if meter_provider is not None and not callable(getattr(meter_provider, "get_meter", None)):
        raise TypeError("meter_provider must be an OpenTelemetry MeterProvider or None, "
                        f"not {type(meter_provider).__name__}")
    if not isinstance(duration, bool):
        raise TypeError(f"duration must be a bool, not {type(duration).__name__}")
    meter = otel_metrics.get_meter("gcx", __version__, meter_provider)
    return Instruments(meter, duration)
