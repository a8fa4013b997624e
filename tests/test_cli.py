"""``python -m gcx``: the side-by-side report, and ``run`` (a program with gcx
installed from its first line).  Every test runs the command line in a fresh
interpreter."""
import math
import os
import platform
import subprocess
import sys
import textwrap

import pytest

import gcx

GCX_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(gcx.__file__)))
LIVE, CYCLES = 3000, 2000          # a small heap for the report's collection


def gcx_cli(*args, cwd, env=None, timeout=120):
    """``python -m gcx ARGS`` in a fresh interpreter that imports this gcx;
    the CompletedProcess, text output captured, never checked."""
    child_env = dict(os.environ, **(env or {}))
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (GCX_ROOT, os.environ.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-m", "gcx", *args],
        capture_output=True, text=True, cwd=cwd, env=child_env, timeout=timeout)


def write(path, code):
    path.write_text(textwrap.dedent(code))
    return path


# ------------------------------------------------------------------ the report

def parse_report(text):
    """{section: {label: (stdlib value, gcx value)}} from the report's table,
    plus the header lines under the key None."""
    sections = {None: []}
    current = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("  ") and current is not None:
            label, stdlib, ours = line.rsplit(None, 2)
            assert label.strip() not in sections[current], line
            sections[current][label.strip()] = (stdlib, ours)
        elif current is None and not line.startswith(("tracked", "one full", "collector")):
            sections[None].append(line)
        else:
            current = line.split(" (")[0]
            sections[current] = {}
    return sections


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    proc = gcx_cli("--live", str(LIVE), "--cycles", str(CYCLES),
                   cwd=tmp_path_factory.mktemp("report"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def test_report_default_sizes(tmp_path):
    # the README's main job, exactly as a user types it
    proc = gcx_cli(cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = parse_report(proc.stdout)["one full collection of the same heap"]
    stdlib, ours = rows["collected"]
    assert int(stdlib) == int(ours) >= 4 * 20_000
    assert "50000 live containers, 20000 garbage cycles" in proc.stdout


def test_report_header(report):
    header = parse_report(report)[None]
    assert header[0] == f"gcx {gcx.__version__} beside the stdlib cycle collector"
    assert platform.python_version() in header[1]
    assert sys.executable in header[2]
    columns = header[3].split()
    assert columns == ["stdlib", "gc", "gcx"]


def test_report_collector_rows(report):
    rows = parse_report(report)["collector"]
    assert rows["mode"] == ("-", gcx.mode())
    assert rows["owns the reference tracer"][1] in ("yes", "no")
    # a fresh interpreter: the stdlib collector on, gcx's automatic collection off
    assert rows["automatic collection"] == ("enabled", "disabled")
    for label in ("thresholds", "counts"):
        for value in rows[label]:
            assert len([int(n) for n in value.split("/")]) == 3


def test_report_tracked_objects(report):
    rows = parse_report(report)["tracked objects"]
    labels = ["generation 0", "generation 1", "generation 2", "total",
              "frozen (permanent generation)"]
    assert list(rows) == labels
    numbers = {label: tuple(map(int, rows[label])) for label in labels}
    for column in (0, 1):
        assert sum(numbers[f"generation {g}"][column] for g in range(3)) == numbers["total"][column]
        assert numbers["total"][column] > 1000
    # both collectors see the same interpreter: totals within a few objects
    stdlib_total, gcx_total = numbers["total"]
    assert abs(stdlib_total - gcx_total) <= 0.01 * stdlib_total


def test_report_tracked_by_type(report):
    rows = parse_report(report)["tracked objects by type"]
    assert len(rows) == 10
    assert {"dict", "function", "tuple"} <= set(rows)
    for stdlib, ours in rows.values():
        assert int(stdlib) >= 0 and int(ours) >= 0
    for name in ("function", "type"):
        if name in rows:
            assert rows[name][0] == rows[name][1]    # nothing to disagree about


def test_report_collection(report):
    rows = parse_report(report)["one full collection of the same heap"]
    collected = tuple(map(int, rows["collected"]))
    # per garbage cycle at least: two instances, a dict, a list
    assert collected[0] == collected[1] >= 4 * CYCLES
    assert rows["uncollectable"] == ("0", "0")
    assert rows["finalizers run (__del__)"] == (str(math.ceil(CYCLES / 4)),) * 2
    assert rows["weakref callbacks run"] == (str(math.ceil(CYCLES / 5)),) * 2
    times = [float(ms) for ms in rows["time (ms)"]]
    assert all(ms > 0 for ms in times)
    stdlib_ratio, gcx_ratio = rows["time relative to stdlib gc"]
    assert stdlib_ratio == "1.00x"
    assert gcx_ratio.endswith("x")
    assert float(gcx_ratio[:-1]) == pytest.approx(times[1] / times[0], abs=0.01)


def test_report_mentions_safe_mode(tmp_path):
    proc = gcx_cli("--live", "10", "--cycles", "10", cwd=tmp_path,
                   env={"GCX_MODE": "safe"})
    assert proc.returncode == 0, proc.stderr
    assert parse_report(proc.stdout)["collector"]["mode"] == ("-", "safe")
    assert "safe mode" in proc.stdout


def test_report_repeat(tmp_path):
    proc = gcx_cli("--live", "100", "--cycles", "100", "--repeat", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "best of 3" in proc.stdout
    rows = parse_report(proc.stdout)["one full collection of the same heap"]
    assert rows["collected"][0] == rows["collected"][1]


def test_help(tmp_path):
    proc = gcx_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m gcx")
    for word in ("run", "--live", "--cycles", "--repeat"):
        assert word in proc.stdout
    proc = gcx_cli("run", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m gcx run")


@pytest.mark.parametrize("args", [["--live", "-1"], ["--repeat", "0"], ["--cycles", "x"],
                                  ["--nonsense"], ["run"], ["run", "-m"]])
def test_bad_arguments(tmp_path, args):
    proc = gcx_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage: python -m gcx" in proc.stderr
    assert proc.stdout == ""


# ------------------------------------------------------------------ run

CHECKS = """
    import gc, importlib.util, sys, weakref
    import gcx

    def stdlib_gc():
        # a second instance of the gc module: its functions are the stdlib's
        # own, whatever install() did to the gc module's attributes
        spec = importlib.util.find_spec("gc")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    assert gcx.is_installed()
    assert stdlib_gc().isenabled() is False    # the stdlib collector is off
    assert gc.isenabled() is True              # gc.isenabled is gcx's now
    assert gc.isenabled is gcx.isenabled and gc.collect is gcx.collect
    assert __name__ == "__main__"
    assert sys.modules["__main__"].__dict__ is globals()
"""

CHURN = """
    class Node:
        pass

    def churn(n):
        watched = []
        for i in range(n):
            a, b = Node(), Node()
            a.peer, b.peer = b, a
            if i % 1000 == 0:
                watched.append(weakref.ref(a))
        return watched

    watched = churn(50_000)
    assert gcx.get_stats()[0]["collections"] > 0, gcx.get_stats()
    assert sum(ref() is None for ref in watched) > len(watched) // 2
"""


def test_run_script(tmp_path):
    script = write(tmp_path / "prog.py", CHECKS + CHURN + """
    print("argv", sys.argv[1:])
    sys.exit(3)
    """)
    proc = gcx_cli("run", str(script), "a", "b", cwd=tmp_path)
    assert proc.stderr == ""
    assert proc.returncode == 3
    assert proc.stdout == "argv ['a', 'b']\n"


def test_run_script_argv(tmp_path):
    # everything after the script is the script's, even what looks like ours
    script = write(tmp_path / "args.py", """
        import json, os, sys
        print(json.dumps([os.path.basename(sys.argv[0]), sys.argv[1:], sys.path[0], __file__]))
    """)
    sub = tmp_path / "sub"
    sub.mkdir()
    args = ["-m", "x", "--help", "--", "run", "-", "--live", "5", ""]
    proc = gcx_cli("run", str(script), *args, cwd=sub)
    assert proc.returncode == 0, proc.stderr
    argv0, rest, path0, file = eval(proc.stdout)
    assert (argv0, rest) == ("args.py", args)
    # as `python args.py` does: the script's directory on sys.path, an absolute __file__
    assert path0 == os.path.realpath(tmp_path)
    assert file == str(script)


def test_run_script_relative_path(tmp_path):
    write(tmp_path / "rel.py", "import sys; print(__file__, sys.argv[1:])")
    proc = gcx_cli("run", "rel.py", "--", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{tmp_path / 'rel.py'} ['--']\n"


def test_run_module(tmp_path):
    write(tmp_path / "churner.py", CHECKS + CHURN + """
    print("argv", sys.argv[1:], sys.argv[0] == __file__, __spec__.name)
    raise SystemExit(5)
    """)
    proc = gcx_cli("run", "-m", "churner", "-x", "--", "y", cwd=tmp_path)
    assert proc.stderr == ""
    assert proc.returncode == 5
    assert proc.stdout == "argv ['-x', '--', 'y'] True churner\n"


def test_run_package(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    write(package / "__init__.py", "")
    write(package / "__main__.py", CHECKS + """
    print(__spec__.name, sys.argv[1:])
    """)
    proc = gcx_cli("run", "-m", "pkg", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "pkg.__main__ ['1']\n"


def test_run_pickles_from_main(tmp_path):
    # __main__ is the program's module while it runs: its classes pickle
    script = write(tmp_path / "pick.py", """
        import pickle
        class Point:
            def __init__(self, x):
                self.x = x
        p = pickle.loads(pickle.dumps(Point(7)))
        print(type(p).__module__, p.x)
    """)
    proc = gcx_cli("run", str(script), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "__main__ 7\n"


def test_run_exception_traceback(tmp_path):
    script = write(tmp_path / "fails.py", """
        def inner():
            raise ValueError("from the program")
        inner()
    """)
    proc = gcx_cli("run", str(script), cwd=tmp_path)
    assert proc.returncode == 1
    # the traceback is the one `python fails.py` prints: the program's frames only
    expected = subprocess.run([sys.executable, str(script)], capture_output=True,
                              text=True, cwd=tmp_path)
    assert proc.stderr == expected.stderr
    assert "runpy" not in proc.stderr and "__main__.py" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == "ValueError: from the program"


def test_run_module_exception_traceback(tmp_path):
    write(tmp_path / "failing.py", "import sys\nsys.stdout.write('x')\n1 / 0\n")
    proc = gcx_cli("run", "-m", "failing", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == "x"
    lines = proc.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == f'  File "{tmp_path / "failing.py"}", line 3, in <module>'
    assert lines[-1] == "ZeroDivisionError: division by zero"


def test_run_syntax_error(tmp_path):
    script = write(tmp_path / "broken.py", "x = (\n")
    proc = gcx_cli("run", str(script), cwd=tmp_path)
    assert proc.returncode == 1
    assert "SyntaxError" in proc.stderr and "runpy" not in proc.stderr


def test_run_missing_script(tmp_path):
    proc = gcx_cli("run", "missing.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert "can't open file" in proc.stderr and "missing.py" in proc.stderr


def test_run_missing_module(tmp_path):
    proc = gcx_cli("run", "-m", "no_such_module_here", cwd=tmp_path)
    assert proc.returncode == 1
    assert "No module named no_such_module_here" in proc.stderr
