"""gcx's figures for Prometheus, through prometheus_client (pip install
'gcx[prometheus]').

    import gcx.prometheus, prometheus_client
    gcx.prometheus.register()                 # into prometheus_client.REGISTRY
    prometheus_client.start_http_server(8000)

or from the command line, ``gcx run --metrics-port 8000 script.py``.

The collector reads gcx.metrics() when it is scraped and reports, with a
``generation`` label ("0", "1", "2") where the figure is per generation:

gcx_collection_duration_seconds     histogram (_bucket, _sum, _count) of
                                    collection pauses, gcx.PAUSE_BUCKETS
gcx_collections_total               counter: collections
gcx_collected_objects_total         counter: objects collected
gcx_uncollectable_objects_total     counter: objects found uncollectable
gcx_examined_objects_total          counter: objects the collections examined
gcx_objects                         gauge: containers in each generation now
gcx_frozen_objects                  gauge: containers in the frozen set
gcx_garbage_objects                 gauge: len(gcx.garbage)

Why this cannot deadlock, unlike the python_gc_duration_seconds histogram
prometheus_client once had (prometheus/client_python#322, #371): that one
was recorded from gc.callbacks, Python code run inside every collection,
which took a lock the scraping thread could hold when a collection started.
Here nothing runs inside a collection: gcx records the figures in C as each
collection ends, and a scrape reads them in one call into the core, which
takes no lock.  A collection during a scrape is an ordinary collection.
"""

from __future__ import annotations

import math
import typing

try:
    from prometheus_client.metrics_core import (CounterMetricFamily, GaugeMetricFamily,
                                                HistogramMetricFamily, Metric)
    from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry
    from prometheus_client.utils import floatToGoString
except ImportError as exc:
    raise ImportError("gcx.prometheus needs prometheus_client: "
                      "pip install 'gcx[prometheus]'", name=exc.name) from exc

from .monitor import metrics

if typing.TYPE_CHECKING:
    from ._gcx import _GenerationMetrics, _Metrics

__all__ = ["GcxCollector", "register"]

_GENERATION = ["generation"]

# name, help, the figure in a generation's metrics
_COUNTERS: list[tuple[str, str, typing.Callable[[_GenerationMetrics], int]]] = [
    ("gcx_collections", "Collections of the generation by gcx",
     lambda gen: gen["collections"]),
    ("gcx_collected_objects", "Objects collected by gcx in collections of the generation",
     lambda gen: gen["collected"]),
    ("gcx_uncollectable_objects",
     "Objects found uncollectable by gcx in collections of the generation",
     lambda gen: gen["uncollectable"]),
    ("gcx_examined_objects", "Objects examined by gcx in collections of the generation",
     lambda gen: gen["candidates"]),
]


class GcxCollector(Collector):
    """A prometheus_client collector of gcx's figures (module docstring)."""

    def collect(self) -> typing.Iterator[Metric]:
        return iter(self._families(metrics()))

    def describe(self) -> typing.Iterator[Metric]:
        # the families without samples: registering runs no collect()
        return iter(self._families(None))

    @staticmethod
    def _families(m: _Metrics | None) -> list[Metric]:
        duration = HistogramMetricFamily(
            "gcx_collection_duration", "Pause of each gcx collection, by generation",
            labels=_GENERATION, unit="seconds")
        counters = [CounterMetricFamily(name, doc, labels=_GENERATION)
                    for name, doc, _ in _COUNTERS]
        objects = GaugeMetricFamily("gcx_objects",
                                    "Containers in the generation, by gcx's records",
                                    labels=_GENERATION)
        frozen = GaugeMetricFamily("gcx_frozen_objects", "Containers in gcx's frozen set")
        garbage = GaugeMetricFamily("gcx_garbage_objects",
                                    "Objects in gcx.garbage (gc.garbage when installed)")
        if m is not None:
            bounds = [("+Inf" if math.isinf(b)
                       else floatToGoString(b))  # type: ignore[no-untyped-call]
                      for b in m["pause_buckets"]]
            for g, gen in enumerate(m["generations"]):
                label = [str(g)]
                duration.add_metric(label, list(zip(bounds, gen["pause_counts"])),
                                    gen["duration"])
                for family, (_, _, figure) in zip(counters, _COUNTERS):
                    family.add_metric(label, figure(gen))
                objects.add_metric(label, gen["objects"])
            frozen.add_metric([], m["frozen"])
            garbage.add_metric([], m["garbage"])
        return [duration, *counters, objects, frozen, garbage]


def register(registry: CollectorRegistry | None = None) -> GcxCollector:
    """Register a GcxCollector with ``registry`` (default:
    prometheus_client.REGISTRY, which start_http_server serves) and return
    it; registry.unregister(collector) removes it.  Registering twice in
    one registry raises ValueError, as prometheus_client does for
    duplicated names."""
    if registry is not None and not callable(getattr(registry, "register", None)):
        raise TypeError("registry must be a prometheus_client CollectorRegistry or None, "
                        f"not {type(registry).__name__}")
    collector = GcxCollector()
    (REGISTRY if registry is None else registry).register(collector)
    return collector
