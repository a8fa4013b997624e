"""Cycle reports (gcx/report.py): shapes, edge names, aggregation, the weak
reference suggestion, and that reporting changes nothing about what is
collected.  Every test runs its program in a fresh interpreter."""
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from helpers import gcx_cli

from helpers import GCX_ROOT  # noqa: E402

# Programs that make cycles of known shapes.  Attributes are set both in
# methods (known to the class: __static_attributes__) and from outside it
# (a.peer = b: found in the module's code), and objects keep their
# attributes inline (no __dict__ is ever created for them).
SHAPES = """
    import gc, json, sys
    import gcx
    from gcx import report as R
    # The report's hook imports tracemalloc (and pickle) at its first
    # collection; pickle's Python exception classes, replaced by _pickle's,
    # are then cyclic garbage in the next one.  Import it first, so that
    # each program's opening gcx.collect() takes them.
    import tracemalloc

    class Node:
        def __init__(self, parent=None):
            self.parent = parent
            self.children = []
            if parent is not None:
                parent.children.append(self)

    class Pair:
        pass

    class Slotted:
        __slots__ = ("other", "__weakref__")

    class Bare:
        __slots__ = ("other",)          # no __weakref__: cannot be weakly referenced

    def trees(n):
        for _ in range(n):
            root = Node()
            for _ in range(4):
                Node(root)

    def pairs(n):
        for _ in range(n):
            a, b = Pair(), Pair()
            a.peer = b
            b.peer = a

    def slotted(n, cls=Slotted):
        for _ in range(n):
            a, b = cls(), cls()
            a.other, b.other = b, a

    def lists(n):
        for _ in range(n):
            x = []
            x.append(x)

    def error():
        try:
            raise KeyError("k")
        except KeyError as exc:
            kept = exc

    def errors(n):
        for _ in range(n):
            error()

    def closure():
        def again(k):
            return again(k - 1) if k else 0
        again(1)

    def closures(n):
        for _ in range(n):
            closure()

    def dicts(n):
        for _ in range(n):
            a = Pair()
            a.__dict__ = {}             # a real instance __dict__ this time
            a.me = {"owner": a}
"""


def program(*parts):
    return "".join(textwrap.dedent(part) for part in parts)


def run(fresh_python, code, *args, env=None):
    proc = fresh_python(code, *args, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc


def last_json(proc):
    return json.loads(proc.stdout.strip().splitlines()[-1])


def shapes_by_path(report):
    return {shape["path"]: shape for shape in report["shapes"]}


def find(report, pattern):
    found = [s for s in report["shapes"] if re.fullmatch(pattern, s["path"])]
    assert len(found) == 1, (pattern, [s["path"] for s in report["shapes"]])
    return found[0]


@pytest.fixture(scope="module")
def shapes_report(tmp_path_factory):
    """One report of every known shape, two collections' worth."""
    cwd = tmp_path_factory.mktemp("shapes")
    code = textwrap.dedent(SHAPES) + textwrap.dedent("""
        gcx.collect()
        with R.record_cycles() as report:
            for make in (trees, pairs, slotted, lists, errors, closures, dicts):
                make(10)
            slotted(2, Bare)
            gcx.collect()
            pairs(5)
            gcx.collect()
        print(report.text())
        print(report.json())
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ, PYTHONPATH=GCX_ROOT), timeout=120)
    assert proc.returncode == 0, proc.stderr
    text, _, data = proc.stdout.rpartition("\n{")
    return text, json.loads("{" + data)


def test_tree_with_parent_pointers(shapes_report):
    _, report = shapes_report
    shape = find(report, r"Node\.parent -> Node\.children\[\d\] -> Node"
                         r"|Node\.children\[\d\] -> Node\.parent -> Node")
    # each tree: 5 nodes and the root's children list (the leaves' empty
    # children lists are held, not in the cycle)
    assert (shape["groups"], shape["objects"]) == (10, 60)
    assert shape["min_size"] == shape["max_size"] == 6
    assert shape["types"] == {"Node": 5, "list": 1}
    assert shape["held"] == 40 and shape["held_types"] == {"list": 40}
    assert sorted(map(tuple, shape["edges"])) == [
        ("Node", ".children", "list"), ("Node", ".parent", "Node"), ("list", "[]", "Node")]
    assert shape["suggestion"]["edge"] == "Node.parent"
    assert "weak reference" in shape["suggestion"]["advice"]


def test_pairs_aggregate_across_collections(shapes_report):
    _, report = shapes_report
    shape = shapes_by_path(report)["Pair.peer -> Pair.peer -> Pair"]
    assert (shape["groups"], shape["objects"], shape["collections"]) == (15, 30, 2)
    assert shape["generations"] == {"2": 15}
    assert shape["suggestion"]["edge"] == "Pair.peer"
    assert report["shapes"][0]["path"] in ("Pair.peer -> Pair.peer -> Pair",)


def test_slots_self_lists_and_instance_dicts(shapes_report):
    _, report = shapes_report
    paths = shapes_by_path(report)
    shape = paths["Slotted.other -> Slotted.other -> Slotted"]
    assert shape["groups"] == 10
    assert shape["suggestion"]["advice"] == ("make Slotted.other a weak reference "
                                             "(weakref.ref or weakref.proxy)")
    shape = paths["Bare.other -> Bare.other -> Bare"]
    assert "Bare needs '__weakref__' in its __slots__" in shape["suggestion"]["advice"]
    assert paths["list[0] -> list"]["objects"] == 10
    assert paths["list[0] -> list"]["suggestion"] is None
    # an instance and its own __dict__ are one member; the edge is .me
    shape = paths["Pair.me['owner'] -> Pair"]
    assert shape["types"] == {"Pair": 1, "dict": 1}
    assert shape["min_size"] == 3       # the instance, its __dict__, the dict


def test_frames_tracebacks_and_closures(shapes_report):
    _, report = shapes_report
    shape = find(report, r"KeyError\.__traceback__ -> traceback\.tb_frame -> "
                         r"frame error\.f_locals\['kept'\] -> KeyError")
    assert shape["groups"] == 10
    assert "traceback" in shape["hint"]
    assert shape["suggestion"] is None
    shape = find(report, r"function closure\.<locals>\.again\.__closure__\[0\] -> "
                         r"cell\.cell_contents -> function closure\.<locals>\.again")
    assert shape["groups"] == 10 and "closure" in shape["hint"]


def test_report_totals_and_text(shapes_report):
    text, report = shapes_report
    assert report["collections"] == 2
    assert report["groups"] == sum(s["groups"] for s in report["shapes"])
    assert report["in_cycles"] == sum(s["objects"] for s in report["shapes"])
    assert report["objects"] >= report["in_cycles"] + 40
    assert report["uncollectable"] == 0 and report["errors"] == []
    lines = text.splitlines()
    assert lines[0].startswith("gcx cycle report: ")
    assert "#1  15 groups of 2 objects (30 objects) in 2 collections" in lines
    assert "    Pair.peer -> Pair.peer -> Pair" in lines
    assert "    break it: make Pair.peer a weak reference (weakref.ref or weakref.proxy)" \
        in lines


# ------------------------------------------------------------------ no side effects

DIFFERENTIAL = """
    import weakref
    from gcx import _gcxtest

    class Finalized(Pair):
        def __del__(self):
            counts["finalized"] += 1

    class Phoenix(Pair):
        def __del__(self):
            survivors.append(self)          # resurrects itself

    counts = {"finalized": 0, "callbacks": 0}
    survivors = []
    watchers = []

    def make_everything():
        trees(20); pairs(20); slotted(5); lists(5); errors(5); closures(5); dicts(5)
        for i in range(10):
            a, b = Finalized(), Phoenix() if i % 3 == 0 else Pair()
            a.peer, b.peer = b, a
            watchers.append(weakref.ref(b, lambda r: counts.__setitem__(
                "callbacks", counts["callbacks"] + 1)))
        legacy = _gcxtest.LegacyDel()
        legacy.ref = _gcxtest.Box(legacy)
        class Local:                         # a class, garbage once dropped
            pass
        Local.me = Local

    gcx.disable()
    gc.disable()    # the stdlib collector's timing depends on allocations, which recording changes
    gcx.collect()
    mode = sys.argv[1]
    results = []
    recorder = R.record_cycles() if mode == "record" else None
    if recorder is not None:
        report = recorder.__enter__()
    for generation in (0, 1, 2, 2):
        make_everything()
        results.append(gcx.collect(generation))
    gcx.set_debug(gcx.DEBUG_SAVEALL)
    make_everything()
    results.append(gcx.collect())
    saved = sorted(type(o).__name__ for o in gcx.garbage)
    # nothing in gcx.garbage got a __dict__ it did not have (3.13: the
    # managed dict pointer sits 3 words before the object)
    import ctypes
    materialized = sum(
        1 for o in gcx.garbage
        if type(o).__flags__ & (1 << 2)
        and ctypes.c_void_p.from_address(id(o) - 3 * ctypes.sizeof(ctypes.c_void_p)).value)
    gcx.set_debug(0)
    if recorder is not None:
        recorder.__exit__(None, None, None)
    print(json.dumps({"results": results, "counts": counts, "saved": saved,
                      "survivors": len(survivors), "dead": sum(w() is None for w in watchers),
                      "stats": [{k: s[k] for k in ("collections", "collected", "uncollectable")}
                                for s in gcx.get_stats()],
                      "materialized": materialized,
                      "groups": report.groups if recorder else None}))
"""


@pytest.mark.parametrize("env", [None, {"GCX_MODE": "safe"}], ids=["default", "safe"])
def test_reporting_changes_nothing_collected(env, tmp_path):
    """The same program with and without a report: the same numbers
    collected per collection, the same finalizers, weakref callbacks,
    resurrections and gc.garbage, and no instance given a __dict__."""
    outputs = {}
    for mode in ("plain", "record"):
        proc = subprocess.run(
            [sys.executable, "-X", "faulthandler", "-c", program(SHAPES, DIFFERENTIAL), mode],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
            env=dict(os.environ, PYTHONPATH=GCX_ROOT, **(env or {})))
        assert proc.returncode == 0, proc.stderr
        outputs[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    plain, recorded = outputs["plain"], outputs["record"]
    assert plain.pop("groups") is None
    assert recorded.pop("groups") > 100
    assert recorded == plain
    # the five instances of dicts() that were given a __dict__, no other
    assert plain["materialized"] == 5
    assert plain["counts"]["finalized"] > 0 and plain["counts"]["callbacks"] > 0
    assert plain["survivors"] > 0 and "LegacyDel" in plain["saved"]


def test_report_keeps_nothing_alive(fresh_python):
    proc = run(fresh_python, program(SHAPES, """
        import weakref
        gcx.disable()
        gcx.collect()
        with R.record_cycles() as report:
            class Local:
                pass
            a, b = Local(), Local()
            a.peer, b.peer = b, a
            refs = [weakref.ref(a), weakref.ref(b), weakref.ref(Local)]
            del a, b, Local
            first = gcx.collect()
            again = gcx.collect()
        assert report.groups >= 2, report.text()
        # the objects and their class are gone: the report kept no reference
        print(json.dumps([first, again, [r() is None for r in refs],
                          [s.path for s in report.top()]]))
    """))
    first, again, dead, paths = last_json(proc)
    assert first >= 2 + 5 and again == 0
    assert dead == [True, True, True]
    assert "Local.peer -> Local.peer -> Local" in paths


def test_analyze_objects_held_by_the_caller(fresh_python):
    proc = run(fresh_python, program(SHAPES, """
        gcx.disable()
        gcx.collect()
        gcx.set_debug(gcx.DEBUG_SAVEALL)
        pairs(3)
        gcx.collect()
        report = R.analyze(gcx.garbage)
        assert len(gcx.garbage) == 6
        print(json.dumps([report.groups, report.top()[0].path, report.collections]))
    """))
    assert last_json(proc) == [3, "Pair.peer -> Pair.peer -> Pair", 1]


def test_uncollectable_members(fresh_python):
    proc = run(fresh_python, """
        import json, gcx
        from gcx import _gcxtest, report as R
        gcx.disable()
        gcx.collect()
        with R.record_cycles() as report:
            legacy = _gcxtest.LegacyDel()
            legacy.ref = _gcxtest.Box(legacy)
            del legacy
            gcx.collect()
        gcx.garbage.clear()
        shape = report.top()[0]
        print(json.dumps([report.uncollectable, shape.uncollectable, sorted(shape.types)]))
    """)
    assert last_json(proc) == [2, 2, ["Box", "LegacyDel"]]


def test_debug_cycles_flag(fresh_python):
    proc = run(fresh_python, program(SHAPES, """
        assert gcx.DEBUG_CYCLES == 1 << 10
        assert gcx.DEBUG_CYCLES & (gcx.DEBUG_LEAK | gcx.DEBUG_STATS) == 0
        gcx.disable()
        gcx.collect()
        gcx.set_debug(gcx.DEBUG_CYCLES)
        assert gcx.get_debug() == gcx.DEBUG_CYCLES
        pairs(4)
        trees(2)
        gcx.collect()
        pairs(1)
        gcx.collect(0)
        gcx.set_debug(0)
        pairs(1)
        gcx.collect()                    # not reported
        report = gcx.cycle_report()
        print(json.dumps([report.collections, report.groups,
                          [(s.path, s.groups) for s in report.top()]]))
    """))
    collections, groups, shapes = last_json(proc)
    assert (collections, groups) == (2, 7)
    assert shapes[0] == ["Pair.peer -> Pair.peer -> Pair", 5]
    lines = proc.stderr.splitlines()
    assert lines[0] == ("gcx: cycles in generation 2: 20 objects in 6 cycles of 2 shapes, "
                        "holding 8 more, in 1 collection")
    assert "gcx:   4 x 2 objects: Pair.peer -> Pair.peer -> Pair" in lines
    assert lines[-2].startswith("gcx: cycles in generation 0: 2 objects in 1 cycle")
    assert len(lines) == 5


def test_record_cycles_nests(fresh_python):
    proc = run(fresh_python, program(SHAPES, """
        gcx.disable()
        gcx.collect()
        with R.record_cycles() as outer:
            pairs(2)
            with R.record_cycles(collect=True) as inner:
                lists(3)
            pairs(1)
            gcx.collect()
        print(json.dumps([outer.groups, inner.groups, len(R._listeners)]))
    """))
    # the inner block's collection finds the two pairs made before it too
    assert last_json(proc) == [6, 5, 0]


# ------------------------------------------------------------------ python -m gcx report

PROGRAM = """
    import sys

    class Node:
        def __init__(self, parent=None):
            self.parent = parent
            self.children = []
            if parent is not None:
                parent.children.append(self)

    def build(n):
        for _ in range(n):
            root = Node()
            Node(Node(root))

    build(int(sys.argv[1]))
    print("built", sys.argv[1:])
    sys.exit(int(sys.argv[2]))
"""


def test_cli_report_script(tmp_path):
    (tmp_path / "prog.py").write_text(textwrap.dedent(PROGRAM))
    proc = gcx_cli("report", "--json", "out.json", "prog.py", "3000", "4", cwd=tmp_path)
    assert proc.returncode == 4, proc.stderr
    # the report on standard output, the program's own output on standard error
    assert proc.stderr == "built ['3000', '4']\n"
    report = json.loads((tmp_path / "out.json").read_text())
    top = report["shapes"][0]
    assert top["path"] in ("Node.parent -> Node.children[0] -> Node",
                           "Node.children[0] -> Node.parent -> Node")
    assert top["groups"] == 3000 and top["objects"] == 3000 * 5
    assert top["suggestion"]["edge"] == "Node.parent"
    assert report["collections"] > 1        # automatic collections while it ran
    assert proc.stdout.startswith("gcx cycle report: ")
    assert "\n#1  3000 groups of 5 objects (15000 objects) in " in proc.stdout
    assert "break it: make Node.parent a weak reference" in proc.stdout


def test_cli_report_json_to_stdout_is_json_alone(tmp_path):
    # `report --json -`: standard output parses as JSON; the program's own
    # output (print, and fd 1 written by C code or a child) and the text
    # report go to standard error
    (tmp_path / "prog.py").write_text(textwrap.dedent("""
        import os, subprocess, sys
        print("from print")
        os.write(1, b"from fd 1\\n")
        subprocess.run([sys.executable, "-c", "print('from a child')"])
        class Node:
            pass
        for _ in range(50):
            a, b = Node(), Node()
            a.peer, b.peer = b, a
    """))
    proc = gcx_cli("report", "--json", "-", "prog.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["shapes"][0]["groups"] >= 50
    for line in ("from print", "from fd 1", "from a child"):
        assert line in proc.stderr
    assert "gcx cycle report: " in proc.stderr


def test_cli_report_pipes_to_a_pager(tmp_path):
    # `gcx report prog.py | less` shows the report
    (tmp_path / "prog.py").write_text("print('hello')\n")
    proc = gcx_cli("report", "prog.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("gcx cycle report: ")
    assert proc.stderr == "hello\n"


def test_cli_report_tracemalloc_and_module(tmp_path):
    (tmp_path / "prog.py").write_text(textwrap.dedent(PROGRAM))
    proc = gcx_cli("report", "--tracemalloc", "4", "-o", "-", "--top", "1",
                   "-m", "prog", "10", "0", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("gcx cycle report: ") and proc.stderr == "built ['10', '0']\n"
    assert "#1  10 groups of 5 objects" in out and "\n#2" not in out
    assert "allocated at (tracemalloc):" in out
    assert re.search(r'File ".*prog\.py", line \d+', out)


def test_cli_report_demo(tmp_path):
    proc = gcx_cli("report", "--scale", "0.02", "--top", "4", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("gcx cycle report: ")
    assert re.search(r"Node\.(parent|children\[\d+\]) -> Node\.(parent|children\[\d+\]) "
                     r"-> Node", text)
    assert "Token.next -> Token.prev -> Token" in text or \
           "Token.prev -> Token.next -> Token" in text
    assert "Handler.owner -> Session.handler -> Handler" in text
    assert ("break it: make Handler.owner a weak reference (weakref.ref or weakref.proxy) "
            "and Handler.callback a weak reference (weakref.WeakMethod)") in text


def test_cli_report_bad_arguments(tmp_path):
    for args in (["report", "--top", "0"], ["report", "-m"],
                 ["report", "--scale", "2", "x.py"]):
        proc = gcx_cli(*args, cwd=tmp_path)
        assert proc.returncode == 2, args
        assert "usage: python -m gcx" in proc.stderr
    proc = gcx_cli("report", "missing.py", cwd=tmp_path)
    assert proc.returncode == 2 and "can't open file" in proc.stderr


# ------------------------------------------------------------------ the advice, by the graph

ADVICE_SHAPES = {
    # a tree whose attribute names say nothing: Q.k holds the children in a
    # list, Q.z points back at the parent; the back-pointer is the edge many
    # children share one target by, and a list cannot be weakly referenced
    "tree": ("""
        class Q:
            def __init__(self, z=None):
                self.z, self.k = z, []
                if z is not None:
                    z.k.append(self)
        def make():
            root = Q()
            for _ in range(4):
                Q(root)
        """, "Q.z", "weakref.ref or weakref.proxy"),
    # an observer: a bus holds bound methods of widgets in a dict, each
    # widget holds the bus; never the dict (it cannot be weakly referenced)
    "observer": ("""
        class V:
            def __init__(self):
                self.m = {}
        class W:
            def __init__(self, v, i):
                self.r = v
                v.m[i] = self.f
            def f(self):
                pass
        def make():
            v = V()
            for i in range(3):
                W(v, i)
        """, "W.r", "weakref.ref or weakref.proxy"),
    # a callback and an owner in one object: both attributes, the bound
    # method by WeakMethod
    "handler": ("""
        class S:
            def g(self):
                pass
        class H:
            def __init__(self, s):
                self.a, self.b = s, s.g
                s.c = self
        def make():
            H(S())
        """, None, "weakref.WeakMethod"),
    # an exception stored on an attribute inside `except`: its traceback's
    # frame holds self; a weak reference to the exception would be dead at
    # once, so no attribute is proposed and the hint says what to do
    "stored exception": ("""
        class E:
            def go(self):
                try:
                    raise ValueError("x")
                except ValueError as e:
                    self.t = e
        def make():
            E().go()
        """, "", "with_traceback(None)"),
}


@pytest.mark.parametrize("name", list(ADVICE_SHAPES))
def test_advice_is_chosen_by_the_graph(fresh_python, name):
    code, edge, words = ADVICE_SHAPES[name]
    proc = run(fresh_python, program("""
        import json, gcx
        from gcx import report as R
        """, code, """
        gcx.disable()
        gcx.collect()
        with R.record_cycles() as report:
            for _ in range(5):
                make()
            gcx.collect()
        top = report.top()[0]
        print(json.dumps([top.path, top.suggestion, top.hint]))
        """))
    path, suggestion, hint = last_json(proc)
    if edge == "":
        assert suggestion is None, (path, suggestion)
        assert words in hint, (path, hint)
        return
    assert suggestion is not None, path
    if edge is not None:
        assert suggestion["edge"] == edge, (path, suggestion)
    assert words in suggestion["advice"], (path, suggestion)
    assert "cannot be weakly referenced" not in suggestion["advice"], suggestion
