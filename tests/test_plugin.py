"""The pytest plugin (gcx_pytest.py): pytest runs in a fresh interpreter,
on test files under tests/programs/plugin/ whose tests make known cycle
shapes, in known phases, or none.  The tests that make cycles must be named
with their shapes, in the summary's entry for that shape, with the phase
the garbage was made in; clean tests must pass and go unnamed."""
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from helpers import child_env

pytestmark = pytest.mark.subprocess

PROGRAMS = Path(__file__).parent / "programs" / "plugin"

CLEAN = {"test_clean", "test_clean_with_local_class", "test_clean_raises",
         "test_allowed", "test_marked_ignoring"}
SHAPES = {      # as regular expressions: a list position may be any child's
    "test_pair": r"Pair\.peer -> Pair\.peer -> Pair",
    "test_tree": r"Node\.parent -> Node\.children\[\d\] -> Node",
    "test_marked": r"list\[0\] -> list",
}


def entry_point():
    """The plugin's pytest11 entry point, or None if it is not registered."""
    for ep in metadata.entry_points(group="pytest11"):
        if ep.name == "gcx":
            return ep
    return None


def pytest_run(tmp_path, *args, files=("cycles.py",), ini="[pytest]\n", installed=False):
    """pytest ARGS FILES in tmp_path, on copies of the programs named."""
    for name in files:
        shutil.copy(PROGRAMS / name, tmp_path / name)
    if installed:
        shutil.copy(PROGRAMS / "install_gcx.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text(ini)
    plugin = [] if entry_point() is not None else ["-p", "gcx_pytest"]
    env = child_env({"PYTEST_ADDOPTS": None})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA",
         *plugin, *args, *files],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)


def outcomes(stdout):
    """{test name: PASSED/FAILED/ERROR} from the -rA short summary."""
    found = {}
    for line in stdout.splitlines():
        m = re.match(r"(PASSED|FAILED|ERROR) \w+\.py::(\w+(?:\[[^\]]*\])?)", line)
        if m:
            found.setdefault(m.group(2), set()).add(m.group(1))
    return {name: "ERROR" if "ERROR" in got else "FAILED" if "FAILED" in got else "PASSED"
            for name, got in found.items()}


def summary(stdout):
    """The plugin's summary section: [{"tests": N, "failed": N, "path": str,
    "lines": [...], "ids": [...]}] in order, and its closing line."""
    section = stdout.split("= gcx cycles =", 1)[1].split("\n=", 1)[0]
    entries = []
    for line in section.splitlines()[1:]:
        m = re.match(r"#\d+  (\d+) tests?(?: \((\d+) failed for it\))?: (.*)$", line)
        if m:
            entries.append({"tests": int(m.group(1)), "failed": int(m.group(2) or 0),
                            "head": m.group(3), "path": None, "lines": [], "ids": []})
        elif line.startswith("    ") and entries:
            entry = entries[-1]
            text = line.strip()
            entry["lines"].append(text)
            if entry["path"] is None and entry["head"].endswith("objects"):
                entry["path"] = text
            elif re.match(r"\w+\.py::", text):
                entry["ids"].append(text)
    closing = section.strip().splitlines()[-1]
    return entries, closing


def entry_for(entries, path_pattern):
    found = [e for e in entries if e["path"] and re.fullmatch(path_pattern, e["path"])]
    assert len(found) == 1, (path_pattern, entries)
    return found[0]


def names(ids):
    """Test names (with their phase note) from an entry's test ids."""
    return [re.sub(r"^\w+\.py::", "", i) for i in ids]


@pytest.mark.parametrize("installed", [False, True], ids=["stdlib", "gcx-installed"])
def test_fail_mode_names_the_shapes(tmp_path, installed):
    proc = pytest_run(tmp_path, "--gcx-cycles", installed=installed)
    results = outcomes(proc.stdout)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for name in CLEAN:
        assert results[name] == "PASSED", (name, proc.stdout)
    for name in list(SHAPES) + ["test_collects_itself", "test_fails_anyway"]:
        assert results[name] == "FAILED", (name, proc.stdout)
    entries, closing = summary(proc.stdout)
    for name, path in SHAPES.items():
        entry = [e for e in entries if any(i.endswith("::" + name) for i in e["ids"])]
        assert len(entry) == 1 and re.fullmatch(path, entry[0]["path"]), (name, entries)
    pair = entry_for(entries, SHAPES["test_pair"])
    # a test that fails by itself keeps its own failure; its cycles are reported
    assert "its own failure" in proc.stdout
    assert pair["tests"] == 2 and pair["failed"] == 2
    assert names(pair["ids"]) == ["test_pair", "test_fails_anyway"]
    assert "break it: make Pair.peer a weak reference (weakref.ref or weakref.proxy)" \
        in pair["lines"]
    itself = [e for e in entries if "cycles.py::test_collects_itself" in e["ids"]]
    assert len(itself) == 1
    if installed:
        # gc.collect() is gcx's: its garbage has a shape
        assert itself[0]["path"] == "Pair.me -> Pair"
    else:
        assert itself[0]["head"].startswith("the stdlib collector collected 1 objects")
    assert closing == f"5 tests made cyclic garbage, of {4 if installed else 3} shapes"
    assert "the test made cyclic garbage (gcx)" in proc.stdout


def test_report_mode_passes_and_lists(tmp_path):
    proc = pytest_run(tmp_path, "--gcx-cycles-report")
    results = outcomes(proc.stdout)
    assert proc.returncode == 1       # test_marked (a marker fails) and test_fails_anyway
    assert {name for name, r in results.items() if r == "FAILED"} == {
        "test_marked", "test_fails_anyway"}
    entries, closing = summary(proc.stdout)
    pair = entry_for(entries, SHAPES["test_pair"])
    assert pair["tests"] == 2 and pair["failed"] == 0
    marked = entry_for(entries, SHAPES["test_marked"])
    assert marked["failed"] == 1 and names(marked["ids"]) == ["test_marked"]
    tree = entry_for(entries, SHAPES["test_tree"])
    assert names(tree["ids"]) == ["test_tree"]
    assert re.match(r"checked by \d+ young and \d+ full gcx collections: [\d.]+ s",
                    proc.stdout.split("= gcx cycles =", 1)[1].splitlines()[1])


def test_off_unless_asked(tmp_path):
    proc = pytest_run(tmp_path)
    results = outcomes(proc.stdout)
    # only the marked test is checked
    assert {name for name, r in results.items() if r == "FAILED"} == {
        "test_marked", "test_fails_anyway"}
    entries, closing = summary(proc.stdout)
    assert [names(e["ids"]) for e in entries] == [["test_marked"]]
    assert "checked by" not in proc.stdout


def test_ini_options(tmp_path):
    proc = pytest_run(tmp_path, ini="[pytest]\ngcx_cycles = fail\n"
                                    "gcx_cycles_ignore = Node Pair\n")
    results = outcomes(proc.stdout)
    assert {name for name, r in results.items() if r == "FAILED"} == {
        "test_marked", "test_collects_itself", "test_fails_anyway"}


def test_ini_ignore_names_with_spaces(tmp_path):
    # gcx_cycles_ignore is a list ini option: a quoted name keeps its space
    proc = pytest_run(tmp_path, "--gcx-cycles-report", files=("rollup.py",),
                      ini='[pytest]\ngcx_cycles_ignore = Leaky "frame test_frame_a"\n')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entries, closing = summary(proc.stdout)
    assert [(e["path"], names(e["ids"])) for e in entries] == [
        ("Knot.other -> Knot.other -> Knot", [f"test_knots[{i}]" for i in range(3)]),
        ("Holder.frame -> frame (the test).f_locals['holder'] -> Holder",
         ["test_frame_b"])]


def test_bad_ini_value(tmp_path):
    proc = pytest_run(tmp_path, ini="[pytest]\ngcx_cycles = sometimes\n")
    assert proc.returncode == 4
    assert "gcx_cycles must be one of fail, report, not 'sometimes'" in proc.stderr


def test_rollup_one_entry_per_shape(tmp_path):
    proc = pytest_run(tmp_path, "--gcx-cycles-report", files=("rollup.py",))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entries, closing = summary(proc.stdout)
    assert [(e["tests"], e["path"]) for e in entries] == [
        (50, "Leaky.me -> Leaky"), (3, "Knot.other -> Knot.other -> Knot"),
        (2, "Holder.frame -> frame (the test).f_locals['holder'] -> Holder")]
    leaky = entries[0]
    assert leaky["head"] == "50 cycles, 50 objects"
    # a few test ids, and how many more
    assert names(leaky["ids"]) == ["test_leaks[0]", "test_leaks[1]", "test_leaks[2]"]
    assert leaky["lines"][-1] == "... and 47 more (-v lists them)"
    assert names(entries[1]["ids"]) == [f"test_knots[{i}]" for i in range(3)]
    assert closing == "55 tests made cyclic garbage, of 3 shapes"
    # the whole section: one entry per shape
    section = proc.stdout.split("= gcx cycles =", 1)[1].split("\n=", 1)[0]
    lines = section.splitlines()[1:]
    assert re.fullmatch(r"checked by \d+ young and \d+ full gcx collections: "
                        r"[\d.]+ s with their analysis", lines[0])
    assert lines[1:] == [
        "#1  50 tests: 50 cycles, 50 objects",
        "    Leaky.me -> Leaky",
        "    break it: make Leaky.me a weak reference (weakref.ref or weakref.proxy)",
        "    rollup.py::test_leaks[0]",
        "    rollup.py::test_leaks[1]",
        "    rollup.py::test_leaks[2]",
        "    ... and 47 more (-v lists them)",
        "#2  3 tests: 3 cycles, 6 objects",
        "    Knot.other -> Knot.other -> Knot",
        "    break it: make Knot.other a weak reference (weakref.ref or weakref.proxy)",
        "    rollup.py::test_knots[0]",
        "    rollup.py::test_knots[1]",
        "    rollup.py::test_knots[2]",
        "#3  2 tests: 2 cycles, 4 objects",
        "    Holder.frame -> frame (the test).f_locals['holder'] -> Holder",
        "    break it: make Holder.frame a weak reference (frame (the test) cannot be "
        "weakly referenced: keep an id or a key instead, or use a "
        "weakref.WeakValueDictionary/WeakSet)",
        "    rollup.py::test_frame_a",
        "    rollup.py::test_frame_b",
        "55 tests made cyclic garbage, of 3 shapes",
    ]


def test_rollup_verbose_lists_every_test(tmp_path):
    proc = pytest_run(tmp_path, "--gcx-cycles-report", "-v", files=("rollup.py",))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entries, closing = summary(proc.stdout)
    assert names(entries[0]["ids"]) == [f"test_leaks[{i}]" for i in range(50)]
    assert not any("more" in line for line in entries[0]["lines"])


@pytest.mark.parametrize("installed", [False, True], ids=["stdlib", "gcx-installed"])
def test_attribution(tmp_path, installed):
    proc = pytest_run(tmp_path, "--gcx-cycles-report", "-v",
                      files=("attribution.py", "attribution_next.py"), installed=installed)
    results = outcomes(proc.stdout)
    assert {name for name, r in results.items() if r != "PASSED"} == {
        "test_10_marked_old"}, proc.stdout
    entries, closing = summary(proc.stdout)
    by_path = {e["path"]: names(e["ids"]) for e in entries}
    since_start = "made by one of the tests from attribution.py::test_1_clean"
    assert by_path == {
        # two consecutive tests, only the second leaks: only the second is named
        "Second.me -> Second": ["test_2_leaks"],
        "SetupJunk.me -> SetupJunk": ["test_3_setup_leak (setup)"],
        "TeardownJunk.me -> TeardownJunk": ["test_4_teardown_leak (teardown)"],
        # the fixture's value dies when the fixture ends
        "FixtureValue.me -> FixtureValue": ["test_5_fixture_value (teardown)"],
        # promoted by the test's own young or older collection: still its call's
        "Promoted0.me -> Promoted0": ["test_6_promoted_young"],
        "Promoted1.me -> Promoted1": ["test_7_promoted_full"],
        # an object of an earlier test's, dropped by test_9_drops: found by
        # the full collection before the marked test's call
        "Kept.me -> Kept": [f"test_10_marked_old (older objects, found by a full "
                            f"collection there: {since_start})"],
        # the marked test's full collections see what it makes of older objects
        "ImportTime.me -> ImportTime": ["test_10_marked_old"],
        # a module-scoped fixture's value, dropped at the module's end
        "ModuleValue.me -> ModuleValue": [
            "test_12_module_b (older objects, found by a full collection there: made "
            "by one of the tests from attribution.py::test_10_marked_old)"],
    }, proc.stdout
    marked = entry_for(entries, r"ImportTime\.me -> ImportTime")
    assert marked["failed"] == 1
    assert closing == ("7 tests made cyclic garbage, of 9 shapes; "
                       "2 full collections found garbage of older objects")


def test_fail_mode_fails_only_for_the_call(tmp_path):
    # setup and teardown garbage is reported, never fails the test
    proc = pytest_run(tmp_path, "--gcx-cycles", files=("attribution.py",))
    results = outcomes(proc.stdout)
    assert {name for name, r in results.items() if r != "PASSED"} == {
        "test_2_leaks", "test_6_promoted_young", "test_7_promoted_full",
        "test_10_marked_old"}, proc.stdout
    entries, closing = summary(proc.stdout)
    setup = entry_for(entries, r"SetupJunk\.me -> SetupJunk")
    assert setup["tests"] == 1 and setup["failed"] == 0


def test_entry_point_registered():
    # pyproject.toml: [project.entry-points.pytest11] gcx = "<the plugin module>"
    ep = entry_point()
    assert ep is not None
    module = ep.load()
    assert callable(module.pytest_addoption) and callable(module.pytest_runtest_call)


@pytest.mark.skipif(entry_point() is None or entry_point().value.startswith("gcx."),
                    reason="the plugin is a module of the gcx package: loading it "
                           "imports gcx")
def test_off_plugin_imports_nothing(tmp_path):
    shutil.copy(PROGRAMS / "imports_nothing.py", tmp_path / "imports_nothing.py")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "imports_nothing.py"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


BAD_MARKERS = {
    "test_ignore_not_names": "@pytest.mark.gcx_no_cycles: ignore must be a type name or "
                             "an iterable of type names, not int",
    "test_unknown_keyword": "@pytest.mark.gcx_no_cycles: unexpected keyword argument "
                            "'bogus' (it takes classes= and ignore=)",
    "test_positional": "@pytest.mark.gcx_no_cycles: takes keyword arguments only "
                       "(classes=, ignore=), not 'Node'",
    "test_classes_not_bool": "@pytest.mark.gcx_no_cycles: classes must be a bool, not str",
    "test_allow_with_argument": "@pytest.mark.gcx_allow_cycles takes no arguments",
}


@pytest.mark.parametrize("option", [[], ["--gcx-cycles"]], ids=["marked", "fail-mode"])
def test_bad_marker_arguments_fail_their_test_only(tmp_path, option):
    # an error at the test's setup, saying why; never an INTERNALERROR
    proc = pytest_run(tmp_path, *option, files=("bad_markers.py",))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "INTERNALERROR" not in proc.stdout + proc.stderr
    results = outcomes(proc.stdout)
    assert results == {**{name: "ERROR" for name in BAD_MARKERS},
                       "test_good_marker": "PASSED", "test_after": "PASSED"}, proc.stdout
    lines = proc.stdout.splitlines()
    for name, message in BAD_MARKERS.items():
        # the error's section: its heading, then the message alone
        heading = [i for i, line in enumerate(lines) if f"ERROR at setup of {name} " in line]
        assert len(heading) == 1 and lines[heading[0] + 1] == message, (name, proc.stdout)


def test_last_of_the_two_options_wins(tmp_path):
    # as argparse's options: the later one given (a command line after addopts)
    proc = pytest_run(tmp_path, "--gcx-cycles", "--gcx-cycles-report")
    results = outcomes(proc.stdout)
    assert {name for name, r in results.items() if r == "FAILED"} == {
        "test_marked", "test_fails_anyway"}            # report mode
    proc = pytest_run(tmp_path, "--gcx-cycles-report", "--gcx-cycles")
    assert outcomes(proc.stdout)["test_pair"] == "FAILED"      # fail mode


def test_gcx_run_pytest_with_warnings_as_errors(tmp_path):
    # `gcx run -m pytest` imports gcx before pytest starts; pytest marks the
    # top-level modules of its plugins' distributions (gcx, gcx_pytest) for
    # assertion rewriting and warns about those already imported, unless
    # their docstring says PYTEST_DONT_REWRITE: under filterwarnings = error
    # that warning stopped the session
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    env = child_env({"PYTEST_ADDOPTS": None})
    proc = subprocess.run(
        [sys.executable, "-m", "gcx", "run", "-m", "pytest", "-p", "no:cacheprovider",
         *([] if entry_point() is not None else ["-p", "gcx_pytest"]), "test_one.py"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    assert "PytestAssertRewriteWarning" not in proc.stdout + proc.stderr


def test_pytest_main_after_importing_the_plugin(tmp_path):
    # the plugin's module imported before pytest.main(): no rewrite warning
    shutil.copy(PROGRAMS / "runs_pytest.py", tmp_path / "runs_pytest.py")
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    proc = subprocess.run(
        [sys.executable, "runs_pytest.py", "-p", "no:cacheprovider",
         *([] if entry_point() is not None else ["-p", "gcx_pytest"]), "test_one.py"],
        capture_output=True, text=True, cwd=tmp_path,
        env=child_env({"PYTEST_ADDOPTS": None}), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
