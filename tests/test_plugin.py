"""The pytest plugin (gcx_pytest.py): a pytest run in a fresh
interpreter, on a test file whose tests make known cycle shapes or none.
The tests that make cycles must be named with their shapes; clean tests
must pass."""
import re
import subprocess
import sys
import textwrap
from importlib import metadata

import pytest


from helpers import child_env  # noqa: E402

TESTS = '''
    import gc
    import pytest

    class Pair:
        pass

    class Node:
        def __init__(self, parent=None):
            self.parent = parent
            self.children = []
            if parent is not None:
                parent.children.append(self)

    def test_clean():
        data = [{"k": (i, [i])} for i in range(1000)]
        assert len(data) == 1000

    def test_clean_with_local_class():
        class Local:
            pass
        assert Local()

    def test_clean_raises():
        with pytest.raises(ZeroDivisionError):
            1 / 0

    def test_pair():
        a, b = Pair(), Pair()
        a.peer, b.peer = b, a

    def test_tree():
        root = Node()
        for _ in range(3):
            Node(root)

    def test_collects_itself():
        a = Pair()
        a.me = a
        del a
        gc.collect()

    @pytest.mark.gcx_allow_cycles
    def test_allowed():
        a = Pair()
        a.me = a

    @pytest.mark.gcx_no_cycles
    def test_marked():
        x = []
        x.append(x)

    @pytest.mark.gcx_no_cycles(ignore=["Pair"])
    def test_marked_ignoring():
        test_pair()

    def test_fails_anyway():
        test_pair()
        assert False, "its own failure"
'''

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


def plugin_registered():
    return entry_point() is not None


def pytest_run(tmp_path, *args, conftest=None, ini=None):
    (tmp_path / "test_cycles.py").write_text(textwrap.dedent(TESTS))
    if conftest is not None:
        (tmp_path / "conftest.py").write_text(textwrap.dedent(conftest))
    if ini is not None:
        (tmp_path / "pytest.ini").write_text(textwrap.dedent(ini))
    else:
        (tmp_path / "pytest.ini").write_text("[pytest]\n")
    plugin = [] if plugin_registered() else ["-p", "gcx_pytest"]
    env = child_env({"PYTEST_ADDOPTS": None})
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA",
         *plugin, *args, "test_cycles.py"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    return proc


def outcomes(stdout):
    """{test name: PASSED/FAILED} from the -rA short summary."""
    found = {}
    for line in stdout.splitlines():
        m = re.match(r"(PASSED|FAILED|ERROR) test_cycles\.py::(\w+)", line)
        if m:
            found[m.group(2)] = m.group(1)
    return found


def summary(stdout):
    """{test name: [verdict, shape lines]} from the plugin's summary section."""
    section = stdout.split("= gcx cycles =", 1)[1]
    found = {}
    current = None
    for line in section.splitlines():
        m = re.match(r"test_cycles\.py::(\w+): (FAILED|reported): ", line)
        if m:
            current = found[m.group(1)] = [m.group(2), []]
        elif line.startswith("    ") and current is not None:
            current[1].append(line.strip())
    return found


@pytest.mark.parametrize("installed", [False, True], ids=["stdlib", "gcx-installed"])
def test_fail_mode_names_the_shapes(tmp_path, installed):
    conftest = "import gcx\ngcx.install()\n" if installed else None
    proc = pytest_run(tmp_path, "--gcx-cycles", conftest=conftest)
    results = outcomes(proc.stdout)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for name in CLEAN:
        assert results[name] == "PASSED", (name, proc.stdout)
    for name in list(SHAPES) + ["test_collects_itself", "test_fails_anyway"]:
        assert results[name] == "FAILED", (name, proc.stdout)
    made = summary(proc.stdout)
    for name, path in SHAPES.items():
        verdict, lines = made[name]
        assert verdict == "FAILED"
        assert re.match(f"1 x {path}( |$)", lines[0]), (name, lines)
    assert "break it: make Pair.peer a weak reference" in made["test_pair"][1][0]
    # a test that fails by itself keeps its own failure; its cycles are reported
    assert "its own failure" in proc.stdout
    assert made["test_fails_anyway"][1][0].startswith("1 x Pair.peer -> Pair.peer -> Pair")
    verdict, lines = made["test_collects_itself"]
    if installed:
        # gc.collect() is gcx's: its garbage has a shape
        assert len(lines) == 1 and lines[0].startswith("1 x Pair.me -> Pair ")
    else:
        assert lines == []
        assert "the stdlib collector collected 1 objects" in proc.stdout
    assert "5 tests made cyclic garbage" in proc.stdout
    assert "the test made cyclic garbage (gcx)" in proc.stdout


def test_report_mode_passes_and_lists(tmp_path):
    proc = pytest_run(tmp_path, "--gcx-cycles-report")
    results = outcomes(proc.stdout)
    assert proc.returncode == 1       # test_marked (a marker fails) and test_fails_anyway
    assert {name for name, r in results.items() if r == "FAILED"} == {
        "test_marked", "test_fails_anyway"}
    made = summary(proc.stdout)
    assert made["test_pair"][0] == "reported" and made["test_marked"][0] == "FAILED"
    assert re.match(r"1 x Node\.parent -> Node\.children\[\d\] -> Node ",
                    made["test_tree"][1][0])


def test_off_unless_asked(tmp_path):
    proc = pytest_run(tmp_path)
    results = outcomes(proc.stdout)
    # only the marked test is checked
    assert {name for name, r in results.items() if r == "FAILED"} == {
        "test_marked", "test_fails_anyway"}
    made = summary(proc.stdout)
    assert list(made) == ["test_marked"]


def test_ini_options(tmp_path):
    proc = pytest_run(tmp_path, ini="""
        [pytest]
        gcx_cycles = fail
        gcx_cycles_ignore = Node Pair
    """)
    results = outcomes(proc.stdout)
    assert {name for name, r in results.items() if r == "FAILED"} == {
        "test_marked", "test_collects_itself", "test_fails_anyway"}


def test_bad_ini_value(tmp_path):
    proc = pytest_run(tmp_path, ini="[pytest]\ngcx_cycles = sometimes\n")
    assert proc.returncode == 4
    assert "gcx_cycles must be one of fail, report, not 'sometimes'" in proc.stderr


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
    (tmp_path / "test_x.py").write_text(
        "import sys\ndef test_x():\n    assert 'gcx' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_x.py"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
