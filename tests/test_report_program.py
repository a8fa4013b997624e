"""``gcx report`` on whole programs (tests/programs/report_*.py): edges
named in a script's own classes, the groups freed at exit apart from what
the program made, gcx's and runpy's frames never shown, and lru_cache on a
method named for what it is."""
import json
import os
import subprocess
import sys

import pytest

from helpers import child_env, gcx_cli

PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")


def _console_script():
    """The installed ``gcx`` console script, or None."""
    import sysconfig
    for directory in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        path = os.path.join(directory, "gcx")
        if os.path.exists(path):
            return path
    return None


def _console(*args, cwd):
    script = _console_script()
    if script is None:
        pytest.skip("no gcx console script installed beside this python")
    return subprocess.run([script, *args], capture_output=True, text=True, cwd=cwd,
                          env=child_env(), timeout=120)


RUNNERS = {"python -m gcx": gcx_cli, "gcx": _console}


def report(tmp_path, program, *options, status=0, runner=gcx_cli):
    """``report OPTIONS --json - PROGRAM``: (the JSON report, the process)."""
    proc = runner("report", *options, "--json", "-", os.path.join(PROGRAMS, program),
                  cwd=tmp_path)
    assert proc.returncode == status, proc.stderr
    return json.loads(proc.stdout), proc


def edge_set(shape):
    return {tuple(edge) for edge in shape["edges"]}


def frames(shape):
    return {name for name in shape["types"] if name.startswith("frame ")}


# ------------------------------------------------------------------ labels

@pytest.mark.parametrize("runner", list(RUNNERS))
def test_script_classes_edges_are_named(tmp_path, runner):
    # the classes are the script's, its attributes set from outside them
    # (in functions, by setattr, in top-level statements): every edge named
    data, _ = report(tmp_path, "report_labels.py", runner=RUNNERS[runner])
    expected = [
        {("Qa", ".q1", "Qa")},
        {("Qa", ".t8", "Qa"), ("Qa", ".t9", "Qa")},
        {("Qb", ".zz", "dict"), ("dict", "<key>", "Qc"), ("Qc", ".yy", "Qb")},
        {("Qd", ".vv", "Qd")},
        {("Qe", ".s4", "Qe"), ("Qe", ".p0", "Qe")},
    ]
    found = {frozenset(edge_set(s)): s for s in data["shapes"]}
    for edges in expected:
        shape = found.get(frozenset(edges))
        assert shape is not None, (edges, [s["path"] for s in data["shapes"]])
        assert shape["groups"] == 5, shape
        assert ".?" not in shape["path"], shape["path"]
    assert len(data["shapes"]) == len(expected), [s["path"] for s in data["shapes"]]


# ------------------------------------------------------------------ at exit

def test_groups_freed_at_exit_are_left_out(tmp_path):
    data, proc = report(tmp_path, "report_exit.py")
    classes = {name for shape in data["shapes"] for name in shape["types"]
               if name.startswith("class ")}
    # the classes it made and dropped while it ran, and no other
    assert classes == {f"class Made{i}" for i in range(5)}, classes
    pairs = [s for s in data["shapes"] if s["path"] == "Pair.peer -> Pair.peer -> Pair"]
    assert [s["groups"] for s in pairs] == [5]
    assert "at_exit" not in data
    assert "(left out: " in proc.stderr and "--at-exit shows them" in proc.stderr


def test_at_exit_shows_them_apart(tmp_path):
    plain, _ = report(tmp_path, "report_exit.py")
    data, proc = report(tmp_path, "report_exit.py", "--at-exit")
    at_exit = data.pop("at_exit")
    assert [(s["path"], s["groups"]) for s in data["shapes"]] == \
        [(s["path"], s["groups"]) for s in plain["shapes"]]
    names = {name for shape in at_exit["shapes"] for name in shape["types"]}
    assert {"class ParseError", "class Colour"} <= names, names
    assert not any(name.startswith("class Made") for name in names)
    assert at_exit["groups"] == len(at_exit["shapes"]) >= 3
    assert "\nat exit: " in proc.stderr and "(left out" not in proc.stderr


# ------------------------------------------------------------------ gcx's own frames

PROGRAM_FRAMES = {"frame <module>", "frame work", "frame fail"}


def test_no_frames_of_gcx_or_runpy(tmp_path):
    data, proc = report(tmp_path, "report_raises.py", status=1)
    assert proc.stderr.startswith("Traceback (most recent call last):")
    assert "ValueError: the program fails" in proc.stderr
    for shape in data["shapes"]:
        assert frames(shape) <= PROGRAM_FRAMES, shape
        assert "_TempModule" not in shape["types"] and "module" not in shape["types"]
    # the cycle fail() makes: an exception kept by its own frame
    shape = next(s for s in data["shapes"] if "frame fail" in s["types"])
    assert shape["groups"] == 5 and frames(shape) == {"frame fail", "frame work"}

    # the exception kept in a global: the program's cycle, at exit, through
    # its module's frame and not the frames of runpy and gcx that called it
    data, _ = report(tmp_path, "report_raises.py", "--at-exit", status=1)
    kept = [s for s in data["at_exit"]["shapes"] if "frame <module>" in s["types"]]
    assert len(kept) == 1, data["at_exit"]["shapes"]
    assert frames(kept[0]) == {"frame <module>", "frame work"}
    assert "KeyError.__traceback__ -> traceback.tb_frame -> frame <module>" in kept[0]["path"]
    assert "frame" not in kept[0]["held_types"]
    for shape in data["shapes"] + data["at_exit"]["shapes"]:
        assert frames(shape) <= PROGRAM_FRAMES, shape


def test_a_frame_of_gcx_in_a_programs_cycle(tmp_path):
    # record_cycles(): the exception passed through gcx.no_cycles()'s frame
    proc = subprocess.run([sys.executable, os.path.join(PROGRAMS, "report_own_frames.py")],
                          capture_output=True, text=True, cwd=tmp_path, env=child_env(),
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    # one shape: no frame of gcx's in it, nor the garbage of gcx's own imports
    assert [(s["path"], s["groups"], s["types"]) for s in data["shapes"]] == [
        ("KeyError.__traceback__ -> traceback.tb_frame -> frame catch.f_locals['kept'] "
         "-> KeyError", 3, {"KeyError": 1, "traceback": 1, "frame catch": 1})]


# ------------------------------------------------------------------ lru_cache on a method

def test_lru_cache_on_a_method(tmp_path):
    data, _ = report(tmp_path, "report_lru.py")
    # the class made at run time, its cache holding its instances
    shape = next(s for s in data["shapes"] if "make.<locals>.Qz" in s["types"])
    assert shape["types"]["make.<locals>.Qz"] == 4
    assert shape["types"]["lru_cache make.<locals>.Qz.j3"] == 1, shape["types"]
    hint = shape["hint"]
    assert hint.startswith("functools.lru_cache on the method make.<locals>.Qz.j3: "), hint
    assert "functools.cached_property" in hint and "per instance" in hint
    assert "created at run time" not in hint
    assert "<cache>" in shape["path"] and ".?" not in shape["path"], shape["path"]
    assert shape["suggestion"] is None

    # the module's classes: cyclic garbage only once the module is dropped
    data, _ = report(tmp_path, "report_lru.py", "--at-exit")
    shape = next(s for s in data["at_exit"]["shapes"] if "Qv" in s["types"])
    assert shape["types"]["Qv"] == shape["types"]["Qw"] == 4
    assert {"lru_cache Qv.g1", "lru_cache Qw.h2"} <= set(shape["types"]), shape["types"]
    assert shape["hint"].startswith(
        "functools.lru_cache on the methods Qv.g1, Qw.h2: their caches keep every Qv "
        "and Qw"), shape["hint"]
    labels = {label for _, label, _ in shape["edges"]}
    assert {"<cache>", "<cache entry>", ".__class__"} <= labels and ".?" not in labels
