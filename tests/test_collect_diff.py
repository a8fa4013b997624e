"""Differential tests: gcx must be observably identical to the stdlib collector.

Every scenario below runs twice per test: once under the stdlib ``gc`` (the
reference, recomputed fresh each time) and once under ``impl``.  The two
outcomes must be equal.  Where the stdlib's answer is clear from the rules of
CPython 3.13's collector, the scenario also carries a hand-written (partial)
expectation that the stdlib run must meet, so a scenario that observes nothing
cannot pass unnoticed.  Facts that vary between 3.13 patch levels (for example
whether weakrefs created by ``__del__`` run their callbacks) are compared with
the running interpreter's stdlib only.  Where 3.14 or 3.15 changed a fact an
expectation states (the objects some builtins keep, the wording of
unraisable reports, dicts tracked from birth, the callbacks' info), the
scenario says what they do instead (``py314=``, ``py315=``: the keys that
differ from the version before), with the CPython change named.

See scenarios.py for the recording helpers and the rules scenarios follow.
"""
import asyncio
import collections
import functools
import gc
import random
import sys
import types
import weakref

import pytest

import scenarios as S

pytestmark = pytest.mark.usefixtures("frozen_heap")

CASES = []


def case(expected=None, py314=None, py315=None, pinned=()):
    """Register a scenario with an optional hand-written partial expectation
    (3.13's), updated by ``py314`` on 3.14+ and then ``py315`` on 3.15+.
    ``pinned``: the outcome's keys that differ where gcx pins its garbage
    instead of watching it (safe mode: src/README.md, "Differences from
    CPython's collector"); compared in every other mode."""
    if expected is not None:
        expected = dict(expected)
        if sys.version_info >= (3, 14):
            expected.update(py314 or {})
        if sys.version_info >= (3, 15):
            expected.update(py315 or {})

    def register(fn):
        fn.pinned = pinned
        CASES.append(pytest.param(fn, expected, id=fn.__name__))
        return fn
    return register


def _pinned(impl):
    return impl is not gc and impl.info()["mode"] == "safe"


@pytest.mark.parametrize("scenario, expected", CASES)
def test_scenario(impl, scenario, expected):
    want = S.run(scenario, gc)
    if impl is gc and expected is not None:
        S.check_expected(want, expected)
    got = S.run(scenario, impl)
    if _pinned(impl):
        for key in scenario.pinned:
            want.pop(key, None)
            got.pop(key, None)
    assert got == want


def gcxtest():
    """The test-only C types (built with gcx; no skip if missing)."""
    from gcx import _gcxtest
    return _gcxtest


# ====================================================== cycles through containers
#
# Each builder wraps a finalizable instance ``f`` in a container; the scenario
# then closes the cycle with ``f.hold = container``.  Expected counts are the
# number of tracked objects in the cycle: ``f`` itself (instance attributes
# live inline on 3.13, so there is no separate __dict__ object) plus the
# container objects listed in the comment.

def _module_fn(*args, **kwargs):
    return None


def _closure_over(obj):
    def inner():
        return obj
    return inner


CONTAINERS = {
    # name: (builder, tracked objects besides f)
    "list": (lambda f: [f], 1),
    "dict": (lambda f: {"f": f}, 1),
    "set": (lambda f: {f}, 1),
    "frozenset": (lambda f: frozenset([f]), 1),
    "tuple": (lambda f: (f,), 1),
    "deque": (lambda f: collections.deque([f]), 1),
    "ordereddict": (lambda f: collections.OrderedDict(f=f), 1),
    "defaultdict_value": (lambda f: collections.defaultdict(list, f=f), 1),
    # defaultdict -> partial -> args tuple -> f
    "defaultdict_factory": (
        lambda f: collections.defaultdict(functools.partial(_module_fn, f)), 3),
    # partial + its args tuple
    "partial_args": (lambda f: functools.partial(_module_fn, f), 2),
    # partial + its keywords dict
    "partial_keywords": (lambda f: functools.partial(_module_fn, x=f), 2),
    # property -> function -> closure tuple -> cell -> f
    "property": (lambda f: property(_closure_over(f)), 4),
    # namespace + its dict
    "simplenamespace": (lambda f: types.SimpleNamespace(f=f), 2),
    # function -> closure tuple -> cell
    "closure_cell": (_closure_over, 3),
    "bare_cell": (lambda f: types.CellType(f), 1),
    # list iterator + list
    "list_iterator": (lambda f: iter([f]), 2),
    # view + dict
    "dict_items_view": (lambda f: {"f": f}.items(), 2),
    # mappingproxy + dict
    "mappingproxy": (lambda f: types.MappingProxyType({"f": f}), 2),
    # module + its __dict__
    "module": (lambda f: _module_holding(f), 2),
    # slice objects are tracked on 3.13
    "slice": (lambda f: slice(f, None), 1),
    "staticmethod": (lambda f: staticmethod(f), 1),
    "classmethod": (lambda f: classmethod(f), 1),
    # exception + args tuple
    "exception_args": (lambda f: ValueError(f), 2),
    # ChainMap instance + its maps list + the dict
    "chainmap": (lambda f: collections.ChainMap({"f": f}), 3),
    # enumerate + its cached result tuple + list iterator + list
    "enumerate": (lambda f: enumerate([f]), 4),
    # zip + iterators tuple + cached result tuple + 2 list iterators + 2 lists
    "zip": (lambda f: zip([f], [f]), 7),
    "super": (lambda f: super(type(f), f), 1),
}


def _module_holding(f):
    m = types.ModuleType("gcx_scenario_module")
    m.f = f
    return m


# 3.14 (and 3.15) keep other objects around some builtins: the stdlib's
# count of the same cycle is (3.13's, 3.14's).
COUNTS_314 = {"defaultdict_factory": 4, "partial_args": 3, "staticmethod": 2,
              "classmethod": 2, "enumerate": 3}


def _container_cycle(name, build, extra):
    def scenario(gc, ctx):
        def make():
            f = ctx.Fin("f")
            f.hold = build(f)
            ctx.watch(f, "f")
        make()
        n = gc.collect()
        return {"collected": n, "alive": ctx.alive()}
    scenario.__name__ = f"cycle_through_{name}"
    expected = {"alive": [], "events": [["del", "f", 1], ["wrcb", "f", 1]]}
    if extra is not None:
        expected["collected"] = 1 + extra
    later = {"collected": 1 + COUNTS_314[name]} if name in COUNTS_314 else None
    case(expected, py314=later)(scenario)


for _name, (_build, _extra) in CONTAINERS.items():
    _container_cycle(_name, _build, _extra)


@case({"collected": 2, "events": []})
def cycle_tuple_via_list(gc, ctx):
    def make():
        lst = []
        lst.append((lst,))
    make()
    return {"collected": gc.collect()}


@case({"collected": 1})
def cycle_list_self(gc, ctx):
    def make():
        lst = []
        lst.append(lst)
    make()
    return {"collected": gc.collect()}


@case({"collected": 1})
def cycle_dict_self(gc, ctx):
    def make():
        d = {}
        d["me"] = d
    make()
    return {"collected": gc.collect()}


@case({"collected": 1})
def cycle_deque_self(gc, ctx):
    def make():
        d = collections.deque()
        d.append(d)
    make()
    return {"collected": gc.collect()}


@case({"collected": 1})
def cycle_ordereddict_self(gc, ctx):
    def make():
        d = collections.OrderedDict()
        d["me"] = d
    make()
    return {"collected": gc.collect()}


@case({"collected": 0})
def no_cycle_nothing_collected(gc, ctx):
    keep = [[ctx.Plain("a")], {"b": ctx.Plain("b")}]
    ctx.watch(keep[0][0], "a")
    n = gc.collect()
    return {"collected": n, "alive": ctx.alive(), "kept": len(keep)}


@case({"collected": 1000, "events": [["del", "last", 1]]})
def long_chain_cycle(gc, ctx):
    # A 999-list chain closed into a cycle through one finalizable instance.
    def make():
        head = ctx.Fin("last")
        node = head
        for _ in range(999):
            node = [node]
        head.hold = node
    make()
    return {"collected": gc.collect()}


# ====================================================== instances and code objects

@case({"collected": 2, "alive": [],
       "events": [["del", "a", 1], ["del", "b", 1],
                  ["wrcb", "a", 1], ["wrcb", "b", 1]]})
def instances_pair(gc, ctx):
    def make():
        a, b = ctx.Fin("a"), ctx.Fin("b")
        a.other, b.other = b, a
        ctx.watch(a, "a")
        ctx.watch(b, "b")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"alive": [], "events": [["del", "a", 1], ["del", "b", 1],
                               ["wrcb", "a", 1], ["wrcb", "b", 1]]})
def instances_with_materialized_dict(gc, ctx):
    def make():
        a, b = ctx.Fin("a"), ctx.Fin("b")
        a.__dict__["other"] = b
        b.__dict__["other"] = a
        ctx.watch(a, "a")
        ctx.watch(b, "b")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 2, "alive": [],
       "events": [["del", "a", 1], ["del", "b", 1],
                  ["wrcb", "a", 1], ["wrcb", "b", 1]]})
def instances_with_slots(gc, ctx):
    def make():
        a, b = ctx.Slotted("a"), ctx.Slotted("b")
        a.other, b.other = b, a
        ctx.watch(a, "a")
        ctx.watch(b, "b")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"alive": [], "events": [["del", "instance", 1], ["wrcb", "class", 1],
                               ["wrcb", "instance", 1], ["wrcb", "metaclass", 1]]})
def class_with_metaclass(gc, ctx):
    def make():
        meta = type("Meta", (type,), {})
        cls = meta("K", (ctx.Fin,), {})
        inst = cls("instance")
        inst.cls = cls
        cls.meta = meta
        ctx.watch(meta, "metaclass")
        ctx.watch(cls, "class")
        ctx.watch(inst, "instance")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"alive": [], "events": [["wrcb", "class", 1]]})
def class_referencing_itself(gc, ctx):
    def make():
        cls = type("SelfRef", (), {})
        cls.me = cls
        ctx.watch(cls, "class")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"alive": [], "events": [["del", "instance", 1], ["wrcb", "class", 1],
                               ["wrcb", "instance", 1]]})
def class_statement_with_instance(gc, ctx):
    def make():
        class Local(ctx.Fin):
            def method(self):
                return Local
        inst = Local("instance")
        Local.inst = inst
        ctx.watch(Local, "class")
        ctx.watch(inst, "instance")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 2, "alive": [], "events": [["wrcb", "function", 1]]})
def function_dict_self(gc, ctx):
    def make():
        def fn():
            return None
        fn.me = fn
        ctx.watch(fn, "function")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 2, "alive": [], "events": [["wrcb", "function", 1]]})
def function_defaults_self(gc, ctx):
    def make():
        def fn(x=None):
            return x
        fn.__defaults__ = (fn,)
        ctx.watch(fn, "function")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 3, "alive": [], "events": [["wrcb", "closure", 1]]})
def closure_referencing_itself(gc, ctx):
    def make():
        def inner():
            return inner
        ctx.watch(inner, "closure")
    make()
    # function -> closure tuple -> cell -> function
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 2, "alive": [], "events": [["del", "obj", 1], ["wrcb", "obj", 1]]})
def bound_method_cycle(gc, ctx):
    class WithMethod(ctx.Fin):
        def method(self):
            return self
    def make():
        obj = WithMethod("obj")
        obj.m = obj.method
        ctx.watch(obj, "obj")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 2, "alive": [],
       "events": [["del", "local", 1], ["wrcb", "local", 1]]})
def frame_stored_in_local(gc, ctx):
    def make():
        local = ctx.Fin("local")
        ctx.watch(local, "local")
        frame = sys._getframe()
        return frame is not None
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


# Suspended generators and coroutines: finalizing one closes it, which drops
# its frame's references and breaks the cycle, so it dies by reference
# counting during finalization and is not counted as collected.

@case({"collected": 0, "alive": [],
       "events": [["del", "local", 1], ["finally", "gen", 1],
                  ["wrcb", "gen", 1], ["wrcb", "local", 1]]})
def generator_holding_itself(gc, ctx):
    def gen():
        local = ctx.Fin("local")
        ctx.watch(local, "local")
        me = yield
        try:
            yield me
        finally:
            ctx.log("finally", "gen")
    def make():
        g = gen()
        next(g)
        g.send(g)
        ctx.watch(g, "gen")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 0, "alive": [],
       "events": [["finally", "gen", 1], ["wrcb", "gen", 1]]})
def generator_in_cycle_with_holder(gc, ctx):
    def gen(holder):
        try:
            yield holder
            yield holder
        finally:
            ctx.log("finally", "gen")
    def make():
        holder = ctx.Plain("holder")
        g = gen(holder)
        next(g)
        holder.g = g
        ctx.watch(g, "gen")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@types.coroutine
def _suspend():
    yield


@case({"collected": 0, "alive": [],
       "events": [["finally", "coro", 1], ["wrcb", "coro", 1]]})
def coroutine_holding_itself(gc, ctx):
    async def coro(holder):
        try:
            await _suspend()
        finally:
            ctx.log("finally", "coro")
    def make():
        holder = ctx.Plain("holder")
        c = coro(holder)
        c.send(None)
        holder.c = c
        ctx.watch(c, "coro")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 0, "alive": [],
       "events": [["finally", "agen", 1], ["wrcb", "agen", 1]]})
def async_generator_cycle(gc, ctx):
    async def agen(holder):
        try:
            yield holder
            yield holder
        finally:
            ctx.log("finally", "agen")
    def make():
        holder = ctx.Plain("holder")
        g = agen(holder)
        try:
            g.__anext__().send(None)
        except StopIteration:
            pass
        holder.g = g
        ctx.watch(g, "agen")
    hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(None, None)
    try:
        make()
        n = gc.collect()
    finally:
        sys.set_asyncgen_hooks(*hooks)
    return {"collected": n, "alive": ctx.alive()}


@case({"alive": [], "events": [["del", "holder", 1], ["wrcb", "holder", 1]]})
def exception_traceback_cycle(gc, ctx):
    class Holder(ctx.Fin):
        def fail(self):
            try:
                raise ValueError(self.label)
            except ValueError as e:
                self.e = e
    def make():
        h = Holder("holder")
        h.fail()
        ctx.watch(h, "holder")
    make()
    # holder -> exception -> traceback -> frame -> holder (plus args tuple)
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case()
def exception_context_cycle(gc, ctx):
    def make():
        try:
            try:
                raise KeyError("inner")
            except KeyError:
                raise ValueError("outer")
        except ValueError as e:
            e.__context__.__context__ = e
    make()
    return {"collected": gc.collect()}


# future + its __dict__ + f (3.14: no separate __dict__ object)
@case({"collected": 3, "events": [["del", "f", 1]]}, py314={"collected": 2})
def asyncio_future_cycle(gc, ctx):
    loop = asyncio.new_event_loop()
    try:
        def make():
            fut = loop.create_future()
            f = ctx.Fin("f")
            fut.f = f
            f.fut = fut
        make()
        n = gc.collect()
    finally:
        loop.close()
    return {"collected": n}


# ====================================================== finalizers (__del__)

@case({"collected": 0, "events": [["del", "a", 1], ["del", "b", 1]]})
def finalizer_breaks_its_own_cycle(gc, ctx):
    # After the finalizers run, nothing is cyclic any more: both objects die
    # by reference counting during finalization and are not counted.
    class Breaker(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            self.other = None
    def make():
        a, b = Breaker("a"), Breaker("b")
        a.other, b.other = b, a
    make()
    return {"collected": gc.collect()}


@case({"first": 2, "second": 2, "events": [["del", "a", 1], ["del", "new", 1]]})
def finalizer_creates_new_garbage(gc, ctx):
    # Objects created during a collection are not part of it.
    class Maker(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            if self.label == "a":
                x, y = self.ctx.Fin("new"), self.ctx.Plain("new-peer")
                x.other, y.other = y, x
    def make():
        a, b = Maker("a"), ctx.Plain("b")
        a.other, b.other = b, a
    make()
    first = gc.collect()
    second = gc.collect()
    return {"first": first, "second": second}


@case({"events": [["del", "a", 1], ["del", "b", 1],
                  ["saw", "a:b", 1], ["saw", "b:a", 1]]})
def finalizers_see_intact_peers(gc, ctx):
    # No tp_clear happens before every finalizer has run.
    class Looker(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            self.ctx.log("saw", f"{self.label}:{self.other.label}")
    def make():
        a, b = Looker("a"), Looker("b")
        a.other, b.other = b, a
    make()
    return {"collected": gc.collect()}


@case({"collected": 2,
       "events": [["del", "a", 1], ["del", "b", 1]],
       "unraisable": [("RuntimeError", "boom a", None, "Raiser.__del__"),
                      ("RuntimeError", "boom b", None, "Raiser.__del__")]},
      # 3.14 reports a failing finalizer in its own words
      py314={"unraisable": [("RuntimeError", "boom a", 'Exception ignored while calling deallocator <function finalizer_raises.<locals>.Raiser.__del__ at 0x?>', None),
                            ("RuntimeError", "boom b", 'Exception ignored while calling deallocator <function finalizer_raises.<locals>.Raiser.__del__ at 0x?>', None)]})
def finalizer_raises(gc, ctx):
    class Raiser(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            raise RuntimeError(f"boom {self.label}")
    def make():
        a, b = Raiser("a"), Raiser("b")
        a.other, b.other = b, a
    make()
    return {"collected": gc.collect()}


@case({"collected": 1, "after": "KeyError('outer')", "seen_in_del": "KeyError('outer')",
       "events": [["del", "f", 1]],
       "unraisable": [("ValueError", "from del", None, "Raiser.__del__")]},
      py314={"unraisable": [("ValueError", "from del",
                             'Exception ignored while calling deallocator <function caller_exception_preserved.<locals>.Raiser.__del__ at 0x?>', None)]})
def caller_exception_preserved(gc, ctx):
    # A handled exception in the caller survives a collection whose
    # finalizer raises (and is what the finalizer sees as sys.exception()).
    seen = []
    class Raiser(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            seen.append(repr(sys.exception()))
            raise ValueError("from del")
    def make():
        f = Raiser("f")
        f.me = f
    make()
    try:
        raise KeyError("outer")
    except KeyError:
        n = gc.collect()
        after = repr(sys.exception())
    return {"collected": n, "after": after, "seen_in_del": seen[0],
            "outside": repr(sys.exception())}


@case({"collected": 0, "nested": [0], "events": [["del", "f", 1]]})
def collect_inside_finalizer(gc, ctx):
    nested = []
    class Collector(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            nested.append(self.ctx.gc.collect())
            self.me = None
    def make():
        f = Collector("f")
        f.me = f
    make()
    return {"collected": gc.collect(), "nested": nested}


@case({"nested": [2], "events": [["del", "trigger", 1]]})
def collect_from_finalizer_outside_collection(gc, ctx):
    # A __del__ run by reference counting (no collection in progress) can
    # collect: it finds the pending cycle.
    nested = []
    class Collector(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            nested.append(self.ctx.gc.collect())
    def make():
        a, b = ctx.Plain("a"), ctx.Plain("b")
        a.other, b.other = b, a
    make()
    trigger = Collector("trigger")
    del trigger
    return {"nested": nested, "after": gc.collect()}


@case({"seen": [True, True], "collected": 2})
def finalizer_sees_itself_finalized(gc, ctx):
    # CPython marks an object finalized before calling its finalizer
    seen = []

    class Look:
        def __del__(self):
            seen.append(gc.is_finalized(self))

    def make():
        a, b = Look(), Look()
        a.other, b.other = b, a
    make()
    return {"seen": seen, "collected": gc.collect()}


# ====================================================== resurrection

@case({"first": 0, "saved": ["p"], "intact": True, "finalized": True, "second": 1,
       "events": [["del", "p", 1]]})
def resurrect_plain(gc, ctx):
    def make():
        p = ctx.Phoenix("p")
        p.me = p
        ctx.watch(p, "p", callback=False)
    make()
    first = gc.collect()
    saved = S.describe_all(ctx.saved)
    intact = ctx.saved[0].me is ctx.saved[0]
    finalized = gc.is_finalized(ctx.saved[0])
    alive_after_first = ctx.alive()
    ctx.saved.clear()
    second = gc.collect()
    return {"first": first, "saved": saved, "intact": intact, "finalized": finalized,
            "alive_after_first": alive_after_first, "second": second,
            "alive": ctx.alive()}


@case({"first": 0, "saved": ["p"], "reached": ["q", "r"], "second": 3,
       "events": [["del", "p", 1], ["del", "q", 1]]})
def resurrect_transitive(gc, ctx):
    # p resurrects itself; q and r, reachable from p, survive with it.
    def make():
        p, q, r = ctx.Phoenix("p"), ctx.Fin("q"), ctx.Plain("r")
        p.next, q.next, r.next = q, r, p
        for o in (p, q, r):
            ctx.watch(o, o.label, callback=False)
    make()
    first = gc.collect()
    p = ctx.saved[0]
    saved = S.describe_all(ctx.saved)
    reached = sorted([p.next.label, p.next.next.label])
    intact = p.next.next.next is p
    alive_after_first = ctx.alive()
    del p
    ctx.saved.clear()
    second = gc.collect()
    return {"first": first, "saved": saved, "reached": reached, "intact": intact,
            "alive_after_first": alive_after_first, "second": second,
            "alive": ctx.alive()}


@case({"first": 0, "second": 0, "third": 1, "events": [["del", "p", 1]]})
def resurrect_repeatedly(gc, ctx):
    # Stubborn would resurrect itself every time, but __del__ runs once ever:
    # while ctx.saved holds it nothing happens; once dropped again, the next
    # collection frees it without calling __del__ a second time.
    class Stubborn(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            self.ctx.saved.append(self)
    def make():
        p = Stubborn("p")
        p.me = p
    make()
    first = gc.collect()
    second = gc.collect()  # still held by ctx.saved: nothing to do
    ctx.saved.clear()
    third = gc.collect()
    return {"first": first, "second": second, "third": third,
            "saved": S.describe_all(ctx.saved)}


@case({"first": 0, "saved": ["b"], "second": 2,
       "events": [["del", "a", 1]]})
def resurrect_another_object(gc, ctx):
    class Saver(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            self.ctx.saved.append(self.other)
    def make():
        a, b = Saver("a"), ctx.Plain("b")
        a.other, b.other = b, a
    make()
    first = gc.collect()
    saved = S.describe_all(ctx.saved)
    ctx.saved.clear()
    return {"first": first, "saved": saved, "second": gc.collect()}


@case({"first": 0, "generation": 1})
def resurrected_object_moves_to_older_generation(gc, ctx):
    def make():
        p = ctx.Phoenix("p")
        p.me = p
    make()
    first = gc.collect(0)
    generation = S.generation_of(gc, ctx.saved[0])
    return {"first": first, "generation": generation}


@case({"first": 1, "second": 2, "events": [["del", "a", 1], ["del", "b", 1]]})
def resurrect_partial_group(gc, ctx):
    # Two independent cycles; only one resurrects.
    def make():
        a = ctx.Fin("a")
        a.me = a
        b = ctx.Phoenix("b")
        b.peer = ctx.Plain("b-peer")
        b.peer.back = b
    make()
    first = gc.collect()
    saved = S.describe_all(ctx.saved)
    ctx.saved.clear()
    return {"first": first, "saved": saved, "second": gc.collect()}


# ====================================================== garbage a finalizer frees
#
# CPython's collector holds no reference to its garbage: an object whose
# last reference a finalizer drops dies inside that finalizer (its own
# __del__ running there, nested), leaves the collection and is not counted.
# gcx watches its garbage instead of pinning it (W1 of src/finalize.c).

def _order(ctx):
    return ["%s %s" % e for e in ctx.events]


def _dropping(ctx, attr):
    """ctx.Fin whose __del__ drops self.<attr>, logging ("del<", label)
    before and ("del>", label) after."""
    class Dropping(ctx.Fin):
        def __del__(self):
            self.ctx.log("del<", self.label)
            setattr(self, attr, None)
            self.ctx.log("del>", self.label)
    return Dropping


@case({"collected": 2, "order": ["del< y", "del< x", "del> x", "del> y", "del< z", "del> z"]},
      pinned=("order",))
def finalizer_drops_the_last_reference_to_a_peer(gc, ctx):
    Dropper = _dropping(ctx, "x")
    def make():
        y, z, x = Dropper("y"), Dropper("z"), Dropper("x")
        y.x, y.z, z.y = x, z, y       # x: garbage only y refers to
        x.x = z.x = None
    make()
    return {"collected": gc.collect(), "order": _order(ctx)}


@case({"collected": 2,
       "order": ["del< r", "del< c2", "del< g2", "del> g2", "del> c2", "del< c1",
                 "del< g1", "del> g1", "del> c1", "del< c0", "del< g0", "del> g0",
                 "del> c0", "del> r"]},
      pinned=("order",))
def finalizer_clears_its_children(gc, ctx):
    # the pattern of __del__ methods that release what they own
    class Owner(ctx.Fin):
        def __init__(self, label):
            super().__init__(label)
            self.kids = []
        def __del__(self):
            self.ctx.log("del<", self.label)
            self.kids.clear()            # last first, as list.clear drops them
            self.ctx.log("del>", self.label)
    def make():
        r = Owner("r")
        r.me = r
        for i in range(3):
            c = Owner("c%d" % i)
            c.kids.append(Owner("g%d" % i))
            r.kids.append(c)
    make()
    return {"collected": gc.collect(), "order": _order(ctx)}


@case({"seen": [2], "collected": 2}, pinned=("seen",))
def refcount_a_finalizer_sees_of_a_peer(gc, ctx):
    # sys.getrefcount(peer) from __del__: the peer's one reference, and the
    # call's (the collector adds none)
    seen = []
    class Counter_(ctx.Fin):
        def __del__(self):
            if self.label == "a":
                seen.append(sys.getrefcount(self.peer))
    def make():
        a, b = Counter_("a"), ctx.Plain("b")
        a.peer, a.me = b, a
    make()
    return {"seen": seen, "collected": gc.collect()}


@case({"collected": 1, "kept": [[0, {"k": 0}, (0,)], [7, {"k": 7}, (7,)], [14, {"k": 14}, (14,)]]})
def finalizer_frees_garbage_then_reuses_its_memory(gc, ctx):
    # lists, dicts and tuples freed inside a finalizer go to CPython's free
    # lists and are made again at once: what is made is not the garbage
    kept = []
    class Reuser(ctx.Fin):
        def __del__(self):
            self.stuff = None
            made = [[i, {"k": i}, (i,)] for i in range(20)]
            kept.extend(made[::7])
    def make():
        r = Reuser("r")
        r.me = r
        r.stuff = [[i, {"k": i}, (i,), [i]] for i in range(20)]
    make()
    n = gc.collect()
    return {"collected": n, "kept": [[k[0], dict(k[1]), tuple(k[2])] for k in kept],
            "again": gc.collect()}


@case({"saved": ["child"], "order": ["del< parent", "del child", "del> parent"]},
      pinned=("order",))
def a_freed_child_resurrects_itself(gc, ctx):
    # the child's __del__, run as it dies inside its parent's, saves it
    Parent = _dropping(ctx, "child")
    def make():
        p = Parent("parent")
        p.me, p.child = p, ctx.Phoenix("child")
    make()
    first = gc.collect()
    saved = sorted(o.label for o in ctx.saved)
    order = _order(ctx)
    return {"first": first, "saved": saved, "order": order, "again": gc.collect()}


@case({"collected": 1, "depth": 20000})
def finalizer_frees_a_deep_chain(gc, ctx):
    # freed through the trashcan (deferred deallocations) inside __del__
    depth = []
    class Deep(ctx.Fin):
        def __del__(self):
            n, c = 0, self.chain
            while c is not None:
                n, c = n + 1, c[0]
            depth.append(n)
            self.chain = None
            [[i] for i in range(100)]
    def make():
        d = Deep("d")
        d.me = d
        chain = None
        for i in range(20000):
            chain = [chain, {"i": i}]
        d.chain = chain
    make()
    return {"collected": gc.collect(), "depth": depth[0]}


@case({"collected": 4, "order": ["cb gone", "del a", "del b", "del kid", "del grand"]},
      # before 3.15 every weakref to the garbage is cleared before callbacks
      # run; gh-135552: 3.15 clears those without callbacks after the
      # finalizers, so the callback reaches the garbage and frees some
      py315={"collected": 2, "order": ["cb saw-a", "del kid", "del grand", "dropped kid", "del a", "del b"]},
      pinned=("order",))
def weakref_callback_reaches_garbage(gc, ctx):
    box = {}
    def make():
        a, b = ctx.Fin("a"), ctx.Fin("b")
        a.b, b.a = b, a
        a.kid = ctx.Fin("kid")
        a.kid.grand = ctx.Fin("grand")
        box["plain"] = weakref.ref(a)
        def cb(wr):
            x = box["plain"]()
            ctx.log("cb", "gone" if x is None else "saw-a")
            if x is not None:
                x.kid = None
                ctx.log("dropped", "kid")
        box["cb"] = weakref.ref(b, cb)
    make()
    n = gc.collect()
    box.clear()
    return {"collected": n, "order": _order(ctx)}


@case(pinned=("events", "order"))
def weakref_a_finalizer_made_to_a_peer(gc, ctx):
    # clearing a frees b before a.wr: where weakrefs that finalizers make
    # keep their callbacks (3.13, before GH-91636 came to it), the callback
    # runs, as b dies inside a's tp_clear
    class Linker(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            self.wr = weakref.ref(self.peer, self.ctx.callback("to " + self.peer.label))
    def make():
        a, b = Linker("a"), Linker("b")
        a.peer, b.peer = b, a
    make()
    return {"collected": gc.collect(), "order": _order(ctx), "again": gc.collect()}


@case()
def weakrefs_finalizers_make_to_peers_nothing_referred_to(gc, ctx):
    # no member of the garbage is referred to weakly when the collection
    # starts (gcx then skips its weakref passes); the finalizers make
    # weakrefs to their peers, with and without callbacks, kept outside:
    # each is dead once the collection is over, as under the stdlib
    made = []
    class Linker(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            made.append(("plain " + self.peer.label, weakref.ref(self.peer)))
            made.append(("cb " + self.peer.label,
                         weakref.ref(self.peer, self.ctx.callback("to " + self.peer.label))))
    class Plain:
        pass
    def make():
        a, b, c = Linker("a"), Linker("b"), Plain()
        a.peer, b.peer, c.peer = b, c, a
    make()
    n = gc.collect()
    alive = sorted(label for label, wr in made if wr() is not None)
    return {"collected": n, "alive": alive, "made": len(made), "order": _order(ctx),
            "again": gc.collect()}


def _random_finalizer_graph(seed):
    def scenario(gc, ctx):
        rnd = random.Random(seed)
        kept = []
        class Node(ctx.Fin):
            def __init__(self, label):
                super().__init__(label)
                self.kids, self.d, self.t = [], {}, None
            def __del__(self):
                self.ctx.log("del<", self.label)
                act = sum(map(ord, self.label)) % 5
                if act == 0:
                    self.kids.clear()
                elif act == 1:
                    self.d = None
                elif act == 2:
                    kept.append([[i] for i in range(9)] + [{i: i} for i in range(9)])
                elif act == 3 and len(kept) < 40:
                    kept.append(self)
                else:
                    self.kids, self.t = [], None
                self.ctx.log("del>", self.label)
        def build(k):
            objs = [Node("n%d.%d" % (k, i)) if rnd.random() < 0.6 else ctx.Plain("p%d.%d" % (k, i))
                    for i in range(rnd.randint(2, 30))]
            for o in objs:
                for _ in range(rnd.randint(0, 3)):
                    t, r = rnd.choice(objs), rnd.random()
                    if isinstance(o, Node):
                        if r < 0.4:
                            o.kids.append(t)
                        elif r < 0.7:
                            o.d[len(o.d)] = t
                        else:
                            o.t = (t, [t])
                    else:
                        o.other = t
        counts = []
        for k in range(12):
            build(k)
            counts.append(gc.collect())
        out = {"counts": counts, "order": _order(ctx), "kept": len(kept)}
        kept.clear()
        return out
    scenario.__name__ = "random_finalizer_graph_%d" % seed
    return scenario


for _seed in range(6):
    case(pinned=("order",))(_random_finalizer_graph(_seed))


# ====================================================== weakrefs

@case({"collected": 1, "alive": [], "events": [["wrcb", "f", 1]]})
def weakref_callback_to_garbage(gc, ctx):
    def make():
        p = ctx.Plain("f")
        p.me = p
        ctx.watch(p, "f")
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 1, "alive": [], "events": []})
def weakref_without_callback_to_garbage(gc, ctx):
    def make():
        p = ctx.Plain("f")
        p.me = p
        ctx.watch(p, "f", callback=False)
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"saw_none": [True], "events": [["wrcb", "f", 1]]})
def weakref_callback_sees_dead_referent(gc, ctx):
    saw = []
    def make():
        p = ctx.Plain("f")
        p.me = p
        events = ctx.events
        def cb(wr):
            saw.append(wr() is None)
            events.append(("wrcb", "f"))
        ctx.keep = weakref.ref(p, cb)
    make()
    n = gc.collect()
    del ctx.keep
    return {"collected": n, "saw_none": saw}


@case({"collected": 3, "events": [["wrcb", "outside", 1]]})
def weakref_inside_garbage_never_calls_back(gc, ctx):
    # a <-> b, a holds a weakref (with callback) to b: the weakref is garbage,
    # so its callback must not run.  A second weakref from outside does run.
    def make():
        a, b = ctx.Plain("a"), ctx.Plain("b")
        a.other, b.other = b, a
        a.wr = weakref.ref(b, ctx.callback("inside"))
        ctx.watch(b, "outside")
    make()
    return {"collected": gc.collect()}


@case({"collected": 3, "alive_before_drop": ["live"], "alive": [],
       "events": [["wrcb", "live", 1]]})
def weakref_from_garbage_to_live_object(gc, ctx):
    # The garbage weakref is cleared by the collection: when its referent
    # dies later, its callback does not run.
    live = ctx.Plain("live")
    ctx.watch(live, "live")
    def make(live):
        a, b = ctx.Plain("a"), ctx.Plain("b")
        a.other, b.other = b, a
        a.wr = weakref.ref(live, ctx.callback("from-garbage"))
    make(live)
    n = gc.collect()
    before = ctx.alive()
    del live
    return {"collected": n, "alive_before_drop": before, "alive": ctx.alive()}


@case({"collected": 2, "events": [["wrcb", "f", 1]], "holder_left": 0})
def weakref_freed_by_its_own_callback_is_counted(gc, ctx):
    # The callback removes its weakref from the only live holder, so the
    # weakref dies during the callback and counts as collected.
    holder = []
    def make():
        p = ctx.Plain("f")
        p.me = p
        events = ctx.events
        def cb(wr):
            events.append(("wrcb", "f"))
            holder.remove(wr)
        holder.append(weakref.ref(p, cb))
    make()
    return {"collected": gc.collect(), "holder_left": len(holder)}


@case({"events": [["wrcb", "first", 1], ["wrcb", "second", 1]], "alive": []})
def weakrefs_several_to_one_object(gc, ctx):
    def make():
        p = ctx.Plain("f")
        p.me = p
        ctx.watch(p, "first")
        ctx.watch(p, "second")
        ctx.watch(p, "plain", callback=False)
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"dead": True, "dels": [["del", "f", 1]]})
def weakref_created_during_finalization(gc, ctx):
    # The weakref made by __del__ must be dead afterwards; whether its
    # callback ran depends on the 3.13 patch level: compare with the stdlib.
    made = []
    class Maker(ctx.Fin):
        def __del__(self):
            self.ctx.log("del", self.label)
            made.append(weakref.ref(self, self.ctx.callback("made-in-del")))
    def make():
        f = Maker("f")
        f.me = f
    make()
    n = gc.collect()
    return {"collected": n, "dead": made[0]() is None, "dels": ctx.counts("del")}


@case({"saved": ["f"], "dels": [["del", "f", 1]]})
def weakref_to_resurrected_object(gc, ctx):
    # Whether a callback-less weakref to a resurrected object survives depends
    # on the collector version: compare with the running stdlib.
    def make():
        p = ctx.Phoenix("f")
        p.me = p
        ctx.watch(p, "plain", callback=False)
        ctx.watch(p, "with-callback")
    make()
    n = gc.collect()
    return {"collected": n, "alive": ctx.alive(), "saved": S.describe_all(ctx.saved),
            "dels": ctx.counts("del")}


@case({"events": [["wrcb", "proxy", 1]], "dead": True})
def weakref_proxy_with_callback(gc, ctx):
    def make():
        p = ctx.Plain("f")
        p.me = p
        ctx.proxy = weakref.proxy(p, ctx.callback("proxy"))
    make()
    n = gc.collect()
    try:
        ctx.proxy.label
        dead = False
    except ReferenceError:
        dead = True
    del ctx.proxy
    return {"collected": n, "dead": dead}


@case({"events": [["wrcb", "sub", 1]], "dead": True})
def weakref_subclass_with_callback(gc, ctx):
    class Ref(weakref.ref):
        pass
    def make():
        p = ctx.Plain("f")
        p.me = p
        r = Ref(p, ctx.callback("sub"))
        r.note = "extra"
        ctx.keep = r
    make()
    n = gc.collect()
    dead = ctx.keep() is None
    del ctx.keep
    return {"collected": n, "dead": dead}


@case({"events": []})
def weakref_subclass_in_own_cycle(gc, ctx):
    # The weakref is garbage itself (it references itself): no callback.
    class Ref(weakref.ref):
        pass
    def make():
        p = ctx.Plain("f")
        p.me = p
        r = Ref(p, ctx.callback("sub"))
        r.me = r
    make()
    return {"collected": gc.collect()}


# 5 instances, plus the 15 container weakrefs that die in their callbacks.
@case({"before": [5, 5, 5], "collected": 20, "sizes": [0, 0, 0]})
def weak_containers_lose_garbage(gc, ctx):
    wvd, wkd, ws = weakref.WeakValueDictionary(), weakref.WeakKeyDictionary(), weakref.WeakSet()
    def make():
        for i in range(5):
            p = ctx.Plain(f"p{i}")
            p.me = p
            wvd[i] = p
            wkd[p] = i
            ws.add(p)
    make()
    before = [len(wvd), len(wkd), len(ws)]
    n = gc.collect()
    return {"before": before, "collected": n, "sizes": [len(wvd), len(wkd), len(ws)]}


# p, plus the finalizer's internal weakref, which dies in its own callback.
@case({"collected": 2, "events": [["finalize", "f", 1]], "alive": False})
def weakref_finalize_on_garbage(gc, ctx):
    def make():
        p = ctx.Plain("f")
        p.me = p
        events = ctx.events
        ctx.fin = weakref.finalize(p, events.append, ("finalize", "f"))
    make()
    n = gc.collect()
    alive = ctx.fin.alive
    del ctx.fin
    return {"collected": n, "alive": alive}


@case({"nested": [0], "events": [["wrcb", "f", 1]]})
def collect_inside_weakref_callback(gc, ctx):
    nested = []
    def make():
        p = ctx.Plain("f")
        p.me = p
        events = ctx.events
        def cb(wr):
            events.append(("wrcb", "f"))
            nested.append(gc.collect())
        ctx.keep = weakref.ref(p, cb)
    make()
    n = gc.collect()
    del ctx.keep
    return {"collected": n, "nested": nested}


@case({"first": 1, "second": 2, "events": [["wrcb", "f", 1]]})
def weakref_callback_creates_garbage(gc, ctx):
    def make():
        p = ctx.Plain("f")
        p.me = p
        events = ctx.events
        def cb(wr):
            events.append(("wrcb", "f"))
            x, y = ctx.Plain("x"), ctx.Plain("y")
            x.other, y.other = y, x
        ctx.keep = weakref.ref(p, cb)
    make()
    first = gc.collect()
    del ctx.keep
    return {"first": first, "second": gc.collect()}


@case({"events": [["del", "f", 1], ["wrcb", "f", 1]],
       "unraisable": [("ZeroDivisionError", "division by zero", None, "cb")]},
      py314={"unraisable": [("ZeroDivisionError", "division by zero",
                             "Exception ignored on calling weakref callback <function "
                             "weakref_callback_raises.<locals>.make.<locals>.cb at 0x?>",
                             None)]})
def weakref_callback_raises(gc, ctx):
    def make():
        f = ctx.Fin("f")
        f.me = f
        events = ctx.events
        def cb(wr):
            events.append(("wrcb", "f"))
            1 / 0
        ctx.keep = weakref.ref(f, cb)
    make()
    n = gc.collect()
    del ctx.keep
    return {"collected": n}


@case({"order": ["wrcb", "del"]})
def weakref_callbacks_run_before_finalizers(gc, ctx):
    def make():
        f = ctx.Fin("f")
        f.me = f
        ctx.watch(f, "f")
    make()
    n = gc.collect()
    return {"collected": n, "order": [k for k, _ in ctx.events]}


# ====================================================== C types from gcx._gcxtest

@case({"collected": 3, "events": [["del", "f", 1]]})
def c_box_cycle(gc, ctx):
    T = gcxtest()
    def make():
        a, b, f = T.Box(), T.Box(), ctx.Fin("f")
        a.ref, b.ref, f.box = b, f, a
    make()
    return {"collected": gc.collect()}


@case({"collected": 2})
def c_noclear_broken_by_list(gc, ctx):
    T = gcxtest()
    def make():
        n = T.NoClear()
        n.ref = [n]
    make()
    return {"collected": gc.collect()}


@case({"first": 2, "second": 2, "probe_dead": True, "after_break": 0,
       "events": [["wrcb", "a", 1]]})
def c_noclear_only_cycle_survives(gc, ctx):
    # Nothing in the cycle can be cleared: it is counted as collected, yet it
    # survives (with its weakrefs cleared, their callbacks run), and the next
    # collection finds it again.
    T = gcxtest()
    def make():
        a, b = T.NoClear(), T.NoClear()
        a.ref, b.ref = b, a
        ctx.probe = weakref.ref(a, ctx.callback("a"))
    make()
    first = gc.collect()
    probe_dead = ctx.probe() is None
    second = gc.collect()
    _break_noclear_cycles(T)
    ctx.probe = None
    return {"first": first, "second": second, "probe_dead": probe_dead,
            "after_break": gc.collect()}


def _break_noclear_cycles(T):
    # The stdlib's get_objects() lists every tracked object whichever
    # collector is under test.
    for obj in gc.get_objects():
        if type(obj) is T.NoClear:
            obj.ref = None


@case({"collected": 3, "garbage": ["LegacyDel"], "legacy_calls": 0,
       "events_at_collect": [], "alive_at_collect": ["f"],
       "after": 0, "legacy_calls_after": 1,
       "events": [["del", "f", 1], ["wrcb", "f", 1]]})
def c_legacy_del_cycle_uncollectable(gc, ctx):
    # ld -> list -> (ld, f): everything reachable from the tp_del object is
    # uncollectable; only the tp_del object goes to garbage; nothing reachable
    # from it is finalized or has its weakrefs cleared.
    T = gcxtest()
    T.reset()
    def make():
        ld = T.LegacyDel()
        f = ctx.Fin("f")
        ld.ref = [ld, f]
        ctx.watch(f, "f")
    make()
    n = gc.collect()
    garbage = S.describe_all(gc.garbage)
    events = ctx.counts()
    alive = ctx.alive()
    calls = T.legacy_del_calls()
    S.clear_garbage(gc)
    return {"collected": n, "garbage": garbage, "legacy_calls": calls,
            "events_at_collect": events, "alive_at_collect": alive,
            "after": gc.collect(), "legacy_calls_after": T.legacy_del_calls()}


@case({"collected": 2, "garbage": [], "legacy_calls_at_collect": 1,
       "events": [["del", "f", 1]]})
def c_legacy_del_hanging_off_a_cycle(gc, ctx):
    # A collectable cycle (list <-> f) holds a tp_del object that is not in
    # any cycle.  CPython puts the tp_del object in its uncollectable set but
    # holds no reference to it: clearing the list frees it (running tp_del)
    # before the uncollectable set is counted and moved to garbage.  So it is
    # neither counted nor in garbage.
    T = gcxtest()
    T.reset()
    def make():
        f = ctx.Fin("f")
        f.hold = [f, T.LegacyDel()]
    make()
    n = gc.collect()
    calls = T.legacy_del_calls()
    garbage = S.clear_garbage(gc)
    return {"collected": n, "garbage": garbage, "legacy_calls_at_collect": calls,
            "after": gc.collect(), "legacy_calls": T.legacy_del_calls()}


@case({"first": 0, "finalize_calls": 1, "resurrected": 1, "second": 0, "third": 2})
def c_resurrector(gc, ctx):
    T = gcxtest()
    T.reset()
    def make():
        r = T.Resurrector()
        r.ref = [r]
    make()
    first = gc.collect()
    resurrected = len(T.resurrected())
    second = gc.collect()
    del T.resurrected()[:]
    third = gc.collect()
    return {"first": first, "finalize_calls": T.finalize_calls(),
            "resurrected": resurrected, "second": second, "third": third}


# ---- tp_is_gc: an object its type says is not collectable now (as a
# suspended greenlet says) keeps every reference it has as a reference from
# outside, so it and all it reaches survive; CPython still lists it in its
# generations (get_objects, get_count, freeze) but is_tracked() says False.

def _refusers(T):
    return [o for o in gc.get_objects() if type(o) is T.Refuser]


def _release_refusers(T, unlink=True):
    """Let every Refuser be collected (and, with unlink, drop its ref);
    returns how many there were.  A function of its own, so that no loop
    variable of a scenario keeps one alive."""
    found = _refusers(T)
    for r in found:
        r.collectable = True
        if unlink:
            r.ref = None
    return len(found)


@case({"collected": 0, "alive": ["r"], "after": 2,
       "events": [["wrcb", "r", 1]]})
def c_refuser_cycle_survives(gc, ctx):
    T = gcxtest()
    def make():
        r = T.Refuser()
        r.collectable = False
        r.ref = [r]
        ctx.watch(r, "r")
    make()
    n = gc.collect()
    alive = ctx.alive()
    _release_refusers(T, unlink=False)
    return {"collected": n, "alive": alive, "after": gc.collect()}


@case({"collected": 0, "alive": ["box", "f"], "events_at_collect": []})
def c_refuser_keeps_what_it_reaches(gc, ctx):
    # r (refusing) -> list -> (box <-> box cycle, f <-> r): nothing dies, no
    # finalizer runs, though every object but r is only in cycles
    T = gcxtest()
    def make():
        r = T.Refuser()
        r.collectable = False
        a, b, f = T.Box(), T.Box(), ctx.Fin("f")
        a.ref, b.ref = b, a
        f.r = r
        r.ref = [a, f]
        ctx.watch(a, "box")
        ctx.watch(f, "f")
    make()
    n = gc.collect()
    events, alive = ctx.counts(), ctx.alive()
    _release_refusers(T)
    return {"collected": n, "alive": alive, "events_at_collect": events}


@case({"collected": 2, "alive": []})
def c_refuser_collectable_is_collected(gc, ctx):
    T = gcxtest()
    def make():
        r = T.Refuser()
        r.ref = [r]
        ctx.watch(r, "r", callback=False)
    make()
    return {"collected": gc.collect(), "alive": ctx.alive()}


@case({"collected": 0, "survivors": 1, "after": 2,
       "events": [["del", "f", 1]]})
def c_refuser_refuses_after_finalizer(gc, ctx):
    # f's __del__ makes r refuse while the collection runs: the recount after
    # the finalizers must not count edges to r, so r and f are resurrected
    # (the weakrefs to them are cleared before finalizers run: get_objects
    # tells what survived)
    T = gcxtest()

    class Turn(ctx.Fin):
        def __del__(self):
            super().__del__()
            self.r.collectable = False

    def make():
        r = T.Refuser()
        f = Turn("f")
        f.r, r.ref = r, f
    make()
    n = gc.collect()
    survivors = _release_refusers(T, unlink=False)
    return {"collected": n, "survivors": survivors, "after": gc.collect()}


class _UntrackOnDel:
    """Its __del__ untracks self.x, as C code may untrack an object while a
    collector runs finalizers."""
    events = None

    def __del__(self):
        self.events.append(("del", "a"))
        from gcx import _gcxtest
        _gcxtest.untrack(self.x)


@case({"collected": 0, "x_ref_kept": True, "x_tracked": False,
       "events": [["del", "a", 1]]})
def c_untracked_by_finalizer_leaves_garbage(gc, ctx):
    # a <-> x, and a's finalizer untracks x: x leaves CPython's garbage, so
    # it is neither recounted nor cleared, and what it refers to (a) counts
    # as referenced from outside: nothing is collected
    T = gcxtest()
    def make():
        a = _UntrackOnDel()
        a.events = ctx.events
        a.x = T.Box(a)
    make()
    n = gc.collect()
    found = [o for o in gc.get_objects() if type(o) is _UntrackOnDel]
    x = found[0].x
    kept, tracked = x.ref is not None, gc.is_tracked(x)
    T.track(x)
    x.ref = None
    del found, x
    return {"collected": n, "x_ref_kept": kept, "x_tracked": tracked}


@case({"listed": True, "is_tracked": False, "referrer": True,
       "frozen": True, "tuple_untracked": True})
def c_refuser_listed_but_not_tracked(gc, ctx):
    # get_objects, get_referrers and freeze go by CPython's lists, which hold
    # a refusing object; is_tracked asks tp_is_gc; a tuple of refusing
    # objects is untracked by a collection, as CPython untracks it
    T = gcxtest()
    target = []
    r = T.Refuser(target)
    r.collectable = False
    t = (r,)
    gc.collect()
    out = {"listed": S.contains(gc.get_objects(), r),
           "is_tracked": gc.is_tracked(r),
           "referrer": S.contains(gc.get_referrers(target), r),
           "tuple_untracked": not gc.is_tracked(t)}
    gc.freeze()
    try:
        out["frozen"] = not S.contains(gc.get_objects(), r)
    finally:
        gc.unfreeze()
    r.collectable = True
    return out


# ====================================================== the order of what the collector runs
#
# CPython meets its garbage in the order of its generation lists (the one
# collected, then the younger ones from 0 up, each in the order objects
# came to it) and runs weakref
# callbacks, finalizers and tp_clear, and fills garbage, in that order.
# Each scenario first frees instances in a scrambled order, so that the
# objects it then makes reuse their memory out of address order.

def _scramble_addresses(ctx, seed, n=96):
    filler = [ctx.Plain(i) for i in range(n)]
    order = list(range(n))
    random.Random(seed).shuffle(order)
    for i in order:
        filler[i] = None


def _ring(objs):
    for i, obj in enumerate(objs):
        obj.next = objs[(i + 1) % len(objs)]


@case({"collected": 8, "order": [str(i) for i in range(8)]})
def finalizers_run_in_tracking_order(gc, ctx):
    def make():
        _scramble_addresses(ctx, 1)
        _ring([ctx.Fin(str(i)) for i in range(8)])
    make()
    n = gc.collect()
    return {"collected": n, "order": [label for kind, label in ctx.events if kind == "del"]}


@case({"collected": 8, "order": [str(i) for i in range(8)]})
def young_finalizers_run_in_tracking_order(gc, ctx):
    def make():
        _scramble_addresses(ctx, 2)
        _ring([ctx.Fin(str(i)) for i in range(8)])
    gc.collect()
    make()
    n = gc.collect(0)
    return {"collected": n, "order": [label for kind, label in ctx.events if kind == "del"]}


@case({"collected": 6, "order": [str(i) for i in range(6)]})
def weakref_callbacks_run_in_tracking_order(gc, ctx):
    def make():
        _scramble_addresses(ctx, 3)
        objs = [ctx.Plain(str(i)) for i in range(6)]
        _ring(objs)
        for obj in objs:
            ctx.watch(obj, obj.label)
    make()
    n = gc.collect()
    return {"collected": n, "order": [label for kind, label in ctx.events if kind == "wrcb"]}


@case({"order": ["new0", "new1", "new2", "old0", "old1", "old2"]})
def collected_generation_then_the_younger_ones(gc, ctx):
    # a full collection appends generation 0, then 1, to generation 2's list
    def make_old():
        _scramble_addresses(ctx, 4)
        ctx.keep = [ctx.Fin("old%d" % i) for i in range(3)]
    def make_new():
        _scramble_addresses(ctx, 5)
        ring = ctx.keep + [ctx.Fin("new%d" % i) for i in range(3)]
        _ring(ring)
        ctx.keep = None
    gc.collect()
    make_old()
    gc.collect(0)             # the old ones move on a generation
    make_new()
    n = gc.collect()
    return {"collected": n, "order": [label for kind, label in ctx.events if kind == "del"]}


@case({"garbage": [str(i) for i in range(7)]})
def saveall_fills_garbage_in_tracking_order(gc, ctx):
    def make():
        _scramble_addresses(ctx, 6)
        _ring([ctx.Plain(str(i)) for i in range(7)])
    make()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
    finally:
        gc.set_debug(0)
    order = [obj.label for obj in gc.garbage if isinstance(obj, ctx.Plain)]
    S.clear_garbage(gc)
    return {"garbage": order}


# ====================================================== DEBUG_SAVEALL

@case({"collected": 4, "garbage": ["a", "b", "list", "list"],
       "events": [["del", "a", 1], ["del", "b", 1], ["wrcb", "a", 1]],
       "after_cleanup": 0})
def debug_saveall(gc, ctx):
    def make():
        a, b = ctx.Fin("a"), ctx.Fin("b")
        a.other, b.other = b, a
        ctx.watch(a, "a")
        lst = [[]]
        lst[0].append(lst)
    make()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        n = gc.collect()
    finally:
        gc.set_debug(0)
    garbage = S.clear_garbage(gc)
    return {"collected": n, "garbage": garbage, "alive": ctx.alive(),
            "after_cleanup": gc.collect()}


@case({"collected": 2, "garbage": ["LegacyDel", "list"], "after_cleanup": 0})
def debug_saveall_with_legacy_del(gc, ctx):
    T = gcxtest()
    T.reset()
    def make():
        ld = T.LegacyDel()
        ld.ref = [ld]
    make()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        n = gc.collect()
    finally:
        gc.set_debug(0)
    garbage = S.clear_garbage(gc)
    return {"collected": n, "garbage": garbage, "after_cleanup": gc.collect()}


# ====================================================== gc.callbacks

def _info(phase, info):
    """The callbacks' info as a comparable list: 3.15's candidates and
    duration are exact at "start" (0 and 0.0) and their types at "stop"
    (the two collectors examine and time different things)."""
    return sorted((k, type(v).__name__ if phase == "stop" and k in ("candidates", "duration")
                   else v) for k, v in info.items())


def _with_315_keys(phase, pairs):
    """An expected 3.13 info list with 3.15's two keys added."""
    more = ([("candidates", 0), ("duration", 0.0)] if phase == "start"
            else [("candidates", "int"), ("duration", "float")])
    return sorted(pairs + more)


def _recording_callback(log):
    def cb(phase, info):
        log.append((phase, _info(phase, info)))
    return cb


_PROTOCOL_313 = [
    ("start", [("collected", 0), ("generation", 2), ("uncollectable", 0)]),
    ("stop", [("collected", 2), ("generation", 2), ("uncollectable", 0)]),
    ("start", [("collected", 0), ("generation", 0), ("uncollectable", 0)]),
    ("stop", [("collected", 0), ("generation", 0), ("uncollectable", 0)]),
    ("start", [("collected", 0), ("generation", 1), ("uncollectable", 0)]),
    ("stop", [("collected", 1), ("generation", 1), ("uncollectable", 0)])]


# 3.15 adds candidates and duration to the info (gh-140638)
@case({"log": _PROTOCOL_313},
      py315={"log": [(phase, _with_315_keys(phase, pairs)) for phase, pairs in _PROTOCOL_313]})
def callbacks_protocol(gc, ctx):
    log = []
    cb = _recording_callback(log)
    def make(k):
        for _ in range(k):
            lst = []
            lst.append(lst)
    gc.callbacks.append(cb)
    try:
        make(2)
        gc.collect()
        gc.collect(0)
        make(1)
        gc.collect(1)
    finally:
        gc.callbacks.remove(cb)
    return {"log": log}


@case({"log_len": 2, "stop": [("collected", 2), ("generation", 2), ("uncollectable", 2)],
       "garbage_at_stop": ["LegacyDel"]},
      py315={"stop": _with_315_keys("stop", [("collected", 2), ("generation", 2),
                                              ("uncollectable", 2)])})
def callbacks_see_uncollectable(gc, ctx):
    T = gcxtest()
    T.reset()
    log, at_stop = [], []
    def cb(phase, info):
        log.append((phase, _info(phase, info)))
        if phase == "stop":
            at_stop.extend(S.describe_all(gc.garbage))
    def make():
        ld = T.LegacyDel()
        ld.ref = [ld]
        f = ctx.Plain("x")
        f.me = [f, f]
    make()
    gc.callbacks.append(cb)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(cb)
    S.clear_garbage(gc)
    return {"log_len": len(log), "stop": log[-1][1], "garbage_at_stop": at_stop,
            "after": gc.collect()}


@case({"nested": [0, 0], "phases": ["start", "stop"], "collected": 1})
def collect_inside_gc_callback(gc, ctx):
    nested, phases = [], []
    def cb(phase, info):
        phases.append(phase)
        nested.append(gc.collect())
    def make():
        lst = []
        lst.append(lst)
    make()
    gc.callbacks.append(cb)
    try:
        n = gc.collect()
    finally:
        gc.callbacks.remove(cb)
    return {"nested": nested, "phases": phases, "collected": n}


@case({"collected": 1, "second_saw": ["start", "stop"],
       "unraisable": [("RuntimeError", "cb start", None, "bad"),
                      ("RuntimeError", "cb stop", None, "bad")]},
      py314={"unraisable": [(
          "RuntimeError", f"cb {phase}", "Exception ignored while calling GC callback "
          "<function gc_callback_raises.<locals>.bad at 0x?>", None)
          for phase in ("start", "stop")]})
def gc_callback_raises(gc, ctx):
    second = []
    def bad(phase, info):
        raise RuntimeError(f"cb {phase}")
    def good(phase, info):
        second.append(phase)
    def make():
        lst = []
        lst.append(lst)
    make()
    gc.callbacks.extend([bad, good])
    try:
        n = gc.collect()
    finally:
        gc.callbacks.remove(bad)
        gc.callbacks.remove(good)
    return {"collected": n, "second_saw": second}


@case({"seen": [("first", "start"), ("second", "stop")]})
def gc_callback_removes_itself(gc, ctx):
    # CPython walks the live list by index: a callback that removes itself
    # makes the next one skip that phase.  What the neighbours see is part of
    # the observable protocol.
    seen = []
    def first(phase, info):
        seen.append(("first", phase))
        gc.callbacks.remove(first)
    def second(phase, info):
        seen.append(("second", phase))
    gc.callbacks.extend([first, second])
    try:
        gc.collect()
    finally:
        for cb in (first, second):
            while cb in gc.callbacks:
                gc.callbacks.remove(cb)
    return {"seen": seen}


@case({"pairs": ["start", "stop"], "nested": [0], "collected": 1})
def gc_callbacks_not_called_for_nested_collect(gc, ctx):
    # The nested collect returns 0 without a start/stop pair of its own.
    nested = []
    class Nest(ctx.Fin):
        def __del__(self):
            nested.append(self.ctx.gc.collect())
    def make():
        f = Nest("f")
        f.me = f
    make()
    log = []
    cb = _recording_callback(log)
    gc.callbacks.append(cb)
    try:
        n = gc.collect()
    finally:
        gc.callbacks.remove(cb)
    return {"pairs": [p for p, _ in log], "nested": nested, "collected": n}


# ====================================================== what running frames hold
#
# A full collection marks what the slots of every thread's running frames
# reach before trial deletion (src/region.c, gcx_region_mark_from_roots):
# what a local holds survives, and what a local held (deleted, or left in a
# value-stack slot above the stack's top by an expression that ended) is
# garbage the same collection finds, as under the stdlib.

@case({"collected": 4, "alive": ["kept_a", "kept_b"],
       "events": [["del", "gone_a", 1], ["del", "gone_b", 1],
                  ["wrcb", "gone_a", 1], ["wrcb", "gone_b", 1]]})
def frames_local_heap_beside_garbage(gc, ctx):
    # a heap only this frame's local holds (cyclic, finalizable), and two
    # cycles dropped from it before the collection
    heap = [ctx.Fin("kept_a"), ctx.Fin("kept_b"), ctx.Fin("gone_a"), ctx.Fin("gone_b")]
    for a, b in ((0, 1), (2, 3)):
        heap[a].peer, heap[b].peer = heap[b], heap[a]
        heap[a].log, heap[b].log = [a], [b]
    for obj in heap:
        ctx.watch(obj, obj.label)
    del heap[2:], a, b, obj
    n = gc.collect()
    return {"collected": n, "alive": ctx.alive(), "kept": len(heap)}


@case({"collected": 2, "alive": [], "events": [["del", "temp", 1], ["wrcb", "temp", 1]]})
def frames_slots_past_the_stack_top(gc, ctx):
    # the cycle was on this frame's value stack (the call's arguments, the
    # list being built) and in a local; after `del` only slots above the
    # stack's top can still hold its address
    obj = ctx.Fin("temp")
    obj.me = [obj]
    ctx.watch(obj, "temp")
    sizes = len([obj, obj.me, [obj]]) + len((obj, obj.me))
    del obj
    return {"collected": gc.collect(), "alive": ctx.alive(), "sizes": sizes}


@case({"collected": 1, "alive": ["held"], "events": [["del", "dropped", 1],
                                                      ["wrcb", "dropped", 1]]})
def frames_of_a_suspended_caller_and_a_running_generator(gc, ctx):
    # a local of a generator that is running (its frame is on the thread's
    # chain) and of the frame that resumed it, beside a cycle the generator
    # dropped
    def gen(held):
        dropped = ctx.Fin("dropped")
        dropped.me = dropped
        ctx.watch(dropped, "dropped")
        del dropped
        yield gc.collect()
        yield held

    held = ctx.Fin("held")
    held.me = held
    ctx.watch(held, "held")
    it = gen(held)
    n = next(it)
    alive = ctx.alive()
    del held
    return {"collected": n, "alive": alive}


@case({"collected": [0, 1], "alive": [["held"], []],
       "events": [["del", "held", 1], ["wrcb", "held", 1]]})
def frames_of_another_thread(gc, ctx):
    # a cycle only another thread's local holds survives while the thread
    # waits; once the thread has ended it is garbage
    import threading
    ready, go = threading.Event(), threading.Event()

    def worker():
        held = ctx.Fin("held")
        held.me = held
        ctx.watch(held, "held")
        ready.set()
        go.wait()
        del held

    t = threading.Thread(target=worker)
    t.start()
    ready.wait()
    first, alive_first = gc.collect(), ctx.alive()
    go.set()
    t.join()
    second = gc.collect()
    return {"collected": [first, second], "alive": [alive_first, ctx.alive()]}


def _tracked_levels(gc, t):
    n = 0
    while type(t) is tuple:
        n += gc.is_tracked(t)
        t = t[0]
    return n


@case({"local": [300, 299], "global": [300, 299]})
def frames_tuple_chain_loses_a_level_a_collection(gc, ctx):
    # CPython untracks a tuple whose items are untracked; a chain of them
    # that a local (or a module global) holds loses one level per full
    # collection, its head staying tracked: only the head is referenced
    # from outside (a frame's slot) or none is (a module's dict holds it)
    def chain():
        t = (ValueError,)
        for _ in range(300):
            t = (t,)
        return t
    local = chain()
    S.held_chain = chain()
    try:
        out = {"local": [], "global": []}
        for _ in range(2):
            gc.collect()
            out["local"].append(_tracked_levels(gc, local))
            out["global"].append(_tracked_levels(gc, S.held_chain))
    finally:
        del S.held_chain
    return out


# ====================================================== generations

@case({"after_gen0": 1, "after_gen0_again": 1, "after_gen1": 2, "after_gen2": 2})
def survivor_is_promoted(gc, ctx):
    x = [[]]
    gc.collect(0)
    g0 = S.generation_of(gc, x)
    gc.collect(0)
    g0b = S.generation_of(gc, x)
    gc.collect(1)
    g1 = S.generation_of(gc, x)
    gc.collect(2)
    g2 = S.generation_of(gc, x)
    return {"after_gen0": g0, "after_gen0_again": g0b,
            "after_gen1": g1, "after_gen2": g2}


@case({"young": 0, "middle": 2, "events": [["del", "a", 1]]})
def old_garbage_needs_older_collection(gc, ctx):
    # A cycle that survived collect(0) sits in generation 1: once it becomes
    # garbage, collect(0) does not see it and collect(1) does.
    holder = []
    def make():
        a, b = ctx.Fin("a"), ctx.Plain("b")
        a.other, b.other = b, a
        holder.append(a)
    make()
    gc.collect(0)
    holder.clear()
    young = gc.collect(0)
    middle = gc.collect(1)
    return {"young": young, "middle": middle}


@case({"young": 0, "full": 2})
def old_object_keeps_young_garbage_alive(gc, ctx):
    # old (gen 2) -> young (gen 0) -> old: both garbage, but the young
    # collection sees a reference from outside its generation.
    def make_old():
        old = ctx.Plain("old")
        old.me = old
        return old
    old = make_old()
    gc.collect()
    def make_young(old):
        young = ctx.Plain("young")
        young.old = old
        old.young = young
    make_young(old)
    del old
    young = gc.collect(0)
    return {"young": young, "full": gc.collect()}


@case({"generation": 0, "young": 2, "untracked_by_full": True,
       "generation_again": 0, "young_again": 2},
      # 3.14 tracks every dict from birth (gh-127010) and never untracks one:
      # the old dict stays where it is, and young collections leave it
      py314={"generation": 2, "young": 0, "untracked_by_full": False,
             "generation_again": 2, "young_again": 0})
def dict_tracked_late_is_young(gc, ctx):
    # 3.13 creates a dict untracked while it holds only atomic values and
    # tracks it when a container is stored: CPython links it into generation
    # 0 at that moment, however old the dict is.  The same holds for a dict a
    # full collection untracked.
    def fill(d):
        d["me"] = [d]
    d = {}
    gc.collect(0)
    gc.collect(1)
    fill(d)
    generation = S.generation_of(gc, d)
    del d
    young = gc.collect(0)
    d = {"k": []}
    d["k"] = 1
    gc.collect()
    untracked = not gc.is_tracked(d)
    fill(d)
    generation_again = S.generation_of(gc, d)
    del d
    young_again = gc.collect(0)
    return {"generation": generation, "young": young, "untracked_by_full": untracked,
            "generation_again": generation_again, "young_again": young_again,
            "full": gc.collect()}


@case({"counts": [[1, 0], [2, 0], [0, 1], [0, 0]]})
def generation_counts(gc, ctx):
    # count[g+1] grows by one per collection of g; collecting g resets 0..g.
    seen = []
    for g in (0, 0, 1, 2):
        gc.collect(g)
        seen.append(list(gc.get_count()[1:]))
    return {"counts": seen}


@case({"before": [True, True, True], "tuple_after_gen0": False, "dict_after_gen0": True,
       "dict_after_full": False, "tuple_with_list": True},
      # 3.14: a tuple of atoms is born untracked (gh-139951), and dicts are
      # never untracked (gh-127010)
      py314={"before": [False, True, True], "dict_after_full": True})
def untracking_tuples_and_dicts(gc, ctx):
    def fresh():
        t = tuple([1, "x", 2.5])
        d = {"k": []}
        d["k"] = 1
        tl = tuple([[], 1])
        return t, d, tl
    t, d, tl = fresh()
    before = [gc.is_tracked(t), gc.is_tracked(d), gc.is_tracked(tl)]
    gc.collect(0)
    t_after, d_after = gc.is_tracked(t), gc.is_tracked(d)
    gc.collect()
    return {"before": before, "tuple_after_gen0": t_after, "dict_after_gen0": d_after,
            "dict_after_full": gc.is_tracked(d), "tuple_with_list": gc.is_tracked(tl)}


@case({"deltas": [[{"collections": 1, "collected": 2, "uncollectable": 0},
                   {"collections": 0, "collected": 0, "uncollectable": 0},
                   {"collections": 0, "collected": 0, "uncollectable": 0}],
                  [{"collections": 0, "collected": 0, "uncollectable": 0},
                   {"collections": 1, "collected": 0, "uncollectable": 0},
                   {"collections": 0, "collected": 0, "uncollectable": 0}],
                  [{"collections": 0, "collected": 0, "uncollectable": 0},
                   {"collections": 0, "collected": 0, "uncollectable": 0},
                   {"collections": 1, "collected": 1, "uncollectable": 0}]]})
def stats_deltas(gc, ctx):
    deltas = []
    def cycles(k):
        for _ in range(k):
            lst = []
            lst.append(lst)
    for g, k in ((0, 2), (1, 0), (2, 1)):
        cycles(k)
        before = gc.get_stats()
        gc.collect(g)
        deltas.append(S.stats_delta(before, gc.get_stats()))
    return {"deltas": deltas}


@case({"delta": [{"collections": 0, "collected": 0, "uncollectable": 0},
                 {"collections": 0, "collected": 0, "uncollectable": 0},
                 {"collections": 1, "collected": 0, "uncollectable": 2}]})
def stats_count_uncollectable(gc, ctx):
    T = gcxtest()
    T.reset()
    def make():
        ld = T.LegacyDel()
        ld.ref = [ld]
    make()
    before = gc.get_stats()
    gc.collect()
    delta = S.stats_delta(before, gc.get_stats())
    S.clear_garbage(gc)
    return {"delta": delta}


# Tuples whose items cannot be in a cycle are untracked by collections,
# in the order CPython checks them: what is referenced from outside where
# it is in its list, what only members keep alive after it.

def _tracked_after_collections(gc, tuples):
    seen = []
    for generation in (0, 0, 1, 2):
        gc.collect(generation)
        seen.append([gc.is_tracked(t) for t in tuples])
    return seen


@case({"tracked": [[True, False, False], [True, False, False],
                   [False, False, False], [False, False, False]]},
      # 3.14+ does not track a tuple made of untracked items at all
      py314={"tracked": [[False, False, False]] * 4})
def tuple_of_tuples_keeps_its_place(gc, ctx):
    gc.collect()
    outer = tuple([tuple([1, 2]), tuple(["a"])])
    return {"tracked": _tracked_after_collections(gc, [outer, outer[0], outer[1]])}


@case()
def tuples_in_a_chain(gc, ctx):
    gc.collect()
    c = tuple([1, 2])
    b = tuple([c])
    a = tuple([b])
    del b, c
    return {"tracked": _tracked_after_collections(gc, [a, a[0], a[0][0]])}


@case()
def tuples_referenced_from_outside_each(gc, ctx):
    gc.collect()
    first = tuple([1, 2])
    second = tuple([first, 3])
    third = tuple([[], second])
    return {"tracked": _tracked_after_collections(gc, [first, second, third])}


@case()
def tuple_reached_through_a_list_holds_one_referenced_from_outside(gc, ctx):
    gc.collect()
    shared = tuple([1, 2])
    holder = [tuple([shared, "x"]), tuple([tuple([4]), 5])]
    return {"tracked": _tracked_after_collections(gc, [shared, holder[0], holder[1],
                                                       holder[1][0]])}


# ====================================================== unraisable reporting

@case({"unraisable": [("RuntimeError", "cb", None, "callback"),
                      ("RuntimeError", "del", None, "Raiser.__del__")],
       "exc_after": "IndexError('pending')"},
      py314={"unraisable": [
          ("RuntimeError", "cb", "Exception ignored on calling weakref callback <function "
           "errors_reported_and_pending_exception_kept.<locals>.make.<locals>.callback "
           "at 0x?>", None),
          ("RuntimeError", "del", 'Exception ignored while calling deallocator <function errors_reported_and_pending_exception_kept.<locals>.Raiser.__del__ at 0x?>',
           None)]})
def errors_reported_and_pending_exception_kept(gc, ctx):
    class Raiser(ctx.Fin):
        def __del__(self):
            raise RuntimeError("del")
    def make():
        f = Raiser("f")
        f.me = f
        def callback(wr):
            raise RuntimeError("cb")
        ctx.keep = weakref.ref(f, callback)
    make()
    try:
        raise IndexError("pending")
    except IndexError:
        n = gc.collect()
        exc_after = repr(sys.exception())
    del ctx.keep
    return {"collected": n, "exc_after": exc_after}

