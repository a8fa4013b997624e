"""``python -m gcx``: the side-by-side report, and ``run`` (a program with gcx
installed from its first line).  Every test runs the command line in a fresh
interpreter."""
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import gcx
from helpers import GCX_ROOT, PROGRAMS, child_env, gcx_cli, one_line_error

pytestmark = pytest.mark.subprocess

LIVE, CYCLES = 3000, 2000          # a small heap for the report's collection


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
    # the ratio of the unrounded times: within what rounding each to 0.01 ms allows
    low = (times[1] - 0.005) / (times[0] + 0.005)
    high = (times[1] + 0.005) / (times[0] - 0.005) if times[0] > 0.005 else math.inf
    assert low - 0.005 <= float(gcx_ratio[:-1]) <= high + 0.005, (gcx_ratio, times)


def test_report_mentions_safe_mode(tmp_path):
    proc = gcx_cli("--live", "10", "--cycles", "10", cwd=tmp_path,
                   env={"GCX_MODE": "safe"})
    assert proc.returncode == 0, proc.stderr
    assert parse_report(proc.stdout)["collector"]["mode"] == ("-", "safe")
    assert "safe mode" in proc.stdout


def test_report_best_of(tmp_path):
    proc = gcx_cli("--live", "100", "--cycles", "100", "--best-of", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "best of 3" in proc.stdout
    rows = parse_report(proc.stdout)["one full collection of the same heap"]
    assert rows["collected"][0] == rows["collected"][1]


def test_help(tmp_path):
    proc = gcx_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m gcx")
    for word in ("run", "--live", "--cycles", "--best-of", "--version"):
        assert word in proc.stdout
    # what the command does with no subcommand
    assert "With no command: print both collectors' view" in " ".join(proc.stdout.split())
    proc = gcx_cli("run", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m gcx run")


@pytest.mark.parametrize("args", [["--live", "-1"], ["--repeat", "0"], ["--cycles", "x"],
                                  ["--nonsense"], ["run"], ["run", "-m"], ["bogus"]])
def test_bad_arguments(tmp_path, args):
    proc = gcx_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr      # one line, no usage
    assert proc.stderr.startswith("python -m gcx") and ": error: " in proc.stderr
    assert proc.stdout == ""


# ------------------------------------------------------------------ run

# The programs are tests/programs/cli/; where a test needs one in its current
# directory (a relative path, -m), it copies it there.
CLI = os.path.join(PROGRAMS, "cli")


def copy(name, directory):
    """tests/programs/cli/NAME copied into directory; the copy's path."""
    return shutil.copy(os.path.join(CLI, name), directory)


def test_run_script(tmp_path):
    proc = gcx_cli("run", os.path.join(CLI, "run_script.py"), "a", "b", cwd=tmp_path)
    assert proc.stderr == ""
    assert proc.returncode == 3
    assert proc.stdout == "argv ['a', 'b']\n"


def test_run_script_argv(tmp_path):
    # everything after the script is the script's, even what looks like ours
    script = os.path.join(CLI, "argv.py")
    args = ["-m", "x", "--help", "--", "run", "-", "--live", "5", ""]
    proc = gcx_cli("run", script, *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    argv0, rest, path0, file = eval(proc.stdout)
    assert (argv0, rest) == ("argv.py", args)
    # as `python argv.py` does: the script's directory on sys.path, an absolute __file__
    assert path0 == os.path.realpath(CLI)
    assert file == script


def test_run_script_relative_path(tmp_path):
    copy("rel.py", tmp_path)
    proc = gcx_cli("run", "rel.py", "--", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{tmp_path / 'rel.py'} ['--']\n"


def test_run_module(tmp_path):
    copy("churner.py", tmp_path)
    copy("runlib.py", tmp_path)
    proc = gcx_cli("run", "-m", "churner", "-x", "--", "y", cwd=tmp_path)
    assert proc.stderr == ""
    assert proc.returncode == 5
    assert proc.stdout == "argv ['-x', '--', 'y'] True churner\n"


def test_run_package(tmp_path):
    proc = gcx_cli("run", "-m", "runpkg", "1", cwd=tmp_path, env={"PYTHONPATH": CLI})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "runpkg.__main__ ['1']\n"


def test_run_pickles_from_main(tmp_path):
    # __main__ is the program's module while it runs: its classes pickle
    proc = gcx_cli("run", os.path.join(CLI, "pickles.py"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "__main__ 7\n"


def test_run_exception_traceback(tmp_path):
    script = os.path.join(CLI, "fails.py")
    proc = gcx_cli("run", script, cwd=tmp_path)
    assert proc.returncode == 1
    # the traceback is the one `python fails.py` prints: the program's frames only
    expected = subprocess.run([sys.executable, script], capture_output=True,
                              text=True, cwd=tmp_path)
    assert proc.stderr == expected.stderr
    assert "runpy" not in proc.stderr and "__main__.py" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == "ValueError: from the program"


def test_run_module_exception_traceback(tmp_path):
    copy("failing.py", tmp_path)
    proc = gcx_cli("run", "-m", "failing", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == "x"
    lines = proc.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == f'  File "{tmp_path / "failing.py"}", line 9, in <module>'
    assert lines[-1] == "ZeroDivisionError: division by zero"


def test_run_syntax_error(tmp_path):
    proc = gcx_cli("run", os.path.join(CLI, "syntax_error.py"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "SyntaxError" in proc.stderr and "runpy" not in proc.stderr


def test_run_missing_script(tmp_path):
    proc = gcx_cli("run", "missing.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert "can't open file" in proc.stderr and "missing.py" in proc.stderr


def test_run_missing_module(tmp_path):
    # python -m says so and exits 1; gcx's "cannot run" is 2, as report's and compare's
    message = one_line_error(gcx_cli("run", "-m", "no_such_module_here", cwd=tmp_path))
    assert message == "python -m gcx run: No module named no_such_module_here"


def test_run_module_from_the_current_directory_only(tmp_path):
    # as python -m: the current directory first on sys.path
    copy("where.py", tmp_path)
    proc = gcx_cli("run", "-m", "where", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "True\n"


# ------------------------------------------------------------------ bad input

def argparse_error(proc):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1, proc.stderr      # one line, no usage
    return proc.stderr.splitlines()[-1]


@pytest.mark.parametrize("option", ["--live", "--cycles", "--best-of"])
def test_not_a_number(tmp_path, option):
    message = argparse_error(gcx_cli(option, "abc", cwd=tmp_path))
    assert message == (f"python -m gcx: error: argument {option}: must be a whole "
                       "number, not 'abc'")


def test_not_a_number_in_commands(tmp_path):
    for args, option, what in ((["compare", "--repeat", "x"], "--repeat", "a whole number"),
                               (["compare", "--scale", "x"], "--scale", "a number"),
                               (["compare", "--timeout", "x"], "--timeout", "a number"),
                               (["report", "--top", "x"], "--top", "a whole number")):
        message = argparse_error(gcx_cli(*args, cwd=tmp_path))
        assert message.endswith(f"argument {option}: must be {what}, not 'x'"), message


def test_top_level_repeat_says_best_of(tmp_path):
    # the top level's --repeat meant "best of N", compare's "medians of N pairs"
    message = argparse_error(gcx_cli("--repeat", "3", cwd=tmp_path))
    assert "--repeat N is compare's option" in message and "--best-of N" in message


def test_version(tmp_path):
    proc = gcx_cli("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (f"gcx {gcx.__version__} (CPython {platform.python_version()}, "
                           f"{gcx.mode()} mode)\n")


def test_run_directory_without_main(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = gcx_cli("run", str(empty), cwd=tmp_path)
    message = one_line_error(proc)          # status 2: gcx's "cannot run"
    python = subprocess.run([sys.executable, str(empty)], capture_output=True, text=True)
    assert python.returncode == 1
    # python's own line, under gcx's name
    assert message == f"python -m gcx run: {python.stderr.split(': ', 1)[1].strip()}"
    assert message == f"python -m gcx run: can't find '__main__' module in {str(empty)!r}"


def test_run_directory_with_main(tmp_path):
    proc = gcx_cli("run", os.path.join(CLI, "app"), "x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "True ['x']\n"


def test_run_package_without_main(tmp_path):
    message = one_line_error(gcx_cli("run", "-m", "nomain", cwd=tmp_path,
                                     env={"PYTHONPATH": CLI}))
    assert message == ("python -m gcx run: No module named nomain.__main__; 'nomain' is a "
                       "package and cannot be directly executed")


@pytest.mark.parametrize("how", ["script", "module"])
def test_run_keyboard_interrupt(tmp_path, how):
    # what python prints and how it ends: the program's frames, then SIGINT
    copy("interrupted.py", tmp_path)
    target = ["interrupted.py"] if how == "script" else ["-m", "interrupted"]
    proc = gcx_cli("run", *target, cwd=tmp_path)
    expected = subprocess.run([sys.executable, "interrupted.py"], capture_output=True,
                              text=True, cwd=tmp_path)
    assert proc.returncode == expected.returncode == -2        # killed by SIGINT
    assert proc.stderr == expected.stderr
    assert "runpy" not in proc.stderr and "gcx" not in proc.stderr


def test_report_missing_module(tmp_path):
    message = one_line_error(gcx_cli("report", "-m", "no_such_module_here", cwd=tmp_path))
    assert message == "python -m gcx report: No module named no_such_module_here"


def test_report_missing_script(tmp_path):
    message = one_line_error(gcx_cli("report", "missing.py", cwd=tmp_path))
    assert message.startswith("python -m gcx report: can't open file")


@pytest.mark.parametrize("option", ["--json", "--output"])
def test_report_output_checked_before_running(tmp_path, option):
    marker = tmp_path / "ran"
    proc = gcx_cli("report", option, "/nonexistent/x.out", os.path.join(CLI, "touch.py"),
                   str(marker), cwd=tmp_path)
    message = one_line_error(proc)
    assert message == (f"python -m gcx report: can't write {option} file "
                       "'/nonexistent/x.out': no directory '/nonexistent'")
    assert not marker.exists()            # the program never ran


def test_closed_stdout_is_quiet(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "gcx", "--live", "10", "--cycles", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
        env=child_env())
    proc.stdout.readline()
    proc.stdout.close()                   # as `python -m gcx | head -1` does
    with proc.stderr:
        stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


# ------------------------------------------------------------------ the API given bad input

def test_no_cycles_ignore_one_name(run_program):
    # a string is one type name, not the names of its characters
    proc = run_program("cli/no_cycles_ignore_one_name.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "found"]


@pytest.mark.parametrize("ignore", ["[1]", "3", "[b'Node']"])
def test_no_cycles_ignore_type_error(run_program, ignore):
    proc = run_program("cli/no_cycles_ignore_type_error.py", ignore)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("TypeError ignore must")


def test_enable_beside_the_stdlib_collector_warns(run_program):
    proc = run_program("cli/enable_warns.py")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("warned: gcx.enable() while gcx is not installed and "
                               "the stdlib collector is enabled: both collectors")
    assert "gcx.install()" in lines[0]
    assert lines[1:] == ["done"]


# ------------------------------------------------------------------ installed as a user installs it

def test_metadata():
    from importlib import metadata
    meta = metadata.metadata("gcx")
    # refused at install time wherever the import would refuse
    from packaging.specifiers import SpecifierSet
    allowed = SpecifierSet(meta["Requires-Python"])
    assert [v for v in ("3.11.9", "3.12.0", "3.12.9", "3.13.0", "3.13.5", "3.14.0",
                        "3.14.4", "3.14.5", "3.14.10", "3.15.2", "3.16.0") if v in allowed] == [
        "3.12.0", "3.12.9", "3.13.0", "3.13.5", "3.14.5", "3.14.10", "3.15.2"]
    scripts = [ep for ep in metadata.entry_points(group="console_scripts")
               if ep.name == "gcx"]
    assert [ep.value for ep in scripts] == ["gcx.__main__:console"]


def _pip_installed():
    """Whether this gcx was installed by pip (in a site directory), not put
    on sys.path by hand; skips the test otherwise."""
    import site
    sites = {os.path.realpath(p) for p in site.getsitepackages()}
    if os.path.realpath(GCX_ROOT) not in sites:
        pytest.skip("gcx is not pip-installed here (pip install .)")


def _script():
    import sysconfig
    _pip_installed()
    for directory in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        path = os.path.join(directory, "gcx")
        if os.path.exists(path):
            return path
    pytest.fail("pip installed gcx without its console script")


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A fresh clone of this checkout (a copy of its files when it is not a
    git checkout): the README's commands run in its root, where its gcx/
    (the source tree, with no compiled core) is the current directory's."""
    dest = tmp_path_factory.mktemp("clone") / "gcx-clone"
    if os.path.exists(os.path.join(REPO, ".git")):
        subprocess.run(["git", "clone", "-q", REPO, str(dest)], check=True,
                       capture_output=True)
    else:
        shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(
            ".venv*", "build", "*.so", "__pycache__"))
    assert (dest / "gcx" / "__init__.py").exists()
    assert not list((dest / "gcx").glob("_gcx*.so"))
    return dest


def in_clone(command, clone, timeout=300):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)           # as a user's shell has it
    return subprocess.run(command, capture_output=True, text=True, cwd=clone, env=env,
                          timeout=timeout)


def test_console_script_compare_in_a_clone_root(clone):
    script = _script()
    # the README's main job, from the root of a clone
    proc = in_clone([script, "compare", "--scale", "0.03", "--repeat", "1", "--quiet"],
                    clone)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"gcx {gcx.__version__} compare: the bundled demo")
    assert "wall time (s)" in proc.stdout and "exit status" in proc.stdout
    proc = in_clone([script, "--help"], clone)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: gcx ")


def test_python_m_gcx_in_a_clone_root(clone):
    # python -m puts the clone root first on sys.path: its gcx/ has no core
    _pip_installed()
    with open(os.path.join(os.path.dirname(gcx.__file__), "__init__.py"), "rb") as f:
        same = f.read() == (clone / "gcx" / "__init__.py").read_bytes()
    proc = in_clone([sys.executable, "-m", "gcx", "compare", "--scale", "0.03",
                     "--repeat", "1", "--quiet"], clone)
    if same:
        assert proc.returncode == 0, proc.stderr
        assert "wall time (s)" in proc.stdout
    else:      # this checkout changed gcx/__init__.py since it was installed
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.splitlines()) == 1
        assert "hides the installed gcx" in proc.stderr


def test_python_P_m_gcx_compare_in_a_clone_root(clone):
    # the parent is safe with -P; its children must not put the clone root back
    _pip_installed()
    shutil.copy(os.path.join(CLI, "lists.py"), clone / "prog.py")
    try:
        # (not -m prog: python -P -m prog does not look in the current directory)
        for program in (["prog.py"], []):
            proc = in_clone([sys.executable, "-P", "-m", "gcx", "compare", "--repeat", "1",
                             "--quiet", *(program or ["--scale", "0.03"])], clone)
            assert proc.returncode == 0, (program, proc.stderr)
            assert "Traceback" not in proc.stderr
    finally:
        (clone / "prog.py").unlink()


def test_import_in_a_source_tree_without_install(tmp_path):
    # a copy of the source tree alone, nothing installed to fall back on
    shutil.copytree(os.path.join(REPO, "gcx"), tmp_path / "gcx",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-S", "-m", "gcx", "--version"],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "is gcx's source tree, which has no compiled core" in proc.stderr


# ------------------------------------------------------------------ run: monitoring

def program(name):
    return os.path.join(os.path.dirname(__file__), "programs", "cli", name)


def test_run_serves_metrics(tmp_path):
    pytest.importorskip("prometheus_client")
    from prometheus_client.parser import text_string_to_metric_families
    snapshot, go = tmp_path / "snapshot.json", tmp_path / "go"
    proc = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "gcx", "run", "--metrics-port", "0",
         program("metrics_served.py"), str(snapshot), str(go)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=child_env())
    try:
        line = proc.stderr.readline()
        assert line.startswith("python -m gcx run: gcx metrics at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].strip()
        deadline = time.monotonic() + 120
        while not snapshot.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.02)
        with urllib.request.urlopen(url, timeout=60) as response:
            text = response.read().decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        m = json.loads(snapshot.read_text())
        collections = {s.labels["generation"]: s.value
                       for s in families["gcx_collections"].samples}
        collected = {s.labels["generation"]: s.value
                     for s in families["gcx_collected_objects"].samples}
        for g, gen in enumerate(m["generations"]):
            # the program is idle; the server's thread may have made a
            # young collection due since the snapshot
            assert collections[str(g)] >= gen["collections"]
            assert collected[str(g)] >= gen["collected"]
        assert collections["2"] == m["generations"][2]["collections"] >= 1
        assert sum(collected.values()) >= 2_000         # the program's cycles
        assert "gcx_collection_duration_seconds" in families
        assert "process_resident_memory_bytes" in families      # prometheus_client's own
    finally:
        go.touch()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out == ""


def test_run_watch(tmp_path):
    proc = gcx_cli("run", "--watch", "0.15", program("watched.py"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # the program's print("done") is two writes, and a watch line (one
    # write) may come between them: "donegcx watch +...", then ""
    watch = re.findall(r"gcx watch \+.*", proc.stderr)
    assert len(watch) >= 3, proc.stderr
    assert proc.stderr.find("done") < proc.stderr.rfind("gcx watch +")   # once more at the end
    pattern = (r"gcx watch \+\d+\.\ds: objects \d+/\d+/\d+ \(generations 0/1/2\), \d+ frozen; "
               r"pymalloc \d+ blocks; malloc (\d+\.\d MB|-); RSS (\d+\.\d MB|-); grew: .+")
    assert all(re.fullmatch(pattern, line) for line in watch), watch
    grew = [int(m.group(1)) for line in watch
            for m in [re.search(r"__main__\.Leaky \+(\d+)", line)] if m]
    # what the watch saw of the 40,000 (a census may come in the middle of
    # a step, and a line names the 5 types that grew most); the last line
    # is written while the program's globals still hold them
    assert 5_000 <= sum(grew) <= 40_000
    assert "__main__.Leaky" in watch[-1] or sum(grew) == 40_000


def test_run_metrics_port_errors(tmp_path):
    script = os.path.join(CLI, "ran.py")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = gcx_cli("run", "--metrics-port", str(port), str(script), cwd=tmp_path)
        line = one_line_error(proc)
        assert line.startswith(f"python -m gcx run: cannot serve metrics on 127.0.0.1:{port}: ")
    proc = gcx_cli("run", "--metrics-port", "70000", str(script), cwd=tmp_path)
    assert proc.returncode == 2 and "must be a port number" in proc.stderr
    fake = tmp_path / "fake" / "prometheus_client"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no prometheus_client')\n")
    proc = gcx_cli("run", "--metrics-port", "0", str(script), cwd=tmp_path,
                   env={"PYTHONPATH": str(tmp_path / "fake")})
    assert one_line_error(proc) == (
        "python -m gcx run: --metrics-port needs prometheus_client, which is not "
        "installed here: pip install 'gcx[prometheus]'")
    proc = gcx_cli("run", "--watch", "-1", str(script), cwd=tmp_path)
    assert proc.returncode == 2 and "must be from 0.1 to 86400 seconds" in proc.stderr


# ------------------------------------------------------------------ the command line's limits

def test_report_without_garbage_cycles(tmp_path):
    proc = gcx_cli("--live", "0", "--cycles", "0", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = parse_report(proc.stdout)["one full collection of the same heap"]
    assert rows["finalizers run (__del__)"] == ("0", "0")
    assert rows["weakref callbacks run"] == ("0", "0")


@pytest.mark.parametrize("option, value, bounds", [
    ("--live", "10000000000", "from 0 to 10000000"),
    ("--cycles", "2000001", "from 0 to 2000000"),
    ("--best-of", "101", "from 1 to 100"),
    ("--best-of", "0", "from 1 to 100"),
])
def test_report_sizes_are_bounded(tmp_path, option, value, bounds):
    # the heap is built in memory: 10**10 containers is no typo to try
    message = argparse_error(gcx_cli(option, value, cwd=tmp_path))
    assert message == f"python -m gcx: error: argument {option}: must be {bounds}, not {value}"


@pytest.mark.parametrize("args", [
    ["compare", "--repeat", "0"], ["compare", "-m"], ["report", "--top", "0"],
    ["run", "--watch", "0", "x.py"]])
def test_command_usage_errors_name_the_command(tmp_path, args):
    # one line naming the command, not the top level as its name, and no
    # usage (which -h shows)
    proc = gcx_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"python -m gcx {args[0]}: error: "), lines
    assert "{run,compare,report}" not in proc.stderr


@pytest.mark.parametrize("seconds", ["inf", "1e300", "0.000001", "nan", "0", "86401"])
def test_run_watch_interval_is_bounded(tmp_path, seconds):
    message = argparse_error(gcx_cli("run", "--watch", seconds, os.path.join(CLI, "ran.py"),
                                     cwd=tmp_path))
    assert message == ("python -m gcx run: error: argument --watch: must be from 0.1 to "
                       f"86400 seconds, not {seconds}")


def test_report_tracemalloc_frames_are_bounded(tmp_path):
    message = argparse_error(gcx_cli("report", "--tracemalloc", "100000",
                                     os.path.join(CLI, "ran.py"), cwd=tmp_path))
    assert message == ("python -m gcx report: error: argument --tracemalloc: must be "
                       "from 1 to 65535, not 100000")


def test_run_metrics_addr_needs_metrics_port(tmp_path):
    message = argparse_error(gcx_cli("run", "--metrics-addr", "0.0.0.0",
                                     os.path.join(CLI, "ran.py"), cwd=tmp_path))
    assert message == ("python -m gcx run: error: --metrics-addr is for --metrics-port, "
                       "which is not given")


def test_report_two_outputs_to_stdout(tmp_path):
    marker = tmp_path / "ran"
    message = argparse_error(gcx_cli("report", "--json", "-", "-o", "-",
                                     os.path.join(CLI, "touch.py"), str(marker), cwd=tmp_path))
    assert message == ("python -m gcx report: error: --json - and --output - would both "
                       "write to standard output: give one of them a file")
    assert not marker.exists()


# ------------------------------------------------------------------ programs that do odd things

def gcx_with_input(*args, text, cwd):
    return subprocess.run([sys.executable, "-m", "gcx", *args], input=text,
                          capture_output=True, text=True, cwd=cwd, env=child_env(),
                          timeout=120)


def test_run_program_that_closes_stdout(tmp_path):
    # json.tool closes sys.stdout when it is done; python exits 0 all the same
    proc = gcx_with_input("run", "-m", "json.tool", text='{"a": 1}', cwd=tmp_path)
    python = subprocess.run([sys.executable, "-m", "json.tool"], input='{"a": 1}',
                            capture_output=True, text=True, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == \
        (python.returncode, python.stdout, python.stderr) == (0, '{\n    "a": 1\n}\n', "")


@pytest.mark.parametrize("where", ["stdout", "json-stdout", "file"])
def test_report_of_a_program_that_closes_stdout(tmp_path, where):
    # the report goes where it was to go, whatever the program did to sys.stdout
    args = {"stdout": [], "json-stdout": ["--json", "-"], "file": ["-o", "report.txt"]}[where]
    proc = gcx_with_input("report", *args, "-m", "json.tool", text='{"a": 1}', cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    if where == "stdout":
        assert proc.stdout.startswith("gcx cycle report: ")
        assert proc.stderr == '{\n    "a": 1\n}\n'          # the program's output
    elif where == "json-stdout":
        assert json.loads(proc.stdout)["collections"] >= 1
        assert proc.stderr.startswith('{\n    "a": 1\n}\ngcx cycle report: ')
    else:
        assert (tmp_path / "report.txt").read_text().startswith("gcx cycle report: ")
        assert proc.stdout == '{\n    "a": 1\n}\n'


@pytest.mark.parametrize("command", ["run", "report"])
@pytest.mark.parametrize("launcher", ["python -m gcx", "gcx script"])
def test_keyboard_interrupt_shows_the_programs_frames(tmp_path, launcher, command):
    # as python interrupted.py: the program's frames only, then killed by SIGINT
    copy("interrupted.py", tmp_path)
    start = ([sys.executable, "-m", "gcx"] if launcher == "python -m gcx" else
             [sys.executable, os.path.join(CLI, "console_script.py")])
    proc = subprocess.run([*start, command, "interrupted.py"], capture_output=True,
                          text=True, cwd=tmp_path, env=child_env(), timeout=120)
    expected = subprocess.run([sys.executable, "interrupted.py"], capture_output=True,
                              text=True, cwd=tmp_path)
    assert proc.returncode == expected.returncode == -2
    assert proc.stderr == expected.stderr
    assert "__main__.py" not in proc.stderr and "runpy" not in proc.stderr
    if command == "report":
        assert proc.stdout.startswith("gcx cycle report: ")


def test_run_policy(tmp_path):
    script = os.path.join(CLI, "policy_shown.py")
    for spec, shown in (("full=deferred,max_growth=0.5",
                         "Policy(full='deferred', max_growth=0.5)"),
                        ("policy=PauseBudget,ms=2", "PauseBudget(ms=2.0, guard=0.25)"),
                        ("gcx", "None"),        # as compare's --policy gcx: the stdlib's rule
                        (None, "None")):
        proc = gcx_cli("run", *(["--policy", spec] if spec else []), script, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == f"True {shown}\n"


def test_run_bad_policy(tmp_path):
    marker = tmp_path / "ran"
    message = one_line_error(gcx_cli("run", "--policy", "full=sometimes",
                                     os.path.join(CLI, "touch.py"), str(marker), cwd=tmp_path))
    assert message == ("python -m gcx run: --policy 'full=sometimes': full must be 'auto' "
                       "or 'deferred', not 'sometimes'")
    assert not marker.exists()
