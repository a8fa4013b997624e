"""A request-serving loop over a 1M-container live heap, under collection
policies: where the pauses fall, and what the memory pays for it.

Each run is a fresh interpreter.  It builds the live heap (untimed): 125,000
users, each an instance with a profile dict (a nested dict and list inside),
a tag list and a history list of tuples, grouped into organisations that
list their members and point to a parent organisation (cycles throughout):
about 1M containers.  Then it serves requests, one after the other, as fast
as it can.  A request parses a JSON body (a dict with a list of ten line
items, each a dict with an attribute dict and a list), makes a Request
whose Context points back at it and an Item per line that points back at
the request (cycles), computes a result dict, renders it through a tree of
33 nodes with parent pointers (about 100 containers in cycles), validates
every 50th request (one in eight of those raises, and the request keeps
the exception: its traceback's frame holds the request, a cycle),
serialises the result to JSON, and puts the parsed body and result in a
cache of the last 2,000 requests; every 20th cached entry keeps its request
(a cycle, so it is cyclic garbage once evicted).  The cache is what makes
full collections come: its entries survive long enough to reach the oldest
generation, and leave it as garbage.

Variants (the stdlib ones never import gcx):

  stdlib            the stdlib collector, default thresholds (the base)
  stdlib 50k        gc.set_threshold(50_000, 500, 1000) (the hand tuning
                    blog posts and freqtrade use)
  stdlib freeze     gc.collect(); gc.freeze() after building the heap
  stdlib manual     gc.disable(), and gc.collect() between requests every
                    MANUAL_EVERY requests
  gcx               gcx.install(): the stdlib's rule, gcx's collector
  gcx deferred      install(policy=Policy(full="deferred")), and
                    gcx.safe_point() between requests
  gcx warmup        install(), gcx.warmup() after building the heap
  gcx auto_freeze   install(policy=Policy(auto_freeze=True))
  gcx no_gc         install(), each request inside
                    ``with gcx.no_gc(max_bytes=NO_GC_BUDGET)`` (collections
                    held in the request run as it ends)
  gcx deferred+warmup  both of the above: what a server would combine

Reported per variant, against the stdlib in the same run (ratio variant /
stdlib, spread of the per-run ratios):

  max pause in requests   the longest collection that began inside a
                          request, from the collector's callbacks
  p99 latency, max latency
                          of the requests (a request's own work, timed;
                          safe points, manual collections and the end of a
                          no-GC region fall between requests)
  (pauses and latencies by the wall clock, or with --clock cpu by the
  thread's CPU time, which other processes on a busy machine disturb less)
  full in requests        generation-2 collections begun inside a request
  serving time            all the requests, with what runs between them
  peak RSS                the child's ru_maxrss (the heap is most of it)

Checked: every run serves the same requests and returns the same checksum;
at the end, one collect() (untimed) must leave nothing in gc.garbage.
"""
import argparse
import gc
import json
import random
import time

if __package__:
    from . import harness
else:
    import harness

USERS = {"small": 8_000, "default": 125_000}      # 8 containers each
REQUESTS = {"small": 3_000, "default": 16_000}
CACHE = 2_000              # requests whose body and result stay cached
CYCLIC_EVERY = 20          # every 20th cached entry keeps its request
EXCEPTION_EVERY = 50
MANUAL_EVERY = 2_000       # stdlib manual: gc.collect() every this many requests
NO_GC_BUDGET = 4 << 20     # gcx no_gc: bytes a request may allocate

VARIANTS = ("stdlib", "stdlib 50k", "stdlib freeze", "stdlib manual", "gcx",
            "gcx deferred", "gcx warmup", "gcx auto_freeze", "gcx no_gc",
            "gcx deferred+warmup")


# ---- the live heap --------------------------------------------------------------

class Org:
    __slots__ = ("name", "members", "parent")


class User:
    def __init__(self, uid, org):
        self.uid = uid
        self.org = org
        self.profile = {"name": "user%d" % uid, "email": "u%d@example.org" % uid,
                        "prefs": {"theme": "dark", "langs": ["en", "fr"]}}
        self.tags = ["t%d" % (uid % 7), "g%d" % (uid % 13)]
        self.history = [(uid, "login"), (uid + 1, "view")]


def build_heap(n):
    orgs = []
    for o in range(max(1, n // 1000)):
        org = Org()
        org.name = "org%d" % o
        org.members = []
        org.parent = orgs[o // 10] if o else None
        orgs.append(org)
    users = []
    for uid in range(n):
        org = orgs[uid % len(orgs)]
        user = User(uid, org)
        org.members.append(user)
        users.append(user)
    return orgs, users


# ---- a request ----------------------------------------------------------------------

class Request:
    def __init__(self, doc, user):
        self.doc = doc
        self.user = user
        self.context = Context(self)
        self.error = None


class Context:
    def __init__(self, request):
        self.request = request
        self.values = {"locale": "en", "trace": [request.doc["id"]]}


class Item:
    __slots__ = ("request", "sku", "qty", "price")

    def __init__(self, request, line):
        self.request = request
        self.sku = line["sku"]
        self.qty = line["qty"]
        self.price = line["attrs"]["price"]


class Node:
    """An element of the rendered response: a tree with parent pointers."""
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag, parent, **attrs):
        self.tag = tag
        self.attrs = attrs
        self.children = []
        self.parent = parent
        if parent is not None:
            parent.children.append(self)


def render(result):
    """The result as a tree of 33 nodes (about 100 containers, all in
    cycles), then as text."""
    page = Node("page", None, user=result["user"])
    table = Node("table", page)
    for line in result["lines"]:
        row = Node("tr", table, sku=line["sku"])
        Node("td", row, text=line["sku"])
        Node("td", row, text=str(line["qty"]))
    Node("total", page, text=str(result["total"]))
    out = []
    stack = [page]
    while stack:
        node = stack.pop()
        out.append(node.tag)
        out.extend(str(v) for v in node.attrs.values())
        stack.extend(reversed(node.children))
    return " ".join(out)


def bodies(n_users, count=64):
    rng = random.Random(1234)
    out = []
    for i in range(count):
        doc = {"id": i, "user": rng.randrange(n_users), "action": "checkout",
               "items": [{"sku": "sku-%d" % rng.randrange(10_000), "qty": rng.randrange(1, 5),
                          "attrs": {"price": rng.randrange(100, 10_000) / 100.0,
                                    "tags": ["a", "b"]},
                          "path": ["shop", "cart", str(k)]}
                         for k in range(10)]}
        out.append(json.dumps(doc))
    return out


def check(request):
    if request.doc["id"] % 7 == 3:
        raise ValueError("request %d: rejected line" % request.doc["id"])


def handle(i, body, users, cache):
    doc = json.loads(body)
    request = Request(doc, users[doc["user"]])
    items = [Item(request, line) for line in doc["items"]]
    total = sum(item.qty * item.price for item in items)
    result = {"user": request.user.profile["name"], "total": round(total, 2),
              "lines": [{"sku": item.sku, "qty": item.qty} for item in items]}
    if i % EXCEPTION_EVERY == 0:
        try:
            check(request)
        except ValueError as e:
            request.error = e              # e -> traceback -> this frame -> request
    cache[i] = (doc, result, request) if i % CYCLIC_EVERY == 0 else (doc, result)
    if len(cache) > CACHE:
        del cache[next(iter(cache))]
    return len(json.dumps(result)) + len(render(result))


# ---- a child: one variant ---------------------------------------------------------

def child(variant, size, clock):
    n_users, n_requests = USERS[size], REQUESTS[size]
    texts = bodies(n_users)
    gcx = None
    if variant.startswith("gcx"):
        import gcx
        policy = {"gcx deferred": lambda: gcx.Policy(full="deferred"),
                  "gcx deferred+warmup": lambda: gcx.Policy(full="deferred"),
                  "gcx auto_freeze": lambda: gcx.Policy(auto_freeze=True)}.get(variant)
        gcx.install(policy=policy() if policy else None)
    elif variant == "stdlib 50k":
        gc.set_threshold(50_000, 500, 1000)

    heap = build_heap(n_users)
    users = heap[1]
    if variant == "stdlib freeze":
        gc.collect()
        gc.freeze()
    elif variant in ("gcx warmup", "gcx deferred+warmup"):
        gcx.warmup()
    elif variant == "stdlib manual":
        gc.disable()

    # requests and pauses by the wall clock, or by this thread's CPU time,
    # which other processes on a busy machine disturb less (--clock cpu)
    clock_of = harness.thread_time if clock == "cpu" else time.perf_counter
    log = harness.CollectionLog(gc.callbacks, clock_of)
    safe_point = gcx.safe_point if variant.startswith("gcx deferred") else None
    region = (lambda: gcx.no_gc(max_bytes=NO_GC_BUDGET)) if variant == "gcx no_gc" else None
    exceeded = 0
    cache = {}
    latencies = []
    checksum = 0
    t0 = time.perf_counter()
    for i in range(n_requests):
        body = texts[i % len(texts)]
        if region is not None:
            with region() as r:
                log.inside = True
                s = clock_of()
                checksum += handle(i, body, users, cache)
                latencies.append(clock_of() - s)
                log.inside = False
            exceeded += r.exceeded
            continue
        log.inside = True
        s = clock_of()
        checksum += handle(i, body, users, cache)
        latencies.append(clock_of() - s)
        log.inside = False
        if safe_point is not None:
            safe_point()
        elif variant == "stdlib manual" and (i + 1) % MANUAL_EVERY == 0:
            gc.collect()
    serving = time.perf_counter() - t0
    log.stop()
    result = {
        "checksum": checksum, "serving": serving,
        "p50": harness.percentile(latencies, 50), "p99": harness.percentile(latencies, 99),
        "max_latency": max(latencies),
        "max_pause_in": max(log.pauses(inside=True), default=0.0),
        "max_pause_out": max(log.pauses(inside=False), default=0.0),
        "full_in": len(log.pauses(inside=True, generation=2)),
        "full_out": len(log.pauses(inside=False, generation=2)),
        "collections": len(log.records),
        "collect_time": sum(log.pauses()),
        "exceeded": exceeded,
        "rss": harness.peak_rss_bytes(),
        "gcx_file": gcx._gcx.__file__ if gcx else None,
    }
    if gcx is not None and gcx.get_policy() is not None:
        result["state"] = gcx.get_policy().state()
    del heap, users, cache
    harness.collect_leftovers()
    harness.emit_child(result, without_gcx=gcx is None)


# ---- the parent ----------------------------------------------------------------------

METRICS = (("max pause in requests", "max_pause_in", "ms", 1e3),
           ("p99 latency", "p99", "ms", 1e3),
           ("max latency", "max_latency", "ms", 1e3),
           ("full in requests", "full_in", "", 1),
           ("serving time", "serving", "s", 1),
           ("peak RSS", "rss", "MB", 1 / 2**20))


def run(args, report):
    reps = harness.reps_for(args, small=5, default=5)
    runs = harness.run_variants(__file__, VARIANTS, reps, "--size", args.size,
                                "--clock", args.clock)
    if len({r["checksum"] for rs in runs.values() for r in rs}) != 1:
        raise harness.BenchmarkError("the requests' checksums differ between runs")
    base = runs["stdlib"]
    for name, key, unit, scale in METRICS:
        for variant in VARIANTS[1:]:
            mine = runs[variant]
            detail = None
            if key == "max_pause_in":
                detail = {k: [r[k] for r in mine] for k in
                          ("full_out", "max_pause_out", "collections", "collect_time",
                           "exceeded")}
                detail["state"] = [r.get("state") for r in mine]
            report.add(harness.Comparison(variant, name, unit, scale,
                                          [r[key] for r in base], [r[key] for r in mine],
                                          detail))
    med = harness.statistics.median
    report.notes.append("pauses and latencies by the %s clock" % args.clock)
    report.notes.append(
        "%d users (~%dk containers), %d requests, cache of %d; full collections per run "
        "inside/between requests (medians): %s" % (
            USERS[args.size], USERS[args.size] * 8 // 1000, REQUESTS[args.size], CACHE,
            ", ".join("%s %g/%g" % (v, med([r["full_in"] for r in runs[v]]),
                                    med([r["full_out"] for r in runs[v]]))
                      for v in VARIANTS)))
    report.notes.append(
        "longest collection between requests, ms (medians): " + ", ".join(
            "%s %.1f" % (v, 1e3 * med([r["max_pause_out"] for r in runs[v]]))
            for v in VARIANTS))
    report.notes.append(
        "time in collections per run, s (medians): " + ", ".join(
            "%s %.2f" % (v, med([r["collect_time"] for r in runs[v]])) for v in VARIANTS))
    states = {v: runs[v][0].get("state") for v in VARIANTS if runs[v][0].get("state")}
    for v, st in states.items():
        report.notes.append("%s policy state (first run): collections %s, deferred %d, "
                            "freezes %d, unfreezes %d" % (
                                v, st["collections"], st["deferred_full"], st["freezes"],
                                st["unfreezes"]))
    report.notes.append("gcx no_gc: requests over the %d MB budget per run: %s" % (
        NO_GC_BUDGET >> 20, [r["exceeded"] for r in runs["gcx no_gc"]]))


def configure(p):
    p.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)


if __name__ == "__main__":
    harness.main_variants("policy_serve", __doc__, run, configure,
                          lambda a: child(a.child, a.size, a.clock))
