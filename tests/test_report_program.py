"""``gcx report`` on whole programs (tests/programs/report_*.py): the
groups freed at exit apart from what the program made."""
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
