"""Cycle reports (gcx/report.py): shapes, edge names, aggregation, the weak
reference suggestion, and that reporting changes nothing about what is
collected.  Every test runs its program in a fresh interpreter."""
import json
import os
import re
import sys

import pytest

import helpers
from helpers import PROGRAMS, gcx_cli

pytestmark = pytest.mark.subprocess

# The programs are tests/programs/report/; the shapes most of them make
# (trees, pairs, slotted, lists, errors, closures, dicts) are in its shapelib.py.


def run(run_program, name, *args, env=None):
    proc = run_program(f"report/{name}", *args, env=env)
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
    proc = helpers.run_program("report/all_shapes.py", cwd=tmp_path_factory.mktemp("shapes"))
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

@pytest.mark.parametrize("env", [None, {"GCX_MODE": "safe"}], ids=["default", "safe"])
def test_reporting_changes_nothing_collected(env, run_program):
    """The same program with and without a report: the same numbers
    collected per collection, the same finalizers, weakref callbacks,
    resurrections and gc.garbage, and no instance given a __dict__."""
    outputs = {}
    for mode in ("plain", "record"):
        proc = run_program("report/differential.py", mode, env=env)
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


def test_naming_frame_locals_creates_nothing(run_program):
    # 3.12's frame.f_locals would give each function frame a dict of its
    # locals: one more object in the garbage than without a report
    found, dicts, frames_with_dict, paths = last_json(run(run_program, "frame_locals.py"))
    assert found >= 15 and dicts == 0 and frames_with_dict == 0
    assert paths == ["KeyError.__traceback__ -> traceback.tb_frame -> "
                     "frame error.f_locals['kept'] -> KeyError"]


def test_report_keeps_nothing_alive(run_program):
    proc = run(run_program, "keeps_nothing_alive.py")
    first, again, dead, paths = last_json(proc)
    # the pair, and the class with what it alone holds (its __mro__, its
    # dict, descriptors: 5 objects on 3.13 and 3.14, 4 on 3.15)
    assert first >= 2 + (5 if sys.version_info < (3, 15) else 4) and again == 0
    assert dead == [True, True, True]
    assert "Local.peer -> Local.peer -> Local" in paths


def test_analyze_objects_held_by_the_caller(run_program):
    proc = run(run_program, "analyze_held.py")
    assert last_json(proc) == [3, "Pair.peer -> Pair.peer -> Pair", 1]


def test_uncollectable_members(run_program):
    proc = run(run_program, "uncollectable.py")
    assert last_json(proc) == [2, 2, ["Box", "LegacyDel"]]


def test_debug_cycles_flag(run_program):
    proc = run(run_program, "debug_cycles.py")
    collections, groups, shapes = last_json(proc)
    assert (collections, groups) == (2, 7)
    assert shapes[0] == ["Pair.peer -> Pair.peer -> Pair", 5]
    lines = proc.stderr.splitlines()
    assert lines[0] == ("gcx: cycles in generation 2: 20 objects in 6 cycles of 2 shapes, "
                        "holding 8 more, in 1 collection")
    assert "gcx:   4 x 2 objects: Pair.peer -> Pair.peer -> Pair" in lines
    assert lines[-2].startswith("gcx: cycles in generation 0: 2 objects in 1 cycle")
    assert len(lines) == 5


def test_record_cycles_nests(run_program):
    proc = run(run_program, "nested_records.py")
    # the inner block's collection finds the two pairs made before it too
    assert last_json(proc) == [6, 5, 0]


# ------------------------------------------------------------------ python -m gcx report

REPORT = os.path.join(PROGRAMS, "report")


def test_cli_report_script(tmp_path):
    proc = gcx_cli("report", "--json", "out.json", os.path.join(REPORT, "build_trees.py"),
                   "3000", "4", cwd=tmp_path)
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
    proc = gcx_cli("report", "--json", "-", os.path.join(REPORT, "writes_stdout.py"),
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["shapes"][0]["groups"] >= 50
    for line in ("from print", "from fd 1", "from a child"):
        assert line in proc.stderr
    assert "gcx cycle report: " in proc.stderr


def test_cli_report_pipes_to_a_pager(tmp_path):
    # `gcx report prog.py | less` shows the report
    proc = gcx_cli("report", os.path.join(REPORT, "hello.py"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("gcx cycle report: ")
    assert proc.stderr == "hello\n"


def test_cli_report_tracemalloc_and_module(tmp_path):
    # -m: the module found on PYTHONPATH (the current directory is tmp_path)
    proc = gcx_cli("report", "--tracemalloc", "4", "-o", "-", "--top", "1",
                   "-m", "build_trees", "10", "0", cwd=tmp_path, env={"PYTHONPATH": REPORT})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("gcx cycle report: ") and proc.stderr == "built ['10', '0']\n"
    assert "#1  10 groups of 5 objects" in out and "\n#2" not in out
    assert "allocated at (tracemalloc):" in out
    assert re.search(r'File ".*build_trees\.py", line \d+', out)


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
        assert len(proc.stderr.splitlines()) == 1, (args, proc.stderr)
        assert proc.stderr.startswith("python -m gcx report: error: "), args
    proc = gcx_cli("report", "missing.py", cwd=tmp_path)
    assert proc.returncode == 2 and "can't open file" in proc.stderr


# ------------------------------------------------------------------ the advice, by the graph

# SHAPE: (the edge the suggestion names: None for any, "" for no suggestion;
# words in its advice, or in the hint when there is no suggestion).  The
# shapes, and why each gets its advice, are described in report/advice.py.
ADVICE_SHAPES = {
    "tree": ("Q.z", "weakref.ref or weakref.proxy"),
    "observer": ("W.r", "weakref.ref or weakref.proxy"),
    "handler": (None, "weakref.WeakMethod"),
    "stored_exception": ("", "with_traceback(None)"),
}


@pytest.mark.parametrize("name", list(ADVICE_SHAPES))
def test_advice_is_chosen_by_the_graph(run_program, name):
    edge, words = ADVICE_SHAPES[name]
    proc = run(run_program, "advice.py", name)
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
