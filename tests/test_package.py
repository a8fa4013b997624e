"""The package as a whole: the stdlib's originals are captured once
(gcx/_stdlib.py), so a gcx submodule imported for the first time while gcx is
installed still reaches the stdlib collector, and uninstall() restores it."""
import gc as stdlib_gc
import json
import pkgutil
import sys

import gcx
from conftest import STDLIB

# Not imported by ``import gcx``: the child imports them first while installed
# (with every other module of the package pkgutil finds).
MUST_BE_FIRST_IMPORTED = ["gcx.testing", "gcx.report", "gcx.compare", "gcx.__main__",
                          "gcx._demo", "gcx._overview", "gcx._runner", "gcx._table",
                          "gcx_pytest"]


def test_stdlib_module_holds_the_originals():
    from gcx import _stdlib
    for name, original in STDLIB.items():
        assert getattr(_stdlib, name) is original, name
    assert _stdlib.gc_module is stdlib_gc
    assert set(_stdlib.TAKEN_OVER) <= set(STDLIB)


def test_submodules_first_imported_while_installed(run_program):
    """Each module of the package (found by pkgutil: a new one is covered
    without editing this list) imported first while gcx is installed; then
    uninstall() gives back every gc attribute and the stdlib's collect()."""
    proc = run_program("package/submodules_while_installed.py")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "listed", "imported", "changed", "collect", "stdlib", "watch", "report", "cli"], proc.stdout
    listed = json.loads(lines[0].split(" ", 1)[1])
    imported = json.loads(lines[1].split(" ", 1)[1])
    # the child's package is this one, all of it enumerated
    assert set(listed) == {f"gcx.{m.name}" for m in pkgutil.iter_modules(gcx.__path__)} | {"gcx_pytest"}
    assert set(MUST_BE_FIRST_IMPORTED) <= set(imported) <= set(listed), imported
    assert lines[2:] == [
        "changed []",
        "collect True",
        "stdlib collects True True",
        "watch False True True",
        "report True True",
        "cli True",
    ], proc.stdout + proc.stderr


def test_import_leaves_no_garbage_and_calls_no_callback(run_program):
    """import gcx runs probes (two young stdlib collections, classes
    defined): the program's callbacks and debug flags see none of it, and
    a full collection after the import finds nothing the import left."""
    proc = run_program("package/import_quiet.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "callbacks during import []",
        "saved by the import 0",
        "stdlib collect after import 0",
        "gcx collect after import 0",
        "enabled False",
    ], proc.stdout
    assert "gc: collecting" not in proc.stderr


def test_stdlib_recaptured_when_taken_over(run_program):
    """gcx/_stdlib.py imported again while gc points at gcx (a reload): it
    still finds the stdlib's own functions and the interpreter's lists."""
    proc = run_program("package/stdlib_recaptured.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True"] * 4 + ["False"], proc.stdout + proc.stderr


def _stub_keys(class_name):
    """The keys of a TypedDict in the C core's stub, gcx/_gcx.pyi."""
    import ast
    import os
    from gcx import _gcx
    path = os.path.join(os.path.dirname(_gcx.__file__), "_gcx.pyi")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    (cls,) = [node for node in tree.body
              if isinstance(node, ast.ClassDef) and node.name == class_name]
    return {node.target.id for node in cls.body if isinstance(node, ast.AnnAssign)}


def test_stub_dicts_match_the_core():
    """stubtest does not look inside dicts: the stub's TypedDicts have the
    keys the core's info() and get_stats() give (gcx.info() adds version)."""
    assert _stub_keys("_Info") == set(gcx.info())
    assert set(gcx._gcx.info()) | {"version"} == set(gcx.info())
    extra = {"candidates", "duration"} if sys.version_info >= (3, 15) else set()
    for stats in gcx._gcx.get_stats():
        assert _stub_keys("_GenerationStats") == {
            "collections", "collected", "uncollectable", "candidates", "duration"}
        assert set(stats) == {"collections", "collected", "uncollectable"} | extra


def test_stub_metrics_match_the_core():
    m = gcx._gcx.metrics()
    assert _stub_keys("_Metrics") == set(m)
    for gen in m["generations"]:
        assert _stub_keys("_GenerationMetrics") == set(gen)
    gcx.collect(0)
    assert _stub_keys("_LastCollection") == set(gcx._gcx.metrics()["generations"][0]["last"])


def test_extras_are_optional():
    """prometheus_client and the OpenTelemetry API come with the extras
    (gcx[prometheus], gcx[otel]; the test extra has them too), never with a
    plain install: every requirement of the installed gcx is an extra's."""
    import importlib.metadata
    import re
    requires = importlib.metadata.requires("gcx") or []
    extras = {}
    for req in requires:
        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower().replace("_", "-")
        marker = re.search(r'extra\s*==\s*"([^"]+)"', req)
        assert marker, f"{req!r} is installed with every gcx"
        extras.setdefault(marker.group(1), set()).add(name)
    assert "prometheus-client" in extras["prometheus"]
    assert "opentelemetry-api" in extras["otel"]
    assert {"prometheus-client", "opentelemetry-api", "opentelemetry-sdk"} <= extras["test"]


def test_monitoring_without_the_extras(run_program):
    proc = run_program("package/monitoring_without_extras.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "gcx.prometheus needs prometheus_client: pip install 'gcx[prometheus]'",
        "gcx.otel needs the OpenTelemetry API: pip install 'gcx[otel]'",
    ]


def test_fork_right_after_import_sees_one_thread(run_program):
    """gcx's import self-test on 3.14+ freed a deep chain in a thread; a
    program that forked right after `import gcx` was warned, 8 times in 40
    on 3.15.2, that it forked with threads (an error under -W error): the
    thread had released its lock but not yet exited.  It was joined then;
    now the import starts no thread (src/trashcan.c; test_api's
    import-cost test counts them).  (A race: the build before the join
    failed 1 to 8 runs of 40.)"""
    for _ in range(40):
        proc = run_program("package/fork_after_import.py")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split()[0::2] == ["forked", "0"], proc.stdout


def test_subinterpreters_cannot_import_gcx(run_program):
    """A legacy subinterpreter (shared GIL) is refused as an isolated one
    is: given gcx it would work on the main interpreter's records (its
    collect() ran the main interpreter's finalizers, and the main
    interpreter's next collection never returned).  The main interpreter
    keeps its one core and collects what the stdlib collects."""
    proc = run_program("package/subinterpreters.py")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    refusals = [line for line in lines if line.startswith(("legacy", "isolated"))]
    assert refusals == [f"{kind} {name} ImportError"
                        for _ in range(2)
                        for kind in ("legacy", "isolated")
                        for name in ("gcx", "gcx._gcx")], proc.stdout + proc.stderr
    assert "same module True True" in lines, proc.stdout
    stdlib = next(line for line in lines if line.startswith("stdlib "))
    during, found, finalized = stdlib.split()[1:]
    assert (during, finalized) == ("0", "300") and int(found) >= 900, stdlib
    assert f"gcx {' '.join(stdlib.split()[1:])}" in lines, proc.stdout
