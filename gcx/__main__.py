"""gcx (or python -m gcx): compare gcx with the stdlib collector, or run a program under gcx.

  gcx [--live N] [--cycles N] [--best-of N]
      With no command: print, side by side for the stdlib collector and gcx,
      the interpreter, gcx's mode, what each collector tracks (per
      generation, and the ten commonest types), then one collection of the
      same heap by each.
  gcx run SCRIPT [ARG ...]
  gcx run -m MODULE [ARG ...]
      Run a program as `python SCRIPT` / `python -m MODULE` would, with gcx
      installed (gcx.install()) before its first line runs.
  gcx compare [OPTIONS] [SCRIPT [ARG ...] | -m MODULE [ARG ...]]
      Run a program (by default a bundled demo workload) in fresh
      interpreters under the stdlib collector and under gcx, and print one
      table: wall time, time in collections, pauses per generation, objects
      collected, peak RSS (gcx/compare.py).
  gcx report [OPTIONS] [SCRIPT [ARG ...] | -m MODULE [ARG ...]]
      Run a program (by default the demo) with gcx installed and print the
      shapes of the reference cycles it made garbage, top cycle makers
      first (gcx/report/).

`gcx` is the console script pip installs; `python -m gcx` is the same
command line.  An error in the command line (a bad option, a program that
cannot be found, an output file that cannot be written) is one line on
standard error and exit status 2, never a traceback.

The report's collection: for each collector in turn, build the same heap
(live containers, some in reachable cycles, plus garbage cycles of instances
and dicts, some with __del__, some watched by weakrefs with callbacks) with
both collectors' automatic collection off, then time one full collection by
that collector alone.  Both must find the same garbage.
"""
import argparse
import collections
import contextlib
import os
import platform
import runpy
import sys
import time
import weakref

import gcx
from gcx import _stdlib as gc    # the stdlib collector's own functions, whatever gc points at

PROG = "python -m gcx"       # "gcx" when run as the console script (console())

# ------------------------------------------------------------------------------
# Command line.

def _parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [-h] [--version] [--live N] [--cycles N] [--best-of N]\n"
              f"       {PROG} {{run,compare,report}} ...",
        description="Compare gcx with the stdlib cycle collector, or run a program "
                    "with gcx installed.  With no command: print both collectors' "
                    "view of this interpreter's heap (what each tracks, per "
                    "generation and by type) and time one full collection of the "
                    "same freshly built heap by each (--live, --cycles, --best-of "
                    "are for this).",
        epilog=f"'{PROG} COMMAND -h' describes each command.  Errors in the "
               "command line exit with status 2.")
    parser.add_argument("--version", action="version",
                        version=f"gcx {gcx.__version__} (CPython "
                                f"{platform.python_version()}, {gcx.mode()} mode)")
    parser.add_argument("--live", type=_count, default=50_000, metavar="N",
                        help="live containers in the collected heap (default 50000)")
    parser.add_argument("--cycles", type=_count, default=20_000, metavar="N",
                        help="garbage cycles in the collected heap (default 20000)")
    parser.add_argument("--best-of", type=_positive, default=1, metavar="N",
                        dest="best_of",
                        help="collect N freshly built heaps with each collector "
                             "and report the fastest (default 1)")
    parser.add_argument("--repeat", action=_NotHere, nargs="?", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="{run,compare,report}")
    run = commands.add_parser(
        "run", help="run a script or module with gcx installed",
        usage=f"{PROG} run [-h] SCRIPT [ARG ...]\n"
              f"       {PROG} run [-h] -m MODULE [ARG ...]",
        description="Run a program with gcx installed from its first line, as "
                    "'python SCRIPT ARG...' or 'python -m MODULE ARG...' "
                    "would run it.  Everything after SCRIPT or MODULE is "
                    "passed to the program as sys.argv[1:].  The exit status is "
                    "the program's, as python's would be.")
    run.add_argument("-m", dest="module", action="store_true",
                     help="run the module named MODULE, as python -m does")
    run.add_argument("target", metavar="SCRIPT | MODULE",
                     help="the script's path, or with -m the module's name")
    # Fallback only: main() hands the program its arguments itself, so that
    # argparse does not eat a "--" among them.
    run.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    _compare_parser(commands)
    _cycle_report_parser(commands)
    return parser


def _program_arguments(command, what):
    """The optional program of ``compare`` and ``report``: SCRIPT or -m MODULE."""
    command.add_argument("-m", dest="module", action="store_true",
                         help="run the module named MODULE, as python -m does")
    command.add_argument("target", metavar="SCRIPT | MODULE", nargs="?",
                         help=f"the program to {what}: a script's path, or with -m a "
                              "module's name (default: the bundled demo workload)")
    command.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def _compare_parser(commands):
    from gcx import compare as compare_module
    compare = commands.add_parser(
        "compare", help="a program under the stdlib collector and under gcx, side by side",
        usage=f"{PROG} compare [-h] [OPTIONS] [SCRIPT [ARG ...] | -m MODULE [ARG ...]]",
        description="Run a program in fresh interpreters, under the stdlib "
                    "collector and with gcx installed from its first line, "
                    f"{compare_module.DEFAULT_REPEAT} times each by default "
                    "(alternating which goes first), and print one table of "
                    "medians, with the range of each gcx/stdlib ratio over the "
                    "pairs of runs: wall and CPU time, time in collections and its "
                    "share of the run, pauses per generation (count, p50, p95, p99, "
                    "max), objects collected and uncollectable, the most garbage one "
                    "collection found, peak RSS.  With no program, a bundled demo "
                    "workload (a long-lived heap and requests that make and drop "
                    "reference cycles).  The program's output goes to standard error.",
        epilog="Exit status: 0 when every run of the program exited with status 0; "
               "1 when the comparison was made but a run exited otherwise (the "
               "table says so), or a run crashed or timed out; 2 when the program "
               "could not be run at all (no such script or module, a bad option, "
               "an output file that cannot be written); 130 when interrupted.")
    compare.add_argument("--repeat", type=_positive, default=None, metavar="N",
                         help="run N pairs, alternating which collector goes first, "
                              "and report medians (default "
                              f"{compare_module.DEFAULT_REPEAT})")
    compare.add_argument("--json", metavar="FILE",
                         help="also write the table's data as JSON ('-': to standard "
                              "output, instead of the table)")
    compare.add_argument("--csv", metavar="FILE",
                         help="also write the table's data as CSV ('-': to standard "
                              "output, instead of the table)")
    compare.add_argument("--plot", metavar="FILE.png",
                         help="draw a pause timeline and a pause histogram of both "
                              "collectors (needs matplotlib: pip install '.[plot]' "
                              "in gcx's checkout, or pip install matplotlib)")
    compare.add_argument("--scale", type=_scale, default=None, metavar="F",
                         help="the demo workload's size, relative to its default "
                              "(about 1 s a run); only without a program")
    compare.add_argument("--timeout", type=_seconds, default=None, metavar="S",
                         help="stop a run that lasts longer than S seconds")
    compare.add_argument("--quiet", action="store_true",
                         help="no progress lines on standard error")
    _program_arguments(compare, "compare")


def _cycle_report_parser(commands):
    report_ = commands.add_parser(
        "report", help="the reference cycles a program makes, by shape",
        usage=f"{PROG} report [-h] [OPTIONS] [SCRIPT [ARG ...] | -m MODULE [ARG ...]]",
        description="Run a program with gcx installed from its first line and, "
                    "when it ends, print the shapes of the cyclic garbage every "
                    "collection found while it ran (and a full collection as its code "
                    "ends), the commonest first: each with its members' types, a "
                    "shortest cycle with the attributes, keys and positions along it, "
                    "and the attribute a weak reference could replace to break it.  "
                    "With no program, the bundled demo workload.  The report goes to "
                    "standard output, and "
                    "while it does, the program's own standard output goes to standard "
                    "error, so that `gcx report prog.py | less` and `--json -` show the "
                    "report alone.",
        epilog="Exit status: the program's; 2 when it could not be run at all.")
    report_.add_argument("--top", type=_positive, default=10, metavar="N",
                         help="show the N commonest shapes (default 10)")
    report_.add_argument("--json", metavar="FILE",
                         help="write the whole report as JSON ('-': standard output)")
    report_.add_argument("--output", "-o", metavar="FILE",
                         help="write the text report to FILE instead of standard output "
                              "('-': standard output; with --json -, the text report "
                              "goes to standard error unless this says otherwise)")
    report_.add_argument("--tracemalloc", type=_positive, default=None, metavar="FRAMES",
                         help="trace allocations (tracemalloc, FRAMES frames deep) to "
                              "show where a member of each shape was allocated; slow")
    report_.add_argument("--scale", type=_scale, default=None, metavar="F",
                         help="the demo workload's size; only without a program")
    report_.add_argument("--at-exit", action="store_true",
                         help="also show, under their own heading, the classes and module "
                              "globals (with their functions) freed when the program's "
                              "module was dropped after it ended (python frees them only "
                              "at exit)")
    _program_arguments(report_, "report on")


class _NotHere(argparse.Action):
    """The top-level --repeat of gcx 0.1.0, now --best-of: say so."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error("--repeat N is compare's option (N runs of each collector, "
                     "medians); for this heap's collection use --best-of N")


# Argument types: each raises ArgumentTypeError, so that argparse says
# "argument --live: must be a whole number, not 'abc'".

def _number(text, kind):
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None


def _scale(text):
    value = _number(text, float)
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 1000, not {text}")
    return value


def _seconds(text):
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def _count(text):
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _positive(text):
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


# The options of each command that takes a program and that take a value
# (the value is not the program).
_VALUE_OPTIONS = {
    "run": (),
    "compare": ("--repeat", "--json", "--csv", "--plot", "--scale", "--timeout"),
    "report": ("--top", "--json", "--output", "-o", "--tracemalloc", "--scale"),
}


def _split_program_args(argv):
    """Split ``COMMAND [OPTIONS] [-m] TARGET ARG...`` after TARGET, for the
    commands that run a program: (what argparse should parse, the program's
    arguments verbatim).  Any other command line goes to argparse whole."""
    if not argv or argv[0] not in _VALUE_OPTIONS:
        return argv, None
    takes_value = _VALUE_OPTIONS[argv[0]]
    i = 1
    while i < len(argv):
        if argv[i] == "--":
            return argv[:i + 2], argv[i + 2:]
        if argv[i] in takes_value:
            i += 2
            continue
        if argv[i] == "-" or not argv[i].startswith("-"):
            return argv[:i + 1], argv[i + 1:]
        i += 1
    return argv, None


def main(argv=None):
    """The command line; returns the exit status (a program run with ``run``
    may also end the process itself, e.g. by sys.exit())."""
    argv = sys.argv[1:] if argv is None else list(argv)
    ours, program_args = _split_program_args(argv)
    parser = _parser()
    args = parser.parse_args(ours)
    if args.command in ("run", "compare", "report") and program_args is not None:
        args.args = program_args
    if args.command == "run":
        return run_program(args.target, args.args, module=args.module)
    if args.command in ("compare", "report"):
        if args.target is None and args.module:
            parser.error(f"{args.command}: -m needs a MODULE")
        if args.target is not None and args.scale is not None:
            parser.error(f"{args.command}: --scale is for the demo workload, "
                         "not for a program")
    if args.command == "compare":
        return compare_programs(args)
    if args.command == "report":
        return cycle_report(args)
    return report(args.live, args.cycles, args.best_of)


def _entry(prog):
    """Run main() as the process's command line and return its exit status.
    A KeyboardInterrupt in the program goes on up with a hook that prints
    its traceback as python would (without gcx's and runpy's frames), so
    that the process ends as python's would; a closed standard output
    (``gcx | head``) ends it quietly."""
    global PROG
    PROG = prog
    runner = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if runner is not None:
        _RUNNER_FILES.add(runner)
    try:
        status = main()
        sys.stdout.flush()
    except KeyboardInterrupt:
        sys.excepthook = _without_runner_frames(sys.excepthook)
        raise
    except BrokenPipeError:
        # as the Python documentation advises: no second error at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status


def console():
    """The ``gcx`` console script."""
    sys.exit(_entry("gcx"))


# ------------------------------------------------------------------------------
# run: a program with gcx installed.

# Frames of this file and of runpy, left out of a failing program's traceback
# (and the console script's, added by _entry()).
_RUNNER_FILES = {os.path.abspath(__file__), runpy.__file__, "<frozen runpy>"}


def _strip_runner_frames(tb):
    while tb is not None and tb.tb_frame.f_code.co_filename in _RUNNER_FILES:
        tb = tb.tb_next
    return tb


def _without_runner_frames(hook):
    def excepthook(exc_type, exc, tb):
        tb = _strip_runner_frames(tb)
        # the default hook prints exc.__traceback__, whatever tb it is given
        hook(exc_type, exc.with_traceback(tb), tb)
    return excepthook


class _CannotRun(Exception):
    """runpy's own complaint that there is no such module to run."""


def program_error(target, module=False):
    """What python would say instead of running the program (None if it
    can be started): no such script, a directory or zip file without a
    __main__ module, no such module, a package without __main__."""
    if module:
        try:
            # runpy's own search, with python -m's messages; it imports
            # the parent packages, as running the module would
            runpy._get_module_details(target, _CannotRun)
        except _CannotRun as exc:
            return str(exc)
        return None
    from gcx.compare import script_error
    return script_error(target)


def run_program(target, args, module=False, command="run", script_path=True, ended=None):
    """Run the script at path ``target`` (or, with ``module``, the module
    named ``target``) as ``__main__`` with sys.argv[1:] = ``args`` and gcx
    installed.  Returns 0, or 1 after printing the traceback of an uncaught
    exception, or when there is no such program (after saying so as python
    would; 2 for a script that does not exist, as python's status).
    SystemExit and KeyboardInterrupt pass through.
    ``script_path``: put the script's directory (with ``module``, the current
    directory) first on sys.path, as python does.  ``ended``: called when
    the program's code has ended, before anything is printed or dropped,
    with runpy's copy of its globals or the exception it raised."""
    if not module and not os.path.exists(target):
        print(f"{PROG} {command}: can't open file {os.path.abspath(target)!r}: "
              "No such file or directory", file=sys.stderr)
        return 2
    sys.argv = [target, *args]
    if not sys.flags.safe_path and script_path:
        # as python does: the script's directory, or for -m the current
        # directory (not the gcx script's directory, nor an inherited entry)
        path0 = os.getcwd() if module else os.path.dirname(os.path.realpath(target))
        if sys.path:
            sys.path[0] = path0
        else:
            sys.path.insert(0, path0)
    try:
        error = program_error(target, module)
    except BaseException as exc:      # the program's own package failed to import
        _print_program_exception(exc)
        return 1
    if error is not None:
        print(f"{PROG} {command}: {error}", file=sys.stderr)
        return 1
    gcx.install()
    try:
        if module:
            namespace = runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            # absolute, as `python SCRIPT` makes __file__ (and sys.argv[0] here)
            namespace = runpy.run_path(os.path.abspath(target), run_name="__main__")
    except (SystemExit, KeyboardInterrupt) as exc:
        if ended is not None:
            ended(exc)
        raise
    except BaseException as exc:
        if ended is not None:
            ended(exc)
        _print_program_exception(exc)
        return 1
    if ended is not None:
        ended(namespace)
    return 0


def _print_program_exception(exc):
    tb = _strip_runner_frames(exc.__traceback__)
    # the hook prints exc.__traceback__, whatever tb it is given
    sys.excepthook(type(exc), exc.with_traceback(tb), tb)


# ------------------------------------------------------------------------------
# compare: a program under each collector (gcx/compare.py).

def _program(args):
    from gcx import compare
    if args.target is None:
        return compare.Program.demo(args.scale or 1.0)
    return compare.Program("module" if args.module else "script", args.target, args.args)


def compare_programs(args):
    from gcx import compare
    return compare.main(_program(args), repeat=args.repeat, json_path=args.json,
                        csv_path=args.csv, plot_path=args.plot, progress=not args.quiet,
                        timeout=args.timeout, prog=f"{PROG} compare")


# ------------------------------------------------------------------------------
# report: the cycles a program makes (gcx/report/).

def cycle_report(args):
    """Run the program with gcx installed and cycle recording on; print the
    report when it ends, however it ends.  Returns the program's status, or
    2 without a report when it could not be started."""
    from gcx import compare
    from gcx import report as cycles
    prog = f"{PROG} report"
    for option, path in (("--json", args.json), ("--output", args.output)):
        error = compare.output_error(path, option)
        if error is not None:
            print(f"{prog}: {error}", file=sys.stderr)
            return 2
    program = _program(args)
    if program.kind == "module":
        saved_path0 = sys.path[:1]
        if not sys.flags.safe_path and sys.path:
            sys.path[0] = os.getcwd()
        try:
            error = program_error(program.target, module=True)
        except BaseException:
            error = None          # the program's own failure: run_program reports it
        sys.path[:1] = saved_path0
    elif program.kind == "script":
        error = compare.script_error(program.target)
    else:
        error = None
    if error is not None:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    if args.tracemalloc:
        import tracemalloc
        tracemalloc.start(args.tracemalloc)
    status = 1
    result = cycles.ProgramRecording(show_at_exit=args.at_exit)
    result.start()
    try:
        with _stdout_to_stderr(_text_destination(args) == "-" or args.json == "-"):
            status = run_program(program.target, program.args,
                                 module=program.kind == "module", command="report",
                                 script_path=program.kind != "demo",
                                 ended=result.program_ended)
    except SystemExit as exc:
        status = exc.code
        raise
    finally:
        result.stop()
        if status != 2:
            _write_cycle_report(result, args)
    return status


def _text_destination(args):
    """Where the text report goes: a file name, "-" (standard output) or
    None (standard error: when the JSON report takes standard output)."""
    if args.output is not None:
        return args.output
    return None if args.json == "-" else "-"


@contextlib.contextmanager
def _stdout_to_stderr(redirect):
    """While the report will go to standard output, the program's standard
    output goes to standard error: file descriptor 1 itself, so that C code
    and child processes are redirected too."""
    if not redirect:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass                  # the program closed or broke its stdout
        os.dup2(saved, 1)
        os.close(saved)


def _write_cycle_report(result, args):
    text = result.text(top=args.top)
    destination = _text_destination(args)
    if destination in (None, "-"):
        out = sys.stdout if destination == "-" else sys.stderr
        out.flush()
        print(text, file=out)
    else:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    if args.json == "-":
        print(result.json(indent=2))
    elif args.json is not None:
        with open(args.json, "w") as f:
            f.write(result.json(indent=2) + "\n")


# ------------------------------------------------------------------------------
# The report.

LABEL_WIDTH = 34
COLUMN_WIDTH = 14
COLUMNS = ("stdlib gc", "gcx")


def report(live=50_000, cycles=20_000, best_of=1, file=None):
    """Print the side-by-side report; returns 0."""
    out = file or sys.stdout
    reinstall = gcx.is_installed()
    gcx.uninstall()        # the stdlib column must show the stdlib collector
    try:
        for line in _report_lines(live, cycles, best_of):
            print(line, file=out)
    finally:
        if reinstall:
            gcx.install()
    return 0


def _report_lines(live, cycles, repeat):
    info = gcx.info()
    yield f"gcx {gcx.__version__} beside the stdlib cycle collector"
    yield ""
    yield from _interpreter_lines()
    yield ""
    yield _row("", *COLUMNS)
    yield "collector"
    yield _row("  mode", "-", info["mode"])
    yield _row("  owns the reference tracer", "-", _yes_no(info["owner"]))
    yield _row("  automatic collection", _on_off(gc.isenabled()), _on_off(gcx.isenabled()))
    yield _row("  thresholds", _joined(gc.get_threshold()), _joined(gcx.get_threshold()))
    yield _row("  counts", _joined(gc.get_count()), _joined(gcx.get_count()))
    yield "tracked objects"
    yield from _generation_rows()
    yield "tracked objects by type (top 10)"
    yield from _type_rows(10)
    yield (f"one full collection of the same heap ({live} live containers, "
           f"{cycles} garbage cycles, best of {repeat})")
    yield from _collection_rows(live, cycles, repeat)
    if info["mode"] == "safe":
        yield ""
        yield ("gcx is in safe mode: it does not trust this interpreter's "
               "reference tracer,")
        yield "so each of its collections starts by resynchronising with the live heap."


def _interpreter_lines():
    build = ", ".join(platform.python_build())
    kind = "debug build" if hasattr(sys, "gettotalrefcount") else "release build"
    gil = "GIL" if getattr(sys, "_is_gil_enabled", lambda: True)() else "no GIL"
    yield (f"interpreter  {platform.python_implementation()} "
           f"{platform.python_version()} ({build}) [{platform.python_compiler()}]")
    yield f"             {kind}, {gil}, {sys.executable}"


def _row(label, *values):
    cells = "".join(f"{value:>{COLUMN_WIDTH}}" for value in values)
    return f"{label:<{LABEL_WIDTH}}{cells}".rstrip()


def _yes_no(flag):
    return "yes" if flag else "no"


def _on_off(flag):
    return "enabled" if flag else "disabled"


def _joined(numbers):
    return "/".join(map(str, numbers))


def _generation_rows():
    totals = [0, 0]
    for generation in range(3):
        sizes = [len(collector.get_objects(generation)) for collector in (gc, gcx)]
        totals = [t + s for t, s in zip(totals, sizes)]
        yield _row(f"  generation {generation}", *sizes)
    yield _row("  total", *totals)
    yield _row("  frozen (permanent generation)",
               gc.get_freeze_count(), gcx.get_freeze_count())


def _type_rows(top):
    # Both snapshots before any counting: counting creates objects (ABC caches).
    stdlib_objects = gc.get_objects()
    gcx_objects = [obj for obj in gcx.get_objects() if obj is not stdlib_objects]
    stdlib_counts = collections.Counter(map(type, stdlib_objects))
    gcx_counts = collections.Counter(map(type, gcx_objects))
    del stdlib_objects, gcx_objects
    union = stdlib_counts + gcx_counts
    for tp, _ in sorted(union.items(), key=lambda item: (-item[1], _type_name(item[0])))[:top]:
        yield _row(f"  {_type_name(tp)}", stdlib_counts[tp], gcx_counts[tp])


def _type_name(tp):
    if tp.__module__ == "builtins":
        return tp.__qualname__
    return f"{tp.__module__}.{tp.__qualname__}"


# ------------------------------------------------------------------------------
# The heap both collectors collect.

class _Tally:
    """What the garbage did while it was collected."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.finalized = 0
        self.callbacks = 0

    def weakref_cleared(self, ref):
        self.callbacks += 1


class _Node:
    pass


class _Finalized(_Node):
    def __del__(self):
        _tally.finalized += 1


_tally = _Tally()


def _build_heap(live, cycles):
    """Return what keeps the live part alive.  The garbage: ``cycles`` pairs
    of instances pointing at each other, each with a dict and a list; every
    4th pair has a __del__, every 5th is watched by a weakref with a callback
    (the weakref itself stays alive, so the callback must run), every 2nd has
    its instance dict materialised.  The live part: ``live`` lists, dicts and
    tuples, every 10th a list that contains itself."""
    keep = []
    for i in range(live):
        kind = i % 3
        if kind == 0:
            item = [i]
            if i % 10 == 0:
                item.append(item)
        elif kind == 1:
            item = {"i": [i]}
        else:
            item = (i, [i])
        keep.append(item)
    watchers = []
    for i in range(cycles):
        a = _Finalized() if i % 4 == 0 else _Node()
        b = _Node()
        a.peer, b.peer = b, a
        a.payload = {"n": i, "back": [b]}
        if i % 2 == 0:
            vars(b)
        if i % 5 == 0:
            watchers.append(weakref.ref(b, _tally.weakref_cleared))
    del a, b
    return keep, watchers


_Outcome = collections.namedtuple(
    "_Outcome", "collected uncollectable finalized callbacks ms")


def _collect_heap(collector, live, cycles):
    """Build the heap with both collectors quiet, then time one full
    collection by ``collector`` (gc or gcx) alone."""
    gc.collect()
    gcx.collect()
    heap = _build_heap(live, cycles)
    _tally.reset()
    before = collector.get_stats()
    start = time.perf_counter()
    collector.collect()
    ms = (time.perf_counter() - start) * 1000
    after = collector.get_stats()
    del heap
    return _Outcome(
        sum(a["collected"] - b["collected"] for a, b in zip(after, before)),
        sum(a["uncollectable"] - b["uncollectable"] for a, b in zip(after, before)),
        _tally.finalized, _tally.callbacks, ms)


def _collection_rows(live, cycles, repeat):
    enabled = gc.isenabled(), gcx.isenabled()
    gc.disable()
    gcx.disable()
    try:
        outcomes = []
        for collector in (gc, gcx):
            runs = [_collect_heap(collector, live, cycles) for _ in range(repeat)]
            outcomes.append(min(runs, key=lambda run: run.ms))
    finally:
        (gc.enable if enabled[0] else gc.disable)()
        (gcx.enable if enabled[1] else gcx.disable)()
    stdlib, ours = outcomes
    yield _row("  collected", stdlib.collected, ours.collected)
    yield _row("  uncollectable", stdlib.uncollectable, ours.uncollectable)
    yield _row("  finalizers run (__del__)", stdlib.finalized, ours.finalized)
    yield _row("  weakref callbacks run", stdlib.callbacks, ours.callbacks)
    yield _row("  time (ms)", f"{stdlib.ms:.2f}", f"{ours.ms:.2f}")
    ratio = ours.ms / stdlib.ms if stdlib.ms else float("nan")
    yield _row("  time relative to stdlib gc", "1.00x", f"{ratio:.2f}x")


if __name__ == "__main__":
    sys.exit(_entry(PROG))
