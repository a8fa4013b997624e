"""What many test files need to start child interpreters.

GCX_ROOT        the directory holding the gcx package these tests import
                (site-packages for an installed gcx)
child_env(env)  os.environ for a child that imports this gcx: GCX_ROOT on
                PYTHONPATH (after any PYTHONPATH ``env`` gives, before the
                inherited one); ``env`` entries override the rest, and a
                value of None removes the variable
PROGRAMS        tests/programs/, the child programs the tests run
run_program(name, *args, cwd, python_args=(), env=None, timeout=120)
                ``python -X faulthandler PYTHON_ARGS tests/programs/NAME ARGS``
                in such a child (conftest.py's ``run_program`` fixture runs it
                from the test's tmp_path); the CompletedProcess, text output
                captured, never checked
gcx_cli(*args, cwd, env=None, timeout=120)
                ``python -m gcx ARGS`` in such a child; the CompletedProcess,
                text output captured, never checked
one_line_error(proc, status=2)
                assert the rule for a command-line error (one line on
                stderr, the exit status, no traceback, nothing on stdout);
                returns the line
REF_TRACER      whether this CPython has the reference tracer slot
                (PyRefTracer_SetTracer, 3.13+); on 3.12 gcx reads births
                from CPython's generation lists and never owns a slot
"""
import os
import subprocess
import sys

import gcx

GCX_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(gcx.__file__)))
PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")
REF_TRACER = sys.version_info >= (3, 13)


def child_env(env=None):
    env = dict(env or {})
    result = dict(os.environ)
    result["PYTHONPATH"] = os.pathsep.join(
        p for p in (env.pop("PYTHONPATH", None), GCX_ROOT, os.environ.get("PYTHONPATH"))
        if p)
    for key, value in env.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def one_line_error(proc, status=2):
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stdout == ""
    return proc.stderr.strip()


def gcx_cli(*args, cwd, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-m", "gcx", *args],
        capture_output=True, text=True, cwd=cwd, env=child_env(env), timeout=timeout)


def run_program(name, *args, cwd, python_args=(), env=None, timeout=120):
    path = os.path.join(PROGRAMS, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no program {path}")
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", *python_args, path, *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=child_env(env), timeout=timeout)
