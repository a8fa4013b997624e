"""gcx.report as a package (gcx/report/): every module imports from the
installed gcx and opens with a docstring saying its job, and the names
other code imports from gcx.report are there."""
import importlib
import pkgutil

import gcx
import gcx.report


def test_every_module_says_its_job():
    names = [m.name for m in pkgutil.iter_modules(gcx.report.__path__)]
    assert {"_names", "_labels", "_graph", "_advice", "_analysis", "_model", "_render",
            "_listen"} <= set(names), names
    for name in names:
        module = importlib.import_module(f"gcx.report.{name}")
        doc = module.__doc__
        assert doc and len(doc.split(".")[0]) > 20, name
        # each module is listed, with its job, in the package's docstring
        assert f"    {name} " in gcx.report.__doc__, name


def test_the_names_others_import():
    from gcx.report import (  # noqa: F401  (gcx/testing.py, gcx/__main__.py, tests)
        DEBUG_CYCLES, CycleReport, ProgramRecording, Shape, _listen, _listeners,
        _set_debug_cycles, _unlisten, analyze, debug_report, record_cycles)
    assert gcx.report.__all__ == ["DEBUG_CYCLES", "CycleReport", "Shape", "record_cycles",
                                  "analyze", "debug_report"]
    assert gcx.record_cycles is record_cycles and gcx.CycleReport is CycleReport
    assert DEBUG_CYCLES == gcx.DEBUG_CYCLES
    assert gcx.cycle_report() is debug_report()


def test_bad_arguments():
    # record_cycles() and the testing helpers built on it: TypeError for what
    # is not a report or a flag, before anything listens
    import pytest

    from gcx.report import _listeners
    from gcx.testing import CycleWatch, SpanWatch
    listening = list(_listeners)
    with pytest.raises(TypeError, match="^report must be a CycleReport or None, not int$"):
        gcx.record_cycles(5)
    with pytest.raises(TypeError, match="^collect must be a bool, not str$"):
        gcx.record_cycles(collect="yes")
    for make in (lambda: gcx.no_cycles(classes="x"), lambda: CycleWatch(classes="x"),
                 lambda: SpanWatch(classes=1)):
        with pytest.raises(TypeError, match="^classes must be a bool, not "):
            make()
    assert list(_listeners) == listening
    with gcx.no_cycles(classes=True, ignore="Node"):
        pass
