"""gcx's exporters with the real libraries: gcx.prometheus served by
prometheus_client's own HTTP server, scraped over HTTP and parsed by its own
parser; gcx.otel read by the OpenTelemetry SDK's in-memory reader.  Each
value is checked against gcx.metrics().

Size: ``GCX_STRESS_SCALE`` (default 1.0) scales the number of scrapes taken
while threads collect (40 at 1.0, never fewer than 10)."""
import gc as stdlib_gc
import math
import os
import threading
import urllib.request

import pytest

import gcx

SCRAPES = max(10, round(40 * float(os.environ.get("GCX_STRESS_SCALE", "1.0"))))


class Node:
    pass


def make_cycles(n):
    for _ in range(n):
        a, b = Node(), Node()
        a.peer, b.peer = b, a


def some_collections():
    make_cycles(100)
    gcx.collect(0)
    heap = [[i] for i in range(20_000)]
    gcx.collect(1)
    make_cycles(50)
    gcx.collect()
    del heap


# ------------------------------------------------------------------ Prometheus

@pytest.fixture
def served():
    """A registry holding gcx's collector, served on 127.0.0.1; yields
    scrape(), which fetches and parses it."""
    pytest.importorskip("prometheus_client")
    import prometheus_client
    from prometheus_client.parser import text_string_to_metric_families

    import gcx.prometheus
    registry = prometheus_client.CollectorRegistry()
    gcx.prometheus.register(registry)
    server, thread = prometheus_client.start_http_server(0, addr="127.0.0.1",
                                                         registry=registry)
    url = f"http://127.0.0.1:{server.server_port}/metrics"

    def scrape():
        with urllib.request.urlopen(url, timeout=60) as response:
            assert response.status == 200
            text = response.read().decode()
        return {f.name: f for f in text_string_to_metric_families(text)}
    try:
        yield scrape
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def samples(family, name):
    """{generation label (or None): value} of the samples called name."""
    return {s.labels.get("generation"): s.value for s in family.samples if s.name == name}


def test_scrape_matches_metrics(quiet, served):
    some_collections()
    before = gcx.metrics()
    families = served()
    after = gcx.metrics()
    assert after["pauses_recorded"] == before["pauses_recorded"]     # none in between
    m = after

    hist = families["gcx_collection_duration_seconds"]
    assert hist.type == "histogram" and hist.documentation
    buckets = [s for s in hist.samples if s.name.endswith("_bucket")]
    for g, gen in enumerate(m["generations"]):
        mine = [s for s in buckets if s.labels["generation"] == str(g)]
        assert [float(s.labels["le"]) for s in mine] == m["pause_buckets"]
        assert [s.value for s in mine] == gen["pause_counts"]
        assert samples(hist, "gcx_collection_duration_seconds_count")[str(g)] == \
            gen["collections"]
        assert samples(hist, "gcx_collection_duration_seconds_sum")[str(g)] == gen["duration"]
    assert mine[-1].labels["le"] == "+Inf"

    for family, key in [("gcx_collections", "collections"),
                        ("gcx_collected_objects", "collected"),
                        ("gcx_uncollectable_objects", "uncollectable"),
                        ("gcx_examined_objects", "candidates")]:
        f = families[family]
        assert f.type == "counter" and f.documentation
        assert samples(f, family + "_total") == {
            str(g): gen[key] for g, gen in enumerate(m["generations"])}
    assert m["generations"][0]["collected"] >= 200

    objects = families["gcx_objects"]
    assert objects.type == "gauge"
    seen = samples(objects, "gcx_objects")
    assert set(seen) == {"0", "1", "2"}
    # read while the server thread allocates: between the two readings,
    # give or take what a scrape allocates
    for g, gen in enumerate(m["generations"]):
        low = min(gen["objects"], before["generations"][g]["objects"])
        high = max(gen["objects"], before["generations"][g]["objects"])
        assert low - 1_000 <= seen[str(g)] <= high + 1_000
    assert samples(families["gcx_frozen_objects"], "gcx_frozen_objects") == {None: m["frozen"]}
    assert samples(families["gcx_garbage_objects"], "gcx_garbage_objects") == \
        {None: m["garbage"]}


def test_registering_adds_no_gc_callback(quiet):
    pytest.importorskip("prometheus_client")
    import prometheus_client

    import gcx.prometheus
    callbacks, stdlib_callbacks = list(gcx.callbacks), list(stdlib_gc.callbacks)
    registry = prometheus_client.CollectorRegistry()
    collector = gcx.prometheus.register(registry)
    prometheus_client.generate_latest(registry)
    assert gcx.callbacks == callbacks and stdlib_gc.callbacks == stdlib_callbacks
    with pytest.raises(ValueError):
        gcx.prometheus.register(registry)        # duplicated names
    registry.unregister(collector)
    gcx.prometheus.register(registry)


@pytest.mark.slow
def test_scrapes_while_threads_collect(quiet, served):
    # Collections in other threads, with finalizers that run Python code
    # (where the interpreter may hand the GIL to the server's thread in the
    # middle of a collection), while the endpoint is scraped: no deadlock,
    # and every figure only grows.
    stop = threading.Event()

    class Slow:
        def __del__(self):
            sum(range(200))

    def churn(generation):
        while not stop.is_set():
            for _ in range(50):
                a, b = Slow(), Node()
                a.peer, b.peer = b, a
            make_cycles(200)
            gcx.collect(generation)

    threads = [threading.Thread(target=churn, args=(g,), daemon=True) for g in (0, 1, 2, 0)]
    for t in threads:
        t.start()
    scrapes = []
    errors = []

    def scraper():
        try:
            for _ in range(SCRAPES):
                scrapes.append(served())
        except BaseException as exc:      # reported below, in the test's thread
            errors.append(exc)
    s = threading.Thread(target=scraper, daemon=True)
    s.start()
    s.join(timeout=300)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not s.is_alive(), "the scrapes did not finish: deadlock?"
    assert not errors, errors
    assert len(scrapes) == SCRAPES
    last = {}
    for families in scrapes:
        for name, family in [("gcx_collections_total", "gcx_collections"),
                             ("gcx_collected_objects_total", "gcx_collected_objects"),
                             ("gcx_collection_duration_seconds_count",
                              "gcx_collection_duration_seconds"),
                             ("gcx_collection_duration_seconds_sum",
                              "gcx_collection_duration_seconds")]:
            for g, value in samples(families[family], name).items():
                assert value >= last.get((name, g), 0), (name, g)
                last[name, g] = value
        # each scrape is one reading: the histogram counts its collections
        hist = families["gcx_collection_duration_seconds"]
        assert samples(hist, "gcx_collection_duration_seconds_count") == \
            samples(families["gcx_collections"], "gcx_collections_total")
    final = gcx.metrics()
    assert all(last["gcx_collections_total", str(g)] <= gen["collections"]
               for g, gen in enumerate(final["generations"]))
    assert all(last["gcx_collections_total", g] > 0 for g in "012")


# ------------------------------------------------------------------ OpenTelemetry

@pytest.fixture
def otel():
    """A MeterProvider with an InMemoryMetricReader and gcx's instruments;
    yields read(), {instrument name: metric} of a collection."""
    pytest.importorskip("opentelemetry.sdk.metrics")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    import gcx.otel
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    instruments = gcx.otel.instrument(provider)
    assert instruments.meter is not None

    def read():
        data = reader.get_metrics_data()
        (resource,) = data.resource_metrics
        (scope,) = resource.scope_metrics
        assert scope.scope.name == "gcx" and scope.scope.version == gcx.__version__
        return {m.name: m for m in scope.metrics}
    try:
        yield read
    finally:
        provider.shutdown()


def points(metric):
    return {dict(p.attributes)["cpython.gc.generation"]: p for p in metric.data.data_points}


def check_otel(read):
    result = read()
    m = gcx.metrics()
    semconv = {"cpython.gc.collections": ("{collection}", "collections"),
               "cpython.gc.collected_objects": ("{object}", "collected"),
               "cpython.gc.uncollectable_objects": ("{object}", "uncollectable"),
               "gcx.gc.examined_objects": ("{object}", "candidates")}
    for name, (unit, key) in semconv.items():
        metric = result[name]
        assert metric.unit == unit and metric.description
        assert metric.data.is_monotonic
        assert {g: p.value for g, p in points(metric).items()} == {
            g: gen[key] for g, gen in enumerate(m["generations"])}
    objects = result["gcx.gc.objects"]
    assert not objects.data.is_monotonic and set(points(objects)) == {0, 1, 2}

    duration = result["gcx.gc.duration"]
    assert duration.unit == "s"
    for g, p in points(duration).items():
        gen = m["generations"][g]
        assert list(p.explicit_bounds) == m["pause_buckets"][:-1]
        cumulative = [sum(p.bucket_counts[:i + 1]) for i in range(len(p.bucket_counts))]
        assert cumulative == gen["pause_counts"]
        assert p.count == gen["collections"]
        assert p.sum == pytest.approx(gen["duration"], rel=1e-9)
        bounds = [0.0] + m["pause_buckets"]
        first = next(i for i, n in enumerate(p.bucket_counts) if n)
        last = max(i for i, n in enumerate(p.bucket_counts) if n)
        assert bounds[first] < p.min <= bounds[first + 1]
        assert bounds[last] < p.max <= bounds[last + 1]
    assert {g for g, gen in enumerate(m["generations"]) if gen["collections"]} == \
        set(points(duration))
    return result


def test_otel_instruments_match_metrics(quiet, otel):
    some_collections()
    check_otel(otel)
    # a second reading adds what happened since, once
    for _ in range(30):
        make_cycles(10)
        gcx.collect(0)
    gcx.collect()
    check_otel(otel)
    check_otel(otel)          # nothing new: the same figures


def test_otel_duration_mean_stays_in_bucket():
    # the value each pause is recorded with lies in its bucket, also when
    # rounding pushes the mean of a bucket's seconds past a bound
    pytest.importorskip("opentelemetry.sdk.metrics")
    import gcx.otel
    from gcx.monitor import PAUSE_BUCKETS

    recorded = []

    class Histogram:
        def record(self, value, attributes):
            recorded.append(value)

    inst = gcx.otel.Instruments.__new__(gcx.otel.Instruments)
    n = len(PAUSE_BUCKETS)
    inst._fed_counts, inst._fed_seconds = [[0] * n], [[0.0] * n]
    inst.duration = Histogram()
    b = 3
    bound = PAUSE_BUCKETS[b]
    counts = [0] * b + [3] * (n - b)
    seconds = [0.0] * b + [math.nextafter(3 * bound, math.inf)] * (n - b)
    inst._feed_generation(0, {"pause_counts": counts, "pause_seconds": seconds})
    assert recorded == [bound] * 3


def test_otel_without_the_duration_histogram(quiet):
    pytest.importorskip("opentelemetry.sdk.metrics")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    import gcx.otel
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    try:
        instruments = gcx.otel.instrument(provider, duration=False)
        assert instruments.duration is None
        some_collections()
        (scope,) = reader.get_metrics_data().resource_metrics[0].scope_metrics
        names = {m.name for m in scope.metrics}
        assert "gcx.gc.duration" not in names
        assert {"cpython.gc.collections", "cpython.gc.collected_objects",
                "cpython.gc.uncollectable_objects"} <= names
    finally:
        provider.shutdown()


def test_bad_arguments():
    # what is not a registry or a meter provider: TypeError, before anything is made
    pytest.importorskip("prometheus_client")
    import gcx.prometheus
    for bad in ("x", 5):
        with pytest.raises(TypeError, match="^registry must be a prometheus_client "
                                            "CollectorRegistry or None, not "):
            gcx.prometheus.register(bad)
    pytest.importorskip("opentelemetry.metrics")
    import gcx.otel
    with pytest.raises(TypeError, match="^meter_provider must be an OpenTelemetry "
                                        "MeterProvider or None, not str$"):
        gcx.otel.instrument("x")
    with pytest.raises(TypeError, match="^duration must be a bool, not str$"):
        gcx.otel.instrument(duration="no")
