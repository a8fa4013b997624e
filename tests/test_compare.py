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
import helpers
from gcx import _table, compare
from helpers import GCX_ROOT, one_line_error

pytestmark = pytest.mark.subprocess

SCALE = "0.05"          # the demo at a twentieth of its size: well under a second


def gcx_cli(*args, cwd, env=None, timeout=300):
    return helpers.gcx_cli(*args, cwd=cwd, env=env, timeout=timeout)


def parse_table(text, ranges=None):
    """(header lines, {row label: (stdlib, gcx, ratio)}) of the table;
    percentile rows are keyed "<generation block> <label>".  ``ranges``, a
    dict, gets {row label: (low, high)} from the range column."""
    lines = text.splitlines()
    blank = lines.index("")
    header, body = lines[:blank], lines[blank + 1:]
    assert body[0].split() in (["stdlib", "gc", "gcx", "gcx/stdlib"],
                               ["stdlib", "gc", "gcx", "gcx/stdlib", "range"])
    rows = {}
    block = None
    for line in body[1:]:
        if not line.strip():
            break
        m = re.match(r"(\S.*?|  \S.*?)\s{2,}(\S+)\s+(\S+)(?:\s+(\S+x))?"
                     r"(?:\s+([\d.]+)-([\d.]+)x)?$", line)
        assert m, line
        label, stdlib, ours, ratio, low, high = m.groups()
        if label.endswith(" pauses"):
            block = label[:-len(" pauses")]
        if label.startswith("  "):
            label = f"{block} {label.strip()}"
        assert label not in rows, line
        rows[label] = (stdlib, ours, ratio)
        if ranges is not None and low is not None:
            ranges[label] = (float(low), float(high))
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
    ranges = {}
    header, rows = parse_table(proc.stdout, ranges)
    assert header[0] == (f"gcx {gcx.__version__} compare: the bundled demo workload "
                         f"(scale {float(SCALE):g}), medians of 2 runs each, "
                         "alternating which goes first")
    assert header[1].endswith(f"gcx in {gcx.mode()} mode")
    for label in ("wall time (s)", "CPU time (s)", "time in collections (ms)",
                  "share of the run in collections", "collections", "objects collected",
                  "uncollectable", "peak garbage found by one collection",
                  "garbage left at the end", "peak RSS (MB)", "exit status"):
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
    # the range of each ratio over the pairs of runs
    assert "range: the lowest and highest gcx/stdlib ratio over the 2 pairs" in proc.stdout
    for label in ("wall time (s)", "CPU time (s)", "peak RSS (MB)", "all p50 (ms)"):
        low, high = ranges[label]
        assert 0 < low <= high
    assert "collections" not in ranges and "exit status" not in ranges


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
    assert [c["name"] for c in data["columns"]] == ["stdlib", "gcx"]
    assert [c["policy"] for c in data["columns"]] == [None, None]
    by_metric = {row["metric"]: row for row in data["rows"]}
    # medians, printed as whole numbers (two runs that differ have a median
    # ending in .5: on 3.12, gcx's two runs of the demo need not collect alike)
    values = {metric: row["values"] for metric, row in by_metric.items()}
    assert f"{values['collections']['stdlib']:.0f}" == rows["collections"][0]
    assert f"{values['objects collected']['gcx']:.0f}" == rows["objects collected"][1]
    assert f"{values['wall time']['stdlib']:.3f}" == rows["wall time (s)"][0]
    assert (f"{values['garbage left at the end']['gcx']:.0f}"
            == rows["garbage left at the end"][1])
    wall = by_metric["wall time"]["ratios"]["gcx"]
    assert wall["ratio"] == pytest.approx(values["wall time"]["gcx"]
                                          / values["wall time"]["stdlib"])
    assert by_metric["generation 0 pause p99"]["unit"] == "ms"
    pairs = [g["wall"] / s["wall"] for s, g in zip(data["runs"]["stdlib"],
                                                   data["runs"]["gcx"])]
    assert (wall["min"], wall["max"]) == (min(pairs), max(pairs))
    assert by_metric["collections"]["ratios"]["gcx"] == {"ratio": None, "min": None,
                                                         "max": None}
    assert isinstance(data["warnings"], list)
    table = list(csv.reader(io.StringIO((cwd / "out.csv").read_text())))
    assert table[0] == ["metric", "unit", "stdlib", "gcx", "gcx/stdlib"]
    assert [r[0] for r in table[1:]] == [row["metric"] for row in data["rows"]]
    for line, row in zip(table[1:], data["rows"]):
        expected = [row["values"]["stdlib"], row["values"]["gcx"],
                    row["ratios"]["gcx"]["ratio"]]
        for cell, value in zip(line[2:], expected):
            if value is None:
                assert cell == ""
            else:
                assert float(cell) == pytest.approx(value, rel=1e-5, abs=1e-6)


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
    proc = gcx_cli("compare", "--quiet", "--repeat", "1", "prog.py", "3", "--repeat",
                   cwd=tmp_path, env={"LOG": str(log)})
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
    proc = gcx_cli("compare", "--quiet", "--repeat", "1", "raises.py", cwd=tmp_path)
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
    assert "pip install matplotlib" in proc.stderr
    assert "'gcx[plot]'" not in proc.stderr         # that would go to the package index
    assert not (tmp_path / "out.png").exists()


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="matplotlib is not installed (pip install '.[plot]')")
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
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("python -m gcx compare: error: ")


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
    assert [_table.percentile(values, q) for q in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert _table.percentile([], 50) is None
    assert _table.percentile([7], 99) == 7


# ------------------------------------------------------------------ pause statistics

def test_recent_pauses_and_stats(run_program):
    proc = run_program("compare/recent_pauses.py")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["fields"] == ["start", "duration", "generation", "collected",
                           "uncollectable", "candidates"]
    assert r["keys"] == r["stdlib_keys"]      # 3.15 adds candidates and duration
    assert r["starts_ok"] and r["last_generation"] == 1
    assert 100 < r["n"] <= 1024
    if r["collections"] <= 1024:
        assert r["n"] == r["collections"]
        assert r["collected"] == r["stat_collected"] > 390_000
        for mine, theirs in zip(r["durations"], r["stat_durations"]):
            if theirs is not None:
                assert mine == pytest.approx(theirs, rel=1e-6, abs=1e-9)
    assert r["candidates"] > 0


# ------------------------------------------------------------------ bad input, exit statuses

def test_missing_module(tmp_path):
    message = one_line_error(gcx_cli("compare", "-m", "nosuch_module", cwd=tmp_path))
    assert message == "python -m gcx compare: No module named nosuch_module"


def test_package_without_main(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    message = one_line_error(gcx_cli("compare", "-m", "pkg", cwd=tmp_path))
    assert message == ("python -m gcx compare: No module named pkg.__main__; 'pkg' is a "
                       "package and cannot be directly executed")


def test_directory_without_main(tmp_path):
    (tmp_path / "empty").mkdir()
    message = one_line_error(gcx_cli("compare", "empty", cwd=tmp_path))
    assert message == "python -m gcx compare: can't find '__main__' module in 'empty'"


def test_missing_script_is_one_line(tmp_path):
    message = one_line_error(gcx_cli("compare", "missing.py", cwd=tmp_path))
    assert message.startswith("python -m gcx compare: can't open file")


@pytest.mark.parametrize("option, path, why", [
    ("--json", "/nonexistent/x.json", "no directory '/nonexistent'"),
    ("--csv", "/nonexistent/x.csv", "no directory '/nonexistent'"),
    ("--plot", "/nonexistent/dir/x.png", "no directory '/nonexistent/dir'"),
    ("--json", ".", "it is a directory"),
])
def test_outputs_checked_before_running(tmp_path, option, path, why):
    if option == "--plot" and importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed")
    marker = tmp_path / "ran"
    (tmp_path / "prog.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    proc = gcx_cli("compare", option, path, "prog.py", cwd=tmp_path)
    message = one_line_error(proc)
    assert message == f"python -m gcx compare: can't write {option} file {path!r}: {why}"
    assert not marker.exists()                # checked before any run


def test_program_exit_status_is_warned(tmp_path):
    (tmp_path / "three.py").write_text("import sys\nsys.exit(3)\n")
    proc = gcx_cli("compare", "--quiet", "--repeat", "2", "three.py", cwd=tmp_path)
    assert proc.returncode == 1              # compared, but the program failed
    _, rows = parse_table(proc.stdout)
    assert rows["exit status"][:2] == ("3", "3")
    text = " ".join(proc.stdout.split())
    assert ("warning: the program did not always exit with status 0 (under stdlib gc: "
            "3, 3; under gcx: 3, 3); the figures are of those runs") in text


def test_startup_garbage_is_not_the_programs(tmp_path):
    # a program that makes no garbage shows none under either collector:
    # the stdlib's start-up garbage (the interpreter's, the harness's) is
    # collected before the program runs, as gcx's import leaves nothing young
    (tmp_path / "nothing.py").write_text("x = 1\n")
    proc = gcx_cli("compare", "--quiet", "--repeat", "1", "nothing.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    _, rows = parse_table(proc.stdout)
    assert rows["objects collected"][:2] == ("0", "0")
    assert rows["garbage left at the end"][:2] == ("0", "0")


def test_default_repeat_is_three(tmp_path):
    (tmp_path / "tiny.py").write_text("x = 1\n")
    proc = gcx_cli("compare", "tiny.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert compare.DEFAULT_REPEAT == 3
    assert "python tiny.py, medians of 3 runs each, alternating" in proc.stdout
    assert len(re.findall(r"\[\d/6\] python tiny.py under", proc.stderr)) == 6


def fake_run(wall, cpu, status=0):
    return {"collector": "x", "gcx_version": gcx.__version__, "gcx_mode": "tracer",
            "status": status, "wall": wall, "cpu": cpu, "rss": 2**20, "starts": [0.1],
            "durations": [0.001], "generations": [0], "collected": [10],
            "uncollectable": [0]}


def test_wall_and_cpu_disagreement_is_warned():
    # one run of a busy 2-core machine: 0.73x wall, 0.98x CPU
    program = compare.Program.demo()
    busy = compare.Comparison(program, {"stdlib": [fake_run(2.0, 1.5)],
                                        "gcx": [fake_run(1.46, 1.47)]})
    assert busy.warnings() == [
        "the wall time ratio (0.73x) and the CPU time ratio (0.98x) disagree by more "
        "than 10%: something else was using the CPU (or the program waits); trust the "
        "CPU time, or run again on a quieter machine with --repeat 5"]
    assert "warning: the wall time ratio (0.73x)" in busy.table()
    quiet = compare.Comparison(program, {"stdlib": [fake_run(2.0, 1.9)] * 3,
                                         "gcx": [fake_run(1.9, 1.85)] * 3})
    assert quiet.warnings() == [] and "warning" not in quiet.table()
    short = compare.Comparison(program, {"stdlib": [fake_run(0.02, 0.01)],
                                         "gcx": [fake_run(0.05, 0.012)]})
    assert short.warnings() == []            # start-up dominates: no verdict


def test_children_never_see_the_callers_directory(tmp_path):
    # a gcx/ in the current directory (a source tree, here a broken one) must
    # not hide the installed gcx from compare's children
    (tmp_path / "gcx").mkdir()
    (tmp_path / "gcx" / "__init__.py").write_text("raise ImportError('the wrong gcx')\n")
    (tmp_path / "prog.py").write_text("import sys; sys.exit(0)\n")
    for program in (["prog.py"], ["--scale", "0.02"]):
        proc = subprocess.run(
            [sys.executable, "-P", "-m", "gcx", "compare", "--quiet", "--repeat", "1",
             *program], capture_output=True, text=True, cwd=tmp_path, timeout=300,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                p for p in (GCX_ROOT, os.environ.get("PYTHONPATH")) if p)))
        assert proc.returncode == 0, (program, proc.stderr)
        assert "the wrong gcx" not in proc.stderr
        assert "gcx in " in proc.stdout


def test_module_found_from_the_current_directory_only(tmp_path):
    # -m MODULE: the current directory first, as python -m; the parent's own
    # sys.path entries (the gcx script's directory) are not the program's
    (tmp_path / "where.py").write_text(
        "import os, sys\nassert sys.path[0] == os.getcwd(), sys.path\n")
    proc = gcx_cli("compare", "--quiet", "--repeat", "1", "-m", "where", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------ memory over time (--plot)

@pytest.mark.parametrize("column", compare.DEFAULT_COLUMNS, ids=lambda c: c.name)
def test_memory_samples(column):
    program = compare.Program("script", os.path.join(
        os.path.dirname(__file__), "programs", "compare", "memory_steps.py"))
    plain = compare.run_once(program, column)
    assert "memory" not in plain
    run = compare.run_once(program, column, sample=True)
    memory = run["memory"]
    t, rss, objects = memory["t"], memory["rss"], memory["objects"]
    assert len(t) == len(rss) == len(objects) >= 2
    assert t == sorted(t) and t[0] < 0.5 and t[-1] <= run["wall"]
    assert all(b - a >= compare.SAMPLE_INTERVAL * 0.9 for a, b in zip(t[:-2], t[1:-1]))
    # the first sample comes before the program's first line, the last one
    # when its code has ended, with the 100,000 lists it keeps (and the
    # 100 MB they hold)
    assert objects[0] < 25_000 and objects[-1] >= 100_000
    if sys.platform == "linux":
        assert rss[-1] - rss[0] > 90e6


# ------------------------------------------------------------------ policies side by side

COMPARE = os.path.join(os.path.dirname(__file__), "programs", "compare")


def parse_columns(text):
    """A table of any number of columns, read by its fixed widths:
    (header lines, headings, {row label: [cells]}, {generation: {"median",
    "longest", "against": [cells]}}).  Percentile rows are keyed as in
    parse_table."""
    lines = text.splitlines()
    blank = lines.index("")
    header, body = lines[:blank], lines[blank + 1:]

    def cells(line):
        rest = line[compare.LABEL_WIDTH:]
        return [rest[i:i + compare.COLUMN_WIDTH].strip()
                for i in range(0, len(rest), compare.COLUMN_WIDTH)]

    headings = cells(body[0])
    rows, block, i = {}, None, 1
    while body[i].strip():
        label = body[i][:compare.LABEL_WIDTH].rstrip()
        if label.endswith(" pauses"):
            block = label[:-len(" pauses")]
        if label.startswith("  "):
            label = f"{block} {label.strip()}"
        assert label not in rows, body[i]
        found = cells(body[i])
        rows[label] = found + [""] * (len(headings) - len(found))     # blanks at the end
        i += 1
    i += 1
    assert body[i].startswith("cadence "), body[i]
    assert cells(body[i]) == headings[:len(cells(body[i]))]
    cadence = {}
    for g in range(3):
        assert body[i + 1].startswith(f"generation {g} (every ")
        median, longest, against = body[i + 2:i + 5]
        assert median.startswith("  median interval (") and longest.startswith("  longest")
        assert against.startswith("  against the range")
        cadence[g] = {"median": cells(median), "longest": cells(longest),
                      "against": cells(against)}
        i += 4
    return header, headings, rows, cadence


def test_deferred_policy_runs_no_full_collection(tmp_path):
    # the stdlib's rule (gcx, no policy) runs full collections on this
    # program; full=deferred runs none (it calls no safe point), and its
    # record says it deferred them (the memory guard off: on 3.12 it
    # lets one through on this program)
    proc = gcx_cli("compare", "--quiet", "--repeat", "1", "--policy", "gcx",
                   "--policy", "full=deferred,max_growth=none", "--json", "out.json",
                   os.path.join(COMPARE, "full_collections.py"), "400000", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header, headings, rows, cadence = parse_columns(proc.stdout)
    assert headings == ["stdlib gc", "gcx", "A", "gcx/stdlib", "A/stdlib"]
    assert header[2] == ("A: gcx with gcx.Policy(full='deferred', max_growth=None)  "
                         "(--policy full=deferred,max_growth=none)")
    stdlib, plain, deferred = (int(n) for n in rows["generation 2 pauses"][:3])
    assert plain >= 1 and deferred == 0
    assert rows["times a full collection was deferred"][:2] == ["-", "-"]
    assert int(rows["times a full collection was deferred"][2]) > 0
    assert "collections at safe points" not in rows        # no column had one
    # each column collected the same garbage (the pairs die young)
    collected = [int(n) for n in rows["objects collected"][:3]]
    assert max(collected) <= 1.05 * min(collected) and min(collected) >= 790_000
    assert rows["exit status"][:3] == ["0", "0", "0"]
    assert rows["wall time (s)"][3].endswith("x") and rows["wall time (s)"][4].endswith("x")
    assert rows["generation 2 p50 (ms)"][2] == "-" and rows["generation 2 p50 (ms)"][4] == ""
    data = json.loads((tmp_path / "out.json").read_text())
    assert [(c["name"], c["heading"], c["policy"]) for c in data["columns"]] == [
        ("stdlib", "stdlib gc", None), ("gcx", "gcx", None),
        ("full=deferred,max_growth=none", "A", {"full": "deferred", "max_growth": None})]
    assert data["columns"][2]["parameters"] == gcx.Policy(
        full="deferred", max_growth=None).parameters() | {
        "min_interval": [None] * 3, "max_interval": [None] * 3}
    assert len(data["runs"]["full=deferred,max_growth=none"]) == 1
    by_metric = {row["metric"]: row for row in data["rows"]}
    assert by_metric["generation 2 pauses"]["values"] == {
        "stdlib": stdlib, "gcx": plain, "full=deferred,max_growth=none": 0}
    assert set(by_metric["wall time"]["ratios"]) == {"gcx", "full=deferred,max_growth=none"}


def test_safe_points_run_the_deferred_full_collections(tmp_path):
    # the program calls gcx.safe_point() every 20,000 steps: under
    # full=deferred every full collection is one of those
    proc = gcx_cli("compare", "--quiet", "--repeat", "1", "--policy", "full=deferred",
                   os.path.join(COMPARE, "full_collections.py"), "400000", "20000",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    _, headings, rows, _ = parse_columns(proc.stdout)
    assert headings == ["stdlib gc", "A", "A/stdlib"]
    full = int(rows["generation 2 pauses"][1])
    assert full >= 1
    assert rows["collections at safe points"][:2] == ["-", str(full)]
    assert rows["times a full collection was deferred"][0] == "-"
    assert int(rows["times a full collection was deferred"][1]) > 0


def test_cadence_of_a_time_backstop(tmp_path):
    # an idle program: nothing collects it but the policy's backstop, which
    # collects generation 0 every 30 ms (10-100 ms: within the range); the
    # stdlib collector leaves it uncollected for the whole run (above)
    proc = gcx_cli("compare", "--quiet", "--repeat", "1", "--json", "out.json",
                   "--policy", "max_interval=0.03:none:none",
                   os.path.join(COMPARE, "idle.py"), "0.6", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    _, headings, rows, cadence = parse_columns(proc.stdout)
    assert headings[:2] == ["stdlib gc", "A"]
    backstop = int(rows["collections by the time backstop"][1])
    assert rows["collections by the time backstop"][0] == "-"
    assert backstop >= 5 and int(rows["generation 0 pauses"][1]) == backstop
    assert rows["generation 0 pauses"][0] == "0"
    gen0, gen1 = cadence[0], cadence[1]
    assert gen0["median"][0] == "-" and 10 <= float(gen0["median"][1]) <= 100
    assert float(gen0["longest"][0]) >= 500 > float(gen0["longest"][1])
    assert gen0["against"] == ["above", "within"]
    # generation 1: never collected, in a run shorter than its range's top
    assert gen1["median"] == ["-", "-"] and gen1["against"] == ["too few", "too few"]
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["cadence"]["ranges"] == [[0.01, 0.1], [1.0, 10.0], [10.0, 60.0]]
    ours = data["cadence"]["columns"]["max_interval=0.03:none:none"]
    assert [c["verdict"] for c in ours] == ["within", "too few", "too few"]
    assert ours[0]["median"] * 1e3 == pytest.approx(float(gen0["median"][1]), abs=0.01)
    assert data["cadence"]["columns"]["stdlib"][0]["verdict"] == "above"
    by_metric = {row["metric"]: row for row in data["rows"]}
    assert by_metric["generation 0 median interval"]["unit"] == "ms"
    assert by_metric["generation 0 median interval"]["values"]["stdlib"] is None


def test_cadence_and_verdict():
    starts, generations = [0.10, 0.20, 0.35, 0.40], [0, 2, 0, 1]
    # generation 0: every collection counts (0.1, 0.15, 0.05 apart); the
    # longest stretch is 0.15 (from 0.2 to 0.35), the start and end ones
    # 0.1 - 0.05 and 0.5 - 0.4 are shorter
    median, longest = compare.cadence(starts, generations, 0, 0.05, 0.5)
    assert median == pytest.approx(0.1) and longest == pytest.approx(0.15)
    # generation 1: the collections of 1 and 2, at 0.2 and 0.4
    assert compare.cadence(starts, generations, 1, 0.05, 0.5) == pytest.approx((0.2, 0.2))
    # generation 2: one collection; the longest stretch is after it
    assert compare.cadence(starts, generations, 2, 0.05, 0.5) == (None, pytest.approx(0.3))
    assert compare.cadence([], [], 0, 0.05, 0.5) == (None, pytest.approx(0.45))
    assert compare.verdict(0.005, 0.01, 0.010, 0.100) == "below"
    assert compare.verdict(0.010, 0.5, 0.010, 0.100) == "within"
    assert compare.verdict(0.100, 0.1, 0.010, 0.100) == "within"
    assert compare.verdict(0.2, 0.2, 0.010, 0.100) == "above"
    assert compare.verdict(None, 0.5, 0.010, 0.100) == "above"
    assert compare.verdict(None, 0.05, 0.010, 0.100) == "too few"


# ------------------------------------------------------------------ --policy specs

@pytest.mark.parametrize("spec, kwargs", [
    ("full=deferred", {"full": "deferred"}),
    ("full=deferred,max_growth=0.5", {"full": "deferred", "max_growth": 0.5}),
    ("full=deferred, max_growth=none, max_bytes=2G",
     {"full": "deferred", "max_growth": None, "max_bytes": 2 * 2**30}),
    ("adaptive=true,young_max=50_000", {"adaptive": True, "young_max": 50_000}),
    ("adaptive=False", {"adaptive": False}),
    ("memory_limit=512M", {"memory_limit": 512 * 2**20}),
    ("memory_limit=1.5GiB", {"memory_limit": 3 * 2**29}),
    ("memory_limit=64kb", {"memory_limit": 64 * 2**10}),
    ("memory_limit=1000000", {"memory_limit": 1_000_000}),
    ("cpu_cap=0.1,cpu_window=2", {"cpu_cap": 0.1, "cpu_window": 2}),
    ("auto_freeze=true,freeze_after=5", {"auto_freeze": True, "freeze_after": 5}),
    ("min_interval=0.01", {"min_interval": 0.01}),
    ("max_interval=1:10:60", {"max_interval": (1, 10, 60)}),
    ("min_interval=none:none:5,max_interval=0.1:none:60",
     {"min_interval": (None, None, 5), "max_interval": (0.1, None, 60)}),
])
def test_good_specs(spec, kwargs):
    from gcx import _policy_spec
    assert _policy_spec.parse(spec) == kwargs
    assert all(type(v) is type(kwargs[k]) for k, v in _policy_spec.parse(spec).items())
    # the column runs that policy, headed by a letter
    stdlib, column = compare.columns([spec])
    assert stdlib.name == "stdlib" and column.heading == "A" and column.policy == kwargs
    assert column.parameters() == gcx.Policy(**kwargs).parameters()
    assert column.policy_repr() == repr(gcx.Policy(**kwargs))


def test_a_spec_names_another_policy_class():
    from gcx import _policy_spec
    kwargs = _policy_spec.parse("policy=PauseBudget,ms=2")
    assert kwargs == {"policy": "PauseBudget", "ms": 2}
    policy = _policy_spec.make(kwargs)
    assert type(policy) is gcx.PauseBudget
    assert policy.parameters() == {"ms": 2.0, "guard": 0.25}
    stdlib, column = compare.columns(["policy=PauseBudget,ms=2"])
    assert column.policy_repr() == repr(gcx.PauseBudget(ms=2))


def test_columns_of_specs():
    assert compare.columns(["gcx"]) == list(compare.DEFAULT_COLUMNS)
    assert compare.columns(["stdlib", "gcx"]) == list(compare.DEFAULT_COLUMNS)
    cols = compare.columns(["full=deferred", "gcx", "adaptive=true", "full=auto"])
    assert [c.name for c in cols] == ["stdlib", "full=deferred", "gcx", "adaptive=true",
                                      "full=auto"]
    assert [c.heading for c in cols] == ["stdlib gc", "A", "gcx", "B", "C"]
    assert [c.collector for c in cols] == ["stdlib", "gcx", "gcx", "gcx", "gcx"]
    # full=auto is Policy(), set: the stdlib's rule decided in Python, beside
    # gcx's own (no policy)
    assert cols[4].policy == {"full": "auto"} and cols[2].policy is None
    assert cols[4].describe() == "gcx with policy full=auto"
    assert [c.describe() for c in cols[:3]] == ["stdlib gc", "gcx with policy full=deferred",
                                                "gcx"]


def policy_refusal(**kwargs):
    """What gcx.Policy itself says about these arguments."""
    with pytest.raises((TypeError, ValueError)) as info:
        gcx.Policy(**kwargs)
    return str(info.value)


@pytest.mark.parametrize("specs, why", [
    # gcx.Policy's own TypeError and ValueError, word for word
    (["full=later"], policy_refusal(full="later")),
    (["max_bytes=abc"], policy_refusal(max_bytes="abc")),
    (["max_bytes=-1"], policy_refusal(max_bytes=-1)),
    (["adaptive=1"], policy_refusal(adaptive=1)),
    (["cpu_cap=2"], policy_refusal(cpu_cap=2)),
    (["cpu_cap=0.5:0.5:0.5"], policy_refusal(cpu_cap=(0.5, 0.5, 0.5))),
    (["freeze_after=none"], policy_refusal(freeze_after=None)),
    (["max_interval=1:2"], policy_refusal(max_interval=(1, 2))),
    (["max_interval=inf"], policy_refusal(max_interval=float("inf"))),
    (["min_interval=5,max_interval=1"], policy_refusal(min_interval=5, max_interval=1)),
    # the spec's own form
    (["full"], "'full' is not key=value"),
    (["=deferred"], "'=deferred' is not key=value"),
    (["full=deferred,"], "'' is not key=value"),
    (["max_bytes="], "max_bytes has no value"),
    (["full=deferred,full=auto"], "full is given twice"),
    (["memory_limit=1.1K"], "'1.1K' is not a whole number of bytes"),
    (["memory_limit=12Q"], "'12Q' is not a number or a size (512K, 64M, 1.5G, 2T)"),
    (["fulll=deferred"], "gcx.Policy has no parameter 'fulll' (it takes full, "
                         "max_growth, max_bytes, adaptive, young_max, memory_limit, "
                         "cpu_cap, cpu_window, auto_freeze, freeze_after, min_interval, "
                         "max_interval)"),
    # another policy class, by name
    (["policy=Nope"], "policy=Nope is not one of gcx's policies (Policy, PauseBudget)"),
    (["policy=PauseBudget,full=deferred"],
     "gcx.PauseBudget has no parameter 'full' (it takes ms, guard)"),
    (["policy=PauseBudget,ms=0"], "ms must be >= 0.05 and <= 1000.0, not 0"),
])
def test_bad_specs(tmp_path, specs, why):
    marker = tmp_path / "ran"
    (tmp_path / "prog.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    options = [word for spec in specs for word in ("--policy", spec)]
    message = one_line_error(gcx_cli("compare", *options, "prog.py", cwd=tmp_path))
    assert message == f"python -m gcx compare: --policy {specs[-1]!r}: {why}"
    assert not marker.exists()                # refused before any run


@pytest.mark.parametrize("specs, message", [
    (["stdlib"], "--policy: nothing to compare with the stdlib collector; add gcx or a "
                 "policy (key=value,...)"),
    (["gcx", "gcx"], "--policy 'gcx' runs what --policy 'gcx' runs already"),
    (["stdlib", "gcx", "stdlib"], "--policy 'stdlib' runs what --policy 'stdlib' runs "
                                  "already"),
    (["full=deferred", "max_growth=1.0,full=deferred"],
     "--policy 'max_growth=1.0,full=deferred' runs what --policy 'full=deferred' runs "
     "already"),
])
def test_columns_refused(tmp_path, specs, message):
    with pytest.raises(compare.SpecError) as info:
        compare.columns(specs)
    assert str(info.value) == message
    options = [word for spec in specs for word in ("--policy", spec)]
    proc = gcx_cli("compare", *options, "prog.py", cwd=tmp_path)
    assert one_line_error(proc) == f"python -m gcx compare: {message}"


# ------------------------------------------------------------------ what the OS sees, what is refused

@pytest.mark.parametrize("code, status", [("True", 1), ("256", 0), ("-1", 255),
                                          ("2**70", 255), ("2**32 + 3", 3), ("'bye'", 1)])
def test_exit_status_is_the_one_the_os_sees(tmp_path, code, status):
    # not sys.exit()'s argument: what python's process exits with
    (tmp_path / "ends.py").write_text("import sys\nsys.exit(eval(sys.argv[1]))\n")
    python = subprocess.run([sys.executable, "ends.py", code], capture_output=True,
                            cwd=tmp_path)
    assert python.returncode == status
    proc = gcx_cli("compare", "--quiet", "--repeat", "1", "ends.py", code, cwd=tmp_path)
    assert proc.returncode == (0 if status == 0 else 1), proc.stderr
    _, rows = parse_table(proc.stdout)
    assert rows["exit status"][:2] == (str(status), str(status))


def test_json_and_csv_cannot_both_take_stdout(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "prog.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    proc = gcx_cli("compare", "--json", "-", "--csv", "-", "prog.py", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [(
        "python -m gcx compare: error: --json - and --csv - would both write to standard "
        "output: give one of them a file")]
    assert not marker.exists()


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="matplotlib is not installed (pip install '.[plot]')")
def test_plot_format_checked_before_running(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "prog.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    message = one_line_error(gcx_cli("compare", "--plot", "x.txt", "prog.py", cwd=tmp_path))
    assert message.startswith("python -m gcx compare: --plot file 'x.txt': matplotlib "
                              "cannot write 'txt' images (it writes ")
    assert "png" in message and not marker.exists()


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="matplotlib is not installed (pip install '.[plot]')")
def test_plot_without_extension_is_png(tmp_path):
    proc = gcx_cli("compare", "--scale", "0.02", "--repeat", "1", "--quiet", "--plot",
                   "pauses", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "pauses").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "pauses.png").exists()
