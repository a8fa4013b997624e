"""``python -m gcx compare`` (gcx/compare.py) and the pause statistics it is
built on.  Every comparison runs the command line in a fresh interpreter,
which runs the program in two more."""
import csv
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

import gcx
from gcx import compare

GCX_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(gcx.__file__)))
SCALE = "0.05"          # the demo at a twentieth of its size: well under a second


def gcx_cli(*args, cwd, env=None, timeout=300):
    child_env = dict(os.environ, **(env or {}))
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in ((env or {}).get("PYTHONPATH"), GCX_ROOT, os.environ.get("PYTHONPATH"))
        if p)
    return subprocess.run([sys.executable, "-X", "faulthandler", "-m", "gcx", *args],
                          capture_output=True, text=True, cwd=cwd, env=child_env,
                          timeout=timeout)


def parse_table(text):
    """(header lines, {row label: (stdlib, gcx, ratio)}) of the table;
    percentile rows are keyed "<generation block> <label>"."""
    lines = text.splitlines()
    blank = lines.index("")
    header, body = lines[:blank], lines[blank + 1:]
    assert body[0].split() == ["stdlib", "gc", "gcx", "gcx/stdlib"]
    rows = {}
    block = None
    for line in body[1:]:
        if not line.strip():
            break
        m = re.match(r"(\S.*?|  \S.*?)\s{2,}(\S+)\s+(\S+)(?:\s+(\S+x))?$", line)
        assert m, line
        label, stdlib, ours, ratio = m.groups()
        if label.endswith(" pauses"):
            block = label[:-len(" pauses")]
        if label.startswith("  "):
            label = f"{block} {label.strip()}"
        assert label not in rows, line
        rows[label] = (stdlib, ours, ratio)
    return header, rows


def number(text):
    return float(text.rstrip("%"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("compare")
    proc = gcx_cli("compare", "--scale", SCALE, "--repeat", "2", "--json", "out.json",
                   "--csv", "out.csv", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc, cwd


def test_demo_table(demo):
    proc, _ = demo
    header, rows = parse_table(proc.stdout)
    assert header[0] == (f"gcx {gcx.__version__} compare: the bundled demo workload "
                         f"(scale {float(SCALE):g}), medians of 2 runs each, "
                         "alternating which goes first")
    assert header[1].endswith(f"gcx in {gcx.mode()} mode")
    for label in ("wall time (s)", "CPU time (s)", "time in collections (ms)",
                  "share of the run in collections", "collections", "objects collected",
                  "uncollectable", "peak garbage found by one collection", "peak RSS (MB)",
                  "exit status"):
        assert label in rows, label
    for column in (0, 1):
        assert number(rows["wall time (s)"][column]) > 0
        assert number(rows["collections"][column]) > 10
        assert number(rows["generation 0 pauses"][column]) > 10
        assert number(rows["objects collected"][column]) > 10_000
        assert number(rows["peak garbage found by one collection"][column]) > 100
        assert number(rows["peak RSS (MB)"][column]) > 5
        share = number(rows["share of the run in collections"][column])
        gc_ms = number(rows["time in collections (ms)"][column])
        wall = number(rows["wall time (s)"][column])
        assert 0 < share < 100
        assert share == pytest.approx(100 * gc_ms / 1000 / wall, rel=0.3, abs=0.5)
        for q in ("p50", "p95", "p99", "max"):
            assert number(rows[f"generation 0 {q} (ms)"][column]) > 0
        p50, p95, p99, top = (number(rows[f"all {q} (ms)"][column])
                              for q in ("p50", "p95", "p99", "max"))
        assert p50 <= p95 <= p99 <= top
    assert rows["exit status"][:2] == ("0", "0")
    assert rows["uncollectable"][:2] == ("0", "0")
    # the same deterministic program: both collectors collect about as much
    stdlib, ours = (number(v) for v in rows["objects collected"][:2])
    assert ours == pytest.approx(stdlib, rel=0.25)
    assert rows["wall time (s)"][2].endswith("x")


def test_demo_runs_alternate_with_progress(demo):
    proc, _ = demo
    runs = re.findall(r"\[(\d)/4\] the bundled demo workload \(scale [\d.]+\) under (.+?) \.\.\.",
                      proc.stderr)
    assert runs == [("1", "stdlib gc"), ("2", "gcx"), ("3", "gcx"), ("4", "stdlib gc")]
    assert len(re.findall(r"gcx compare:   [\d.]+ s, \d+ collections", proc.stderr)) == 4


def test_json_and_csv_hold_the_table(demo):
    proc, cwd = demo
    _, rows = parse_table(proc.stdout)
    data = json.loads((cwd / "out.json").read_text())
    assert data["repeat"] == 2 and data["program"]["kind"] == "demo"
    assert data["environment"]["gcx_mode"] == gcx.mode()
    assert len(data["runs"]["stdlib"]) == len(data["runs"]["gcx"]) == 2
    by_metric = {row["metric"]: row for row in data["rows"]}
    assert by_metric["collections"]["stdlib"] == number(rows["collections"][0])
    assert by_metric["objects collected"]["gcx"] == number(rows["objects collected"][1])
    assert f"{by_metric['wall time']['stdlib']:.3f}" == rows["wall time (s)"][0]
    assert by_metric["wall time"]["ratio"] == pytest.approx(
        by_metric["wall time"]["gcx"] / by_metric["wall time"]["stdlib"])
    assert by_metric["generation 0 pause p99"]["unit"] == "ms"
    table = list(csv.reader(io.StringIO((cwd / "out.csv").read_text())))
    assert table[0] == ["metric", "unit", "stdlib", "gcx", "gcx/stdlib"]
    assert [r[0] for r in table[1:]] == [row["metric"] for row in data["rows"]]
    for line, row in zip(table[1:], data["rows"]):
        for cell, key in zip(line[2:], ("stdlib", "gcx", "ratio")):
            if row[key] is None:
                assert cell == ""
            else:
                assert float(cell) == pytest.approx(row[key], rel=1e-5, abs=1e-6)


PROGRAM = """
    import gc, json, os, sys

    class Pair:
        pass

    for _ in range(30_000):
        a, b = Pair(), Pair()
        a.peer, b.peer = b, a
    print("program output", sys.argv[1:])
    with open(os.environ["LOG"], "a") as log:
        log.write(json.dumps({"gcx imported": "gcx" in sys.modules,
                              "collect": gc.collect.__module__,
                              "argv": sys.argv[1:], "name": __name__}) + "\\n")
    sys.exit(int(sys.argv[1]))
"""


def test_script_with_arguments(tmp_path):
    (tmp_path / "prog.py").write_text(textwrap.dedent(PROGRAM))
    log = tmp_path / "log"
    proc = gcx_cli("compare", "--quiet", "prog.py", "3", "--repeat", cwd=tmp_path,
                   env={"LOG": str(log)})
    assert proc.returncode == 1                      # the program did not exit 0
    header, rows = parse_table(proc.stdout)
    assert header[0].startswith("gcx ") and "python prog.py 3 --repeat, 1 run each" in header[0]
    assert rows["exit status"][:2] == ("3", "3")
    assert number(rows["objects collected"][0]) >= 30_000
    # the program's output went to standard error, and no progress lines (--quiet)
    assert proc.stderr.count("program output ['3', '--repeat']") == 2
    assert "gcx compare:" not in proc.stderr
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(r["gcx imported"] for r in runs) == [False, True]
    for r in runs:
        assert r["argv"] == ["3", "--repeat"] and r["name"] == "__main__"
        assert r["collect"] == ("gcx" if r["gcx imported"] else "gc")


def test_module_and_json_to_stdout(tmp_path):
    (tmp_path / "prog.py").write_text(textwrap.dedent(PROGRAM))
    proc = gcx_cli("compare", "--json", "-", "-m", "prog", "0", cwd=tmp_path,
                   env={"LOG": str(tmp_path / "log")})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["program"] == {"kind": "module", "target": "prog", "args": ["0"],
                               "description": "python -m prog 0"}
    assert "wall time (s)" in proc.stderr          # the table went to stderr instead


def test_program_that_dies(tmp_path):
    (tmp_path / "dies.py").write_text("import os\nos._exit(7)\n")
    proc = gcx_cli("compare", "dies.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert "ended without its measurements under stdlib gc (exit status 7" in proc.stderr
    assert proc.stdout == ""


def test_program_that_raises(tmp_path):
    (tmp_path / "raises.py").write_text("def f():\n    raise ValueError('boom')\nf()\n")
    proc = gcx_cli("compare", "--quiet", "raises.py", cwd=tmp_path)
    assert proc.returncode == 1
    _, rows = parse_table(proc.stdout)
    assert rows["exit status"][:2] == ("1", "1")
    assert proc.stderr.count("ValueError: boom") == 2
    assert "<string>" not in proc.stderr and "runpy" not in proc.stderr


def test_plot_needs_matplotlib(tmp_path):
    fake = tmp_path / "fake"
    (fake / "matplotlib").mkdir(parents=True)
    (fake / "matplotlib" / "__init__.py").write_text("raise ImportError('no matplotlib')\n")
    proc = gcx_cli("compare", "--plot", "out.png", cwd=tmp_path,
                   env={"PYTHONPATH": str(fake)})
    assert proc.returncode == 2
    assert "--plot needs matplotlib" in proc.stderr
    assert "pip install 'gcx[plot]'" in proc.stderr
    assert not (tmp_path / "out.png").exists()


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="matplotlib is not installed (pip install 'gcx[plot]')")
def test_plot(tmp_path):
    proc = gcx_cli("compare", "--scale", "0.02", "--plot", "pauses.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "pauses.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote pauses.png" in proc.stderr


@pytest.mark.parametrize("args", [["compare", "--repeat", "0"], ["compare", "-m"],
                                  ["compare", "--scale", "1", "prog.py"],
                                  ["compare", "--scale", "-1"]])
def test_bad_arguments(tmp_path, args):
    proc = gcx_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage: python -m gcx" in proc.stderr


def test_missing_script(tmp_path):
    proc = gcx_cli("compare", "missing.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert "can't open file" in proc.stderr and "missing.py" in proc.stderr


def test_progress_of_long_runs():
    out = io.StringIO()
    progress = compare._Progress(out)
    progress.start("[1/2] x under gcx")
    progress.began -= 25
    progress.last -= 25
    progress.tick()
    progress.tick()                    # less than 10 s since the last line: quiet
    progress.done("25.00 s, 3 collections")
    assert out.getvalue().splitlines() == [
        "gcx compare: [1/2] x under gcx ...",
        "gcx compare:   still running (25 s)",
        "gcx compare:   25.00 s, 3 collections",
    ]


def test_percentiles():
    values = sorted(range(1, 101))
    assert [compare.percentile(values, q) for q in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert compare.percentile([], 50) is None
    assert compare.percentile([7], 99) == 7


# ------------------------------------------------------------------ pause statistics

def test_recent_pauses_and_stats(fresh_python):
    proc = fresh_python("""
        import json, time
        import gcx
        gcx.install()
        t0 = time.perf_counter()

        class Pair:
            pass

        for _ in range(200_000):
            a, b = Pair(), Pair()
            a.peer, b.peer = b, a
        gcx.collect(1)
        pauses = gcx.recent_pauses()
        stats = gcx.get_stats()
        print(json.dumps({
            "fields": list(pauses[0]._fields),
            "n": len(pauses), "collections": sum(s["collections"] for s in stats),
            "keys": sorted(stats[0]), "starts_ok": all(
                t0 <= p.start <= q.start for p, q in zip(pauses, pauses[1:])),
            "durations": [sum(p.duration for p in pauses if p.generation == g)
                          for g in range(3)],
            "stat_durations": [s["duration"] for s in stats],
            "collected": sum(p.collected for p in pauses),
            "stat_collected": sum(s["collected"] for s in stats),
            "candidates": min(p.candidates for p in pauses),
            "last_generation": pauses[-1].generation,
        }))
    """)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["fields"] == ["start", "duration", "generation", "collected",
                           "uncollectable", "candidates"]
    assert r["keys"] == ["candidates", "collected", "collections", "duration",
                         "uncollectable"]
    assert r["starts_ok"] and r["last_generation"] == 1
    assert 100 < r["n"] <= 1024
    if r["collections"] <= 1024:
        assert r["n"] == r["collections"]
        assert r["collected"] == r["stat_collected"] > 390_000
        for mine, theirs in zip(r["durations"], r["stat_durations"]):
            assert mine == pytest.approx(theirs, rel=1e-6, abs=1e-9)
    assert r["candidates"] > 0
