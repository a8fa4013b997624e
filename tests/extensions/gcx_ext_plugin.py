"""pytest plugin for .ci/extensions.py: checks which collector the test
process really runs under, and records each test's outcome.

Loaded with ``-p gcx_ext_plugin`` (this directory on PYTHONPATH, never the
repository root, whose gcx/ lacks the compiled core).  Environment:

GCX_EXT_EXPECT    "gcx": gcx must be installed as the process's collector
                  (``python -m gcx run -m pytest``) when the session starts;
                  "stock": gcx must not be installed (the stdlib collector).
GCX_EXT_RESULTS   file to append one JSON line per test outcome to, flushed
                  as it goes, so a crash leaves the outcomes so far and the
                  test that was running ("started" lines).
GCX_EXT_DESELECT  optional regular expression: deselect the tests whose node
                  id it matches (re.search), e.g. a pure-Python variant of
                  tests that exist for a C extension.

Outcomes: passed, failed, skipped, xfailed, xpassed, error (setup or
teardown failed).  A test with several reports keeps the worst one.
"""

import gc
import json
import os
import re
import sys

_EXPECT = os.environ.get("GCX_EXT_EXPECT", "")
_RESULTS = os.environ.get("GCX_EXT_RESULTS")
_DESELECT = os.environ.get("GCX_EXT_DESELECT")
_out = None


def _write(record):
    if _out is not None:
        _out.write(json.dumps(record) + "\n")
        _out.flush()


def pytest_sessionstart(session):
    global _out
    if _EXPECT == "gcx":
        gcx = sys.modules.get("gcx")
        if gcx is None or not gcx.is_installed():
            raise SystemExit("gcx_ext_plugin: gcx is not installed as the "
                             "process's collector (run under `python -m gcx run`)")
        if gc.collect is not gcx.collect:
            raise SystemExit("gcx_ext_plugin: gc.collect is not gcx's")
        info = gcx.info()
        line = (f"gcx_ext_plugin: gcx {info['version']} installed, mode "
                f"{info['mode']}, build {info['build']}, from {gcx.__file__}")
    elif _EXPECT == "stock":
        gcx = sys.modules.get("gcx")
        if gcx is not None and gcx.is_installed():
            raise SystemExit("gcx_ext_plugin: gcx is installed in the stock run")
        line = "gcx_ext_plugin: stock collector (gcx not installed)"
    else:
        raise SystemExit("gcx_ext_plugin: set GCX_EXT_EXPECT to gcx or stock")
    print(line, file=sys.stderr)
    if _RESULTS:
        _out = open(_RESULTS, "a", encoding="utf-8")
        _write({"session": _EXPECT, "line": line})


def pytest_collection_modifyitems(config, items):
    if not _DESELECT:
        return
    pattern = re.compile(_DESELECT)
    keep, drop = [], []
    for item in items:
        (drop if pattern.search(item.nodeid) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_runtest_logstart(nodeid, location):
    _write({"started": nodeid})


def _outcome(report):
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when == "call":
        return report.outcome          # passed, failed, skipped
    if report.failed:
        return "error"
    if report.skipped:
        return "skipped"
    return None                        # a passing setup or teardown


def pytest_runtest_logreport(report):
    outcome = _outcome(report)
    if outcome is not None:
        _write({"id": report.nodeid, "when": report.when, "outcome": outcome})
    if report.when == "teardown":
        _write({"finished": report.nodeid})


def pytest_collectreport(report):
    if report.failed:
        _write({"id": report.nodeid or "<collection>", "when": "collect",
                "outcome": "error"})


def pytest_sessionfinish(session, exitstatus):
    _write({"exitstatus": int(exitstatus)})
    if _out is not None:
        _out.close()
