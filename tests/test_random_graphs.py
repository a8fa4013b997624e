"""Seeded random object graphs: gcx must observe exactly what the stdlib does.

Each seed builds a few dozen objects of mixed kinds (plain instances,
instances with ``__del__``, self-resurrecting instances, ``__slots__``
instances, finalizers that raise, lists, dicts, tuples), wires random strong
edges between them, hangs weakrefs (some with callbacks) inside the graph and
outside it, keeps a random subset alive as external roots, then runs a random
sequence of "drop a root" and "collect(generation)" steps ending with a full
collection.  The graph is built twice from the same seed: under the stdlib
first, then under ``impl``; the outcomes must be equal.

For the stdlib run the test also checks the outcome against a model of the
graph (``problems`` must be empty), so the comparison cannot pass vacuously:
nothing reachable from the roots is finalized or torn down, everything
finalizable that is unreachable from the roots and from resurrected objects is
finalized exactly once, and external callbacks fire exactly for those objects.
"""
import os
import functools
import gc
import random
import weakref

import pytest

import scenarios as S

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("frozen_heap")]

# GCX_RANDOM_SEEDS seeds (100 by default), from GCX_RANDOM_FIRST_SEED (0):
# CI runs 0-99 in the README's run and a window of 20 further seeds on each
# other interpreter and build (.ci/run), 200 in all.
FIRST_SEED = int(os.environ.get("GCX_RANDOM_FIRST_SEED", "0"))
SEEDS = range(FIRST_SEED, FIRST_SEED + int(os.environ.get("GCX_RANDOM_SEEDS", "100")))

# kind -> weight; instance-like kinds hold edges as attributes e0, e1, ...
KINDS = {"plain": 4, "fin": 4, "phoenix": 1, "slotted": 1, "raiser": 0.4,
         "list": 4, "dict": 3, "tuple": 2}
INSTANCE_KINDS = {"plain", "fin", "phoenix", "raiser"}
WEAKREFABLE = INSTANCE_KINDS | {"slotted"}
FINALIZABLE = {"fin", "phoenix", "slotted", "raiser"}
MISSING = object()


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph(impl, seed):
    scenario = functools.partial(random_graph, seed)
    want = S.run(scenario, gc)
    if impl is gc:
        assert want["problems"] == [], want
    got = S.run(scenario, impl)
    assert got == want


# ---------------------------------------------------------------- the plan

class Spec:
    """The seed's plan: node kinds, edges, weakrefs, roots and steps."""

    def __init__(self, seed):
        rng = random.Random(seed)
        n = rng.randint(20, 60)
        names, weights = zip(*KINDS.items())
        self.kinds = rng.choices(names, weights, k=n)
        # Tuples are built last, from their final edges, so a tuple may only
        # point at non-tuple nodes or at tuples built before it.
        self.edges = []
        for i, kind in enumerate(self.kinds):
            k = 1 if kind == "slotted" else rng.choice([0, 1, 1, 2, 2, 3])
            targets = [rng.randrange(n) for _ in range(k)]
            if kind == "tuple":
                targets = [t for t in targets
                           if self.kinds[t] != "tuple" or t < i]
                if not targets:  # () is a shared singleton: use a list
                    self.kinds[i] = "list"
            self.edges.append(targets)
        # weakrefs stored inside the graph: holder -> (target, has_callback)
        refable = [i for i, k in enumerate(self.kinds) if k in WEAKREFABLE]
        self.inner_refs = {}
        for i, kind in enumerate(self.kinds):
            if kind in ("slotted", "tuple") or not refable:
                continue
            if rng.random() < 0.2:
                self.inner_refs[i] = (rng.choice(refable), rng.random() < 0.7)
        # external weakrefs with callbacks (every weakrefable node is also
        # watched without a callback)
        self.outer_callbacks = {i for i in refable if rng.random() < 0.3}
        self.labels = [f"{k}{i}" for i, k in enumerate(self.kinds)]
        root_share = rng.choice([0.0, 0.05, 0.1, 0.2])
        self.roots = [i for i in range(n) if rng.random() < root_share]
        # collect(0)/(1) between two building batches puts nodes in different
        # generations
        self.split = rng.randrange(n) if rng.random() < 0.5 else None
        self.split_generation = rng.choice([0, 1])
        self.steps = []
        live_roots = len(self.roots)
        for _ in range(rng.randint(0, 6)):
            if live_roots and rng.random() < 0.6:
                self.steps.append(("drop", rng.randrange(live_roots)))
                live_roots -= 1
            else:
                self.steps.append(("collect", rng.choice([0, 0, 1, 2])))
        self.steps.append(("collect", 2))

    def reachable(self, starts):
        """Indices reachable from ``starts`` through strong edges."""
        seen, todo = set(), list(starts)
        while todo:
            i = todo.pop()
            if i not in seen:
                seen.add(i)
                todo.extend(self.edges[i])
        return seen


# ---------------------------------------------------------------- building

def _node_classes(ctx):
    class Raiser(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            raise RuntimeError(f"raised by {self.label}")
    return {"plain": ctx.Plain, "fin": ctx.Fin, "phoenix": ctx.Phoenix,
            "slotted": ctx.Slotted, "raiser": Raiser}


def _build(spec, ctx, gc):
    """Build the graph; return (roots, ids, split_collect_result).

    ``ids`` maps id() of every node to its label; it is read only for objects
    reached from live roots, which are alive, so the ids are still theirs.
    """
    classes = _node_classes(ctx)
    n = len(spec.kinds)
    nodes = [None] * n
    split_result = None
    for i, kind in enumerate(spec.kinds):
        if i == spec.split:
            split_result = gc.collect(spec.split_generation)
        if kind in classes:
            nodes[i] = classes[kind](spec.labels[i])
        elif kind == "list":
            nodes[i] = []
        elif kind == "dict":
            nodes[i] = {}
    for i, kind in enumerate(spec.kinds):
        if kind == "tuple":
            nodes[i] = tuple(nodes[t] for t in spec.edges[i])
    for i, kind in enumerate(spec.kinds):
        node, targets = nodes[i], [nodes[t] for t in spec.edges[i]]
        if kind in INSTANCE_KINDS:
            for j, t in enumerate(targets):
                setattr(node, f"e{j}", t)
        elif kind == "slotted":
            node.other = targets[0]
        elif kind == "list":
            node.extend(targets)
        elif kind == "dict":
            node.update((f"e{j}", t) for j, t in enumerate(targets))
    for i, (t, has_cb) in spec.inner_refs.items():
        cb = ctx.callback(f"inner{i}") if has_cb else None
        wr = weakref.ref(nodes[t], cb)
        if spec.kinds[i] in INSTANCE_KINDS:
            nodes[i].w0 = wr
        elif spec.kinds[i] == "list":
            nodes[i].append(wr)
        else:
            nodes[i]["w0"] = wr
    for i, kind in enumerate(spec.kinds):
        if kind in WEAKREFABLE:
            ctx.watch(nodes[i], spec.labels[i], callback=False)
            if i in spec.outer_callbacks:
                ctx.watch(nodes[i], "cb:" + spec.labels[i])
    ids = {id(node): spec.labels[i] for i, node in enumerate(nodes)}
    roots = [nodes[i] for i in spec.roots]
    return roots, ids, split_result


# ---------------------------------------------------------------- observing

def _describe_edge(obj, ids):
    if isinstance(obj, weakref.ref):
        target = obj()
        return "wr:" + ("dead" if target is None else ids.get(id(target), "?"))
    return ids.get(id(obj), type(obj).__name__)


def _current_edges(obj, kind, spec_edges, ids):
    """The node's outgoing references as labels, read without side effects
    (no __dict__ access: that would materialize a dict on 3.13)."""
    if kind in INSTANCE_KINDS:
        names = [f"e{j}" for j in range(len(spec_edges))] + ["w0"]
        values = [getattr(obj, name, MISSING) for name in names]
        return [_describe_edge(v, ids) for v in values if v is not MISSING]
    if kind == "slotted":
        return [_describe_edge(getattr(obj, "other", None), ids)]
    if kind == "dict":
        return [_describe_edge(v, ids) for v in obj.values()]
    return [_describe_edge(v, ids) for v in obj]


def _reachable_report(starts, spec, ids):
    """[label, edges] for every node reachable from ``starts``, by walking
    the real objects (a node torn down by mistake shows missing edges)."""
    by_label = {label: i for i, label in enumerate(spec.labels)}
    seen, todo, report = set(), list(starts), []
    while todo:
        obj = todo.pop()
        label = ids.get(id(obj))
        if label is None or label in seen:
            continue
        seen.add(label)
        i = by_label[label]
        kind = spec.kinds[i]
        report.append([label, _current_edges(obj, kind, spec.edges[i], ids)])
        if kind in INSTANCE_KINDS:
            todo.extend(getattr(obj, f"e{j}", None) for j in range(len(spec.edges[i])))
        elif kind == "slotted":
            todo.append(obj.other)
        elif kind == "dict":
            todo.extend(v for k, v in obj.items() if k != "w0")
        else:
            todo.extend(v for v in obj if not isinstance(v, weakref.ref))
    return sorted(report)


# ---------------------------------------------------------------- scenario

def random_graph(seed, gc, ctx):
    spec = Spec(seed)
    roots, ids, split_result = _build(spec, ctx, gc)
    root_indices = list(spec.roots)
    returns = []
    for step, arg in spec.steps:
        if step == "drop":
            del roots[arg]
            del root_indices[arg]
        else:
            returns.append(gc.collect(arg))

    saved_labels = S.describe_all(ctx.saved)
    reachable = _reachable_report(list(roots) + list(ctx.saved), spec, ids)
    alive = ctx.alive()
    events = ctx.counts()
    problems = _check_model(spec, root_indices, saved_labels, reachable, events)

    # drop everything; full collections must finalize the rest (a phoenix
    # reachable until now resurrects once more: drop it and collect again)
    del roots[:]
    final = []
    while ctx.saved or not final:
        ctx.saved.clear()
        final.append(gc.collect())
    final_events = ctx.counts()
    problems += _check_final(spec, final_events, ctx.alive())
    return {"split_collect": split_result, "returns": returns,
            "saved": saved_labels, "reachable": reachable, "alive": alive,
            "events_before_drop": events, "final_collect": final,
            "alive_at_end": ctx.alive(), "garbage": S.describe_all(gc.garbage),
            "problems": problems}


def _check_model(spec, root_indices, saved_labels, reachable, events):
    """What CPython 3.13's rules imply, whatever the version's details."""
    problems = []
    label_index = {label: i for i, label in enumerate(spec.labels)}
    from_roots = spec.reachable(root_indices)
    from_saved = spec.reachable(label_index[s] for s in saved_labels)
    live = from_roots | from_saved
    dels = {label: n for kind, label, n in events if kind == "del"}
    callbacks = {label[3:]: n for kind, label, n in events
                 if kind == "wrcb" and label.startswith("cb:")}
    for label, n in dels.items():
        if n != 1:
            problems.append(f"{label}: __del__ ran {n} times")
    for i, kind in enumerate(spec.kinds):
        label = spec.labels[i]
        if kind in FINALIZABLE:
            if i in from_roots and label in dels:
                problems.append(f"{label}: finalized while reachable from a root")
            if i not in live and dels.get(label) != 1:
                problems.append(f"{label}: unreachable but not finalized once")
        if i in spec.outer_callbacks:
            if i in from_roots and label in callbacks:
                problems.append(f"{label}: callback ran while reachable")
            if i not in live and callbacks.get(label) != 1:
                problems.append(f"{label}: unreachable but callback ran "
                                f"{callbacks.get(label, 0)} times")
    # every reachable node keeps its strong edges
    by_label = dict((label, edges) for label, edges in reachable)
    for i in live:
        label = spec.labels[i]
        if label not in by_label:
            problems.append(f"{label}: reachable in the model, not found")
            continue
        want = sorted(spec.labels[t] for t in spec.edges[i])
        got = sorted(e for e in by_label[label] if not e.startswith("wr:"))
        if got != want:
            problems.append(f"{label}: edges {got}, expected {want}")
    return problems


def _check_final(spec, events, alive):
    problems = []
    dels = {label: n for kind, label, n in events if kind == "del"}
    for i, kind in enumerate(spec.kinds):
        if kind in FINALIZABLE and dels.get(spec.labels[i]) != 1:
            problems.append(f"{spec.labels[i]}: finalized "
                            f"{dels.get(spec.labels[i], 0)} times in all")
    if alive:
        problems.append(f"still alive at the end: {alive}")
    return problems
