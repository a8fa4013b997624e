"""What gcx's monitoring costs a program with all of it switched on.

Fresh interpreters, gcx installed (automatic collection on), alternately
with monitoring "off" (nothing but what the core always records: a
collection's figures, its pause in the histogram and the ring, a few dozen
instructions, see RESULTS.md), "on" (all of the following), and each of
the following alone:

  - gcx.log_slow_pauses(1000): the log's thread waits; no collection here
    takes a second, so nothing is logged (a fast collection costs the core
    one comparison);
  - gcx.prometheus's collector served by prometheus_client's HTTP server
    and scraped every 0.1 s by a separate process (150 times more often
    than Prometheus' usual 15 s);
  - gcx.otel's instruments read every 0.1 s by the OpenTelemetry SDK's
    periodic reader (into an exporter that drops what it gets);
  - gcx.monitor.watch(1.0) writing its line to /dev/null (two censuses a
    second).

Two measurements per run:

  loop       an allocation-heavy loop (each iteration makes a tuple, a list,
             a dict and an instance, and a two-instance cycle every tenth
             iteration), with gcx's automatic collections: wall and CPU time
  young      200 collect(0) calls, each after 2,000 new containers of which
             1,000 are garbage, on a live heap of 200,000 containers
             (--size default): the median pause; each call must report the
             1,000

Needs gcx's extras in the benchmark's environment: pip install
'gcx[prometheus,otel]' opentelemetry-sdk.
"""
import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

if __package__:
    from . import harness
else:
    import harness

LOOPS = {"small": 100_000, "default": 2_000_000}     # iterations of the loop
HEAP = {"small": 20_000, "default": 200_000}         # live containers for "young"
YOUNG_CALLS = 200
INTERVAL = 0.1                                       # scrapes and OTel readings, s


class Obj:
    pass


def loop(n):
    total = 0
    keep = None
    for i in range(n):
        t = (i, [i], {"k": i})
        o = Obj()
        o.t = t
        keep = o
        if i % 10 == 0:
            a, b = Obj(), Obj()
            a.peer, b.peer = b, a
        total += len(keep.t)
    return total


def young(n):
    """The median collect(0), in seconds, of YOUNG_CALLS calls."""
    import gcx
    heap = [[i] for i in range(n)]
    gcx.collect()
    gcx.disable()
    pauses = []
    for _ in range(YOUNG_CALLS):
        live = [[i] for i in range(999)]
        for _ in range(500):
            a, b = [], []
            a.append(b)
            b.append(a)
        del a, b
        t0 = time.perf_counter()
        got = gcx.collect(0)
        pauses.append(time.perf_counter() - t0)
        if got != 1_000:
            raise SystemExit("collect(0) reported %d collected, expected 1000" % got)
        del live
    gcx.enable()
    del heap
    return statistics.median(pauses)


PARTS = ("slow", "prometheus", "otel", "watch")


def monitoring_on(parts):
    """Switch the given kinds of monitoring on; returns the functions that
    switch them off (each returns how many scrapes it saw, or 0)."""
    import gcx
    import gcx.monitor
    stops = []
    if "slow" in parts:
        slow = gcx.log_slow_pauses(1000)
        stops.append(lambda: slow.stop() or 0)
    if "prometheus" in parts:
        import gcx.prometheus
        import prometheus_client
        registry = prometheus_client.CollectorRegistry()
        gcx.prometheus.register(registry)
        server, _ = prometheus_client.start_http_server(0, addr="127.0.0.1",
                                                        registry=registry)
        url = "http://127.0.0.1:%d/metrics" % server.server_port
        scraper = subprocess.Popen([sys.executable, __file__, "--scrape", url],
                                   stdout=subprocess.PIPE, text=True)
        if scraper.stdout.readline().strip() != "scraping":
            raise SystemExit("the scraper did not start")

        def stop_prometheus():
            scraper.terminate()
            scrapes = int(scraper.communicate()[0].split()[-1])
            server.shutdown()
            return scrapes
        stops.append(stop_prometheus)
    if "otel" in parts:
        import gcx.otel
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import (MetricExporter, MetricExportResult,
                                                      PeriodicExportingMetricReader)

        class Dropping(MetricExporter):
            """An exporter that drops what it gets."""

            def export(self, metrics_data, timeout_millis=10_000, **kwargs):
                return MetricExportResult.SUCCESS

            def force_flush(self, timeout_millis=10_000):
                return True

            def shutdown(self, timeout_millis=30_000, **kwargs):
                pass
        provider = MeterProvider(metric_readers=[PeriodicExportingMetricReader(
            Dropping(), export_interval_millis=INTERVAL * 1e3)])
        gcx.otel.instrument(provider)
        stops.append(lambda: provider.shutdown() or 0)
    if "watch" in parts:
        devnull = open(os.devnull, "w")
        watch = gcx.monitor.watch(1.0, file=devnull)
        stops.append(lambda: watch.stop() or devnull.close() or 0)
    return stops


def scrape_forever(url):
    """The scraper process: GET url every INTERVAL seconds until killed;
    says "scraping" after the first scrape, and prints how many scrapes it
    made when terminated."""
    import signal
    n = [0]

    def done(*_):
        print(n[0], flush=True)
        os._exit(0)
    signal.signal(signal.SIGTERM, done)
    while True:
        with urllib.request.urlopen(url, timeout=60) as r:
            r.read()
        n[0] += 1
        if n[0] == 1:
            # only once the endpoint answered: every run is scraped at least
            # once, however short it is (--size small)
            print("scraping", flush=True)
        time.sleep(INTERVAL)


def child(variant, size):
    import gcx
    gc.disable()
    gcx.install()
    parts = PARTS if variant == "on" else () if variant == "off" else (variant,)
    stops = monitoring_on(parts)
    c0, t0 = time.process_time(), time.perf_counter()
    checksum = loop(LOOPS[size])
    t1, c1 = time.perf_counter(), time.process_time()
    median_young = young(HEAP[size])
    scrapes = sum(stop() for stop in stops)
    collections = sum(g["collections"] for g in gcx.metrics()["generations"])
    gcx.uninstall()
    print(json.dumps({"wall": t1 - t0, "cpu": c1 - c0, "checksum": checksum,
                      "young": median_young, "scrapes": scrapes,
                      "collections": collections, "gcx_file": gcx._gcx.__file__}))


VARIANTS = ("off", "on") + PARTS
LABELS = {"on": "all of it", "slow": "slow-pause log", "prometheus": "Prometheus",
          "otel": "OpenTelemetry", "watch": "watch"}


def run(args, report):
    reps = harness.reps_for(args, small=5, default=7)
    runs = {v: [] for v in VARIANTS}
    for rep in range(reps):
        for variant in (VARIANTS if rep % 2 == 0 else VARIANTS[::-1]):
            harness.progress("run %d of %d, monitoring: %s" % (rep + 1, reps, variant))
            r = harness.run_child(__file__, "--child", variant, "--size", args.size)
            harness.check_same_gcx(r)
            runs[variant].append(r)
    if len({r["checksum"] for rs in runs.values() for r in rs}) != 1:
        raise harness.BenchmarkError("the loop's checksums differ")
    for variant in ("on", "prometheus"):
        if min(r["scrapes"] for r in runs[variant]) < 1:
            raise harness.BenchmarkError("a run with Prometheus on was never scraped")
    key = harness.CLOCK if harness.CLOCK == "wall" else "cpu"
    for variant in VARIANTS[1:]:
        report.add(harness.Comparison(
            "allocation loop, %s iterations: %s" % (format(LOOPS[args.size], ","),
                                                   LABELS[variant]),
            "loop time (%s)" % key, "ms", 1e3,
            [r[key] for r in runs["off"]], [r[key] for r in runs[variant]],
            {"collections": [r["collections"] for r in runs[variant]],
             "scrapes": [r["scrapes"] for r in runs[variant]]}))
    for variant in VARIANTS[1:]:
        report.add(harness.Comparison(
            "collect(0) of 2,000 new on %s live: %s" % (format(HEAP[args.size], ","),
                                                      LABELS[variant]),
            "median pause", "\u00b5s", 1e6,
            [r["young"] for r in runs["off"]], [r["young"] for r in runs[variant]]))
    report.notes.append("off: gcx installed, no monitoring beyond the core's own "
                        "recording; the gcx column: monitoring on, all of it or one "
                        "part (slow-pause log; Prometheus scraped every %g s; "
                        "OpenTelemetry read every %g s; watch every 1 s); scrapes per "
                        "run with all of it: %s"
                        % (INTERVAL, INTERVAL, [r["scrapes"] for r in runs["on"]]))


def configure(p):
    p.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--scrape", metavar="URL", help=argparse.SUPPRESS)


if __name__ == "__main__":
    if "--scrape" in sys.argv:
        scrape_forever(sys.argv[sys.argv.index("--scrape") + 1])
    elif "--child" in sys.argv:
        p = harness.parser(__doc__)
        configure(p)
        a = p.parse_args()
        child(a.child, a.size)
    else:
        harness.main("monitor", __doc__, run, configure, base_label="off")
