"""The package as a whole: the stdlib's originals are captured once
(gcx/_stdlib.py), so a gcx submodule imported for the first time while gcx is
installed still reaches the stdlib collector, and uninstall() restores it."""
import gc as stdlib_gc

import gcx
from conftest import STDLIB

SUBMODULES = ["gcx.testing", "gcx.report", "gcx.compare", "gcx.__main__", "gcx_pytest"]


def test_stdlib_module_holds_the_originals():
    from gcx import _stdlib
    for name, original in STDLIB.items():
        assert getattr(_stdlib, name) is original, name
    assert _stdlib.gc_module is stdlib_gc
    assert set(_stdlib.TAKEN_OVER) <= set(STDLIB)


def test_submodules_first_imported_while_installed(fresh_python):
    proc = fresh_python(f"""
        import gc, sys, weakref
        originals = {{name: getattr(gc, name) for name in dir(gc)
                     if not name.startswith("_")}}
        import gcx
        gcx.install()
        assert not set({SUBMODULES!r}) & set(sys.modules)
        for name in {SUBMODULES!r}:
            __import__(name)
        gcx.uninstall()

        # Every stdlib gc attribute is the original again.
        changed = [name for name, value in originals.items()
                   if getattr(gc, name) is not value]
        print("changed", changed)

        # The stdlib collector is reachable and works.
        class Node:
            pass
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
        gcx.disable()
        print("stdlib collects", gc.collect() >= 2 and ref() is None, gc.isenabled())
        gcx.enable()

        # The modules imported while gcx was installed work the stdlib
        # collector, not gcx's: a CycleWatch turns the stdlib's automatic
        # collection off for the block (gcx not installed) and back on,
        # and hears the stdlib's explicit collections through gc.callbacks.
        from gcx.testing import CycleWatch
        watch = CycleWatch()
        watch.start()
        inside = gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        originals["collect"]()
        report = watch.stop()
        print("watch", inside, gc.isenabled(), report.stdlib_collected >= 2)

        # The garbage hook of gcx.report keeps the stdlib collector as it was.
        from gcx.report import record_cycles
        with record_cycles() as report:
            a, b = Node(), Node()
            a.other, b.other = b, a
            del a, b
            gcx.collect()
        print("report", report.groups >= 1, gc.isenabled())

        # The CLI's stdlib column is the stdlib's.
        import gcx.__main__ as cli
        print("cli", cli.gc.get_threshold is originals["get_threshold"])
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "changed []",
        "stdlib collects True True",
        "watch False True True",
        "report True True",
        "cli True",
    ], proc.stdout + proc.stderr


def test_stdlib_recaptured_when_taken_over(fresh_python):
    """gcx/_stdlib.py imported again while gc points at gcx (a reload): it
    still finds the stdlib's own functions and the interpreter's lists."""
    proc = fresh_python("""
        import gc, importlib
        import gcx
        from gcx import _stdlib
        garbage, callbacks, isenabled = gc.garbage, gc.callbacks, gc.isenabled
        gcx.install()
        again = importlib.reload(_stdlib)
        print(again.collect is not gc.collect,
              type(again.collect).__name__ == "builtin_function_or_method",
              again.garbage is garbage, again.callbacks is callbacks)
        again.enable()
        again.disable()
        print(isenabled())
        gcx.uninstall()
    """)
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
    for stats in gcx._gcx.get_stats():
        assert _stub_keys("_GenerationStats") == set(stats)


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


def test_monitoring_without_the_extras(fresh_python):
    # import gcx and its monitoring import neither library; without them the
    # exporters say which extra to install
    proc = fresh_python("""
        import sys
        sys.modules["prometheus_client"] = None      # as if not installed
        sys.modules["opentelemetry"] = None
        import gcx
        gcx.metrics(); gcx.census(); gcx.log_slow_pauses(None)
        for name in ("gcx.prometheus", "gcx.otel"):
            try:
                __import__(name)
            except ImportError as exc:
                print(exc)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "gcx.prometheus needs prometheus_client: pip install 'gcx[prometheus]'",
        "gcx.otel needs the OpenTelemetry API: pip install 'gcx[otel]'",
    ]
