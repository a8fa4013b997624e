"""gcx (or python -m gcx): compare gcx with the stdlib collector, or run a program under gcx.

  gcx [--live N] [--cycles N] [--best-of N]
      With no command: print, side by side for the stdlib collector and gcx,
      the interpreter, gcx's mode, what each collector tracks (per
      generation, and the ten commonest types), then one collection of the
      same heap by each.
  gcx run [--policy SPEC] [--metrics-port PORT] [--watch SECONDS] SCRIPT [ARG ...]
  gcx run [--policy SPEC] [--metrics-port PORT] [--watch SECONDS] -m MODULE [ARG ...]
      Run a program as `python SCRIPT` / `python -m MODULE` would, with gcx
      installed (gcx.install(), with the policy SPEC describes if given, as
      compare's --policy) before its first line runs; optionally serve
      gcx's metrics for Prometheus while it runs, and print generation
      sizes, memory and the types that grew most at an interval
      (gcx/monitor.py, gcx/prometheus.py).
  gcx compare [OPTIONS] [--policy SPEC ...] [SCRIPT [ARG ...] | -m MODULE [ARG ...]]
      Run a program (by default a bundled demo workload) in fresh
      interpreters under the stdlib collector and under gcx (or gcx with
      each policy given), and print one table: wall time, time in
      collections, pauses per generation, objects collected, garbage held,
      peak RSS, and the cadence of each generation (gcx/compare.py).
  gcx report [OPTIONS] [SCRIPT [ARG ...] | -m MODULE [ARG ...]]
      Run a program (by default the demo) with gcx installed and print the
      shapes of the reference cycles it made garbage, top cycle makers
      first (gcx/report/).

`gcx` is the console script pip installs; `python -m gcx` is the same
command line.  An error in the command line (a bad option, a program that
cannot be found or run, an output file that cannot be written) is one line
on standard error and exit status 2, never a traceback; usage errors name
the command ("gcx compare: error: ...").

This file is the command line only: the programs are run by gcx/_runner.py,
compared by gcx/compare.py, reported on by gcx/report/; the report of the
command with no command is gcx/_overview.py.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import sys
from typing import Any, Callable, Iterator, List, NoReturn, Optional, Sequence, Tuple, TypeVar

T = TypeVar("T")

import gcx
from gcx import _runner
from gcx._runner import Problem, Program
from gcx._version import __version__

PROG = "python -m gcx"       # "gcx" when run as the console script (console())

# The largest heap the command with no command builds (about 250 bytes a
# live container, 650 a garbage cycle: 2.5 GB and 1.3 GB), and its most rounds.
MAX_LIVE = 10_000_000
MAX_CYCLES = 2_000_000
MAX_BEST_OF = 100
MAX_TRACEMALLOC_FRAMES = 65535      # tracemalloc.start()'s own limit

# ------------------------------------------------------------------------------
# Command line.

class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one line (the command's
    name, the error) and exit status 2, as every other error of the command
    line here; -h shows the usage.  The subcommands' parsers are of this
    class too (add_subparsers makes them so)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
                        version=f"gcx {__version__} (CPython "
                                f"{platform.python_version()}, {gcx.mode()} mode)")
    parser.add_argument("--live", type=_count(MAX_LIVE), default=50_000, metavar="N",
                        help="live containers in the collected heap (default 50000, "
                             f"at most {MAX_LIVE}: about 250 bytes each)")
    parser.add_argument("--cycles", type=_count(MAX_CYCLES), default=20_000, metavar="N",
                        help="garbage cycles in the collected heap (default 20000, "
                             f"at most {MAX_CYCLES}: about 650 bytes each)")
    parser.add_argument("--best-of", type=_positive(MAX_BEST_OF), default=1, metavar="N",
                        dest="best_of",
                        help="collect N freshly built heaps with each collector "
                             f"and report the fastest (default 1, at most {MAX_BEST_OF})")
    parser.add_argument("--repeat", action=_NotHere, nargs="?", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="{run,compare,report}")
    run = commands.add_parser(
        "run", help="run a script or module with gcx installed",
        prog=f"{PROG} run",
        usage=f"{PROG} run [-h] [--policy SPEC] [MONITORING] SCRIPT [ARG ...]\n"
              f"       {PROG} run [-h] [--policy SPEC] [MONITORING] -m MODULE [ARG ...]",
        description="Run a program with gcx installed from its first line, as "
                    "'python SCRIPT ARG...' or 'python -m MODULE ARG...' "
                    "would run it.  Everything after SCRIPT or MODULE is "
                    "passed to the program as sys.argv[1:].",
        epilog="Exit status: the program's, as python's would be; 2 when it "
               "could not be run at all (no such script or module, a directory "
               "or package without __main__, a bad option).  Monitoring runs in "
               "threads of its own: serving metrics and watching never run code "
               "inside a collection.  Child processes started with "
               "multiprocessing's spawn or forkserver methods run without gcx "
               "(forked ones keep it).")
    run.set_defaults(command_parser=run)
    run.add_argument("--policy", default=None, metavar="SPEC",
                     help="install gcx with this policy: gcx.Policy's keyword "
                          "arguments as key=value,key=value (e.g. full=deferred,"
                          "max_growth=0.5; policy=PauseBudget,ms=1.0), as compare's "
                          "--policy takes them (default, or 'gcx': gcx.install() "
                          "alone, the stdlib's rule)")
    run.add_argument("--metrics-port", type=_port, default=None, metavar="PORT",
                     dest="metrics_port",
                     help="serve gcx's metrics for Prometheus at "
                          "http://ADDR:PORT/metrics while the program runs (0: a "
                          "free port; the address goes to standard error); needs "
                          "prometheus_client: pip install 'gcx[prometheus]'")
    run.add_argument("--metrics-addr", default=None, metavar="ADDR",
                     dest="metrics_addr",
                     help="with --metrics-port: the address to serve metrics on "
                          "(default 127.0.0.1; 0.0.0.0 for every interface)")
    run.add_argument("--watch", type=_watch_seconds, default=None, metavar="SECONDS",
                     help="every SECONDS (from 0.1 to 86400), print to standard "
                          "error the containers in each generation, pymalloc's "
                          "blocks, malloc's bytes in use, RSS and the types that "
                          "grew most, and once more when the program ends")
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


def _program_arguments(command: argparse.ArgumentParser, what: str) -> None:
    """The optional program of ``compare`` and ``report``: SCRIPT or -m MODULE."""
    command.add_argument("-m", dest="module", action="store_true",
                         help="run the module named MODULE, as python -m does")
    command.add_argument("target", metavar="SCRIPT | MODULE", nargs="?",
                         help=f"the program to {what}: a script's path, or with -m a "
                              "module's name (default: the bundled demo workload)")
    command.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def _compare_parser(commands: "argparse._SubParsersAction[_Parser]") -> None:
    from gcx import compare as compare_module
    compare = commands.add_parser(
        "compare", help="a program under the stdlib collector and under gcx, side by side",
        prog=f"{PROG} compare",
        usage=f"{PROG} compare [-h] [OPTIONS] [--policy SPEC ...] "
              "[SCRIPT [ARG ...] | -m MODULE [ARG ...]]",
        description="Run a program in fresh interpreters, under the stdlib "
                    "collector and with gcx installed from its first line (with "
                    "--policy: gcx with each policy given), "
                    f"{compare_module.DEFAULT_REPEAT} times each by default "
                    "(alternating which goes first), and print one table of "
                    "medians, with the range of each ratio to the stdlib's over the "
                    "rounds of runs: wall and CPU time, time in collections and its "
                    "share of the run, pauses per generation (count, p50, p95, p99, "
                    "max), objects collected and uncollectable, the most garbage one "
                    "collection found, the garbage left at the end, peak RSS, what "
                    "each policy did; then how often each generation was collected, "
                    "against the ranges gcx aims for (generation 0 every 10-100 ms, "
                    "1 every 1-10 s, 2 every 10-60 s).  With no "
                    "program, a bundled demo workload (a long-lived heap and requests "
                    "that make and drop reference cycles).  The program's output goes "
                    "to standard error.",
        epilog="Exit status: 0 when every run of the program exited with status 0; "
               "1 when the comparison was made but a run exited otherwise (the "
               "table says so), or a run crashed or timed out; 2 when the program "
               "could not be run at all (no such script or module, a bad option or "
               "--policy, an output file that cannot be written); 130 when "
               "interrupted.")
    compare.set_defaults(command_parser=compare)
    compare.add_argument("--policy", action="append", default=[], metavar="SPEC",
                         help="a column to compare with the stdlib collector (repeat "
                              "for more; default: gcx): 'gcx' (gcx.install(), the "
                              "stdlib's rule), 'stdlib', or gcx.Policy's keyword "
                              "arguments as key=value,key=value (e.g. full=deferred,"
                              "max_growth=0.5; adaptive=true; memory_limit=512M; "
                              "max_interval=1:10:60, one value per generation; none "
                              "for None)")
    compare.add_argument("--repeat", type=_positive(), default=None, metavar="N",
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
                         help="draw a pause timeline, a pause histogram, and RSS and "
                              "tracked objects over time, of both collectors (the "
                              "children then sample their memory, at most about 2%% "
                              "of each run; needs matplotlib: pip install '.[plot]' "
                              "in gcx's checkout, or pip install matplotlib)")
    compare.add_argument("--scale", type=_scale, default=None, metavar="F",
                         help="the demo workload's size, relative to its default "
                              "(about 1 s a run); only without a program")
    compare.add_argument("--timeout", type=_seconds, default=None, metavar="S",
                         help="stop a run that lasts longer than S seconds")
    compare.add_argument("--quiet", action="store_true",
                         help="no progress lines on standard error")
    _program_arguments(compare, "compare")


def _cycle_report_parser(commands: "argparse._SubParsersAction[_Parser]") -> None:
    report_ = commands.add_parser(
        "report", help="the reference cycles a program makes, by shape",
        prog=f"{PROG} report",
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
    report_.set_defaults(command_parser=report_)
    report_.add_argument("--top", type=_positive(), default=10, metavar="N",
                         help="show the N commonest shapes (default 10)")
    report_.add_argument("--json", metavar="FILE",
                         help="write the whole report as JSON ('-': standard output)")
    report_.add_argument("--output", "-o", metavar="FILE",
                         help="write the text report to FILE instead of standard output "
                              "('-': standard output; with --json -, the text report "
                              "goes to standard error unless this says otherwise)")
    report_.add_argument("--tracemalloc", type=_positive(MAX_TRACEMALLOC_FRAMES), default=None,
                         metavar="FRAMES",
                         help="trace allocations (tracemalloc, FRAMES frames deep, at most "
                              f"{MAX_TRACEMALLOC_FRAMES}) to show where a member of each "
                              "shape was allocated; slow")
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

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: Optional[str] = None) -> NoReturn:
        parser.error("--repeat N is compare's option (N runs of each collector, "
                     "medians); for this heap's collection use --best-of N")


# Argument types: each raises ArgumentTypeError, so that argparse says
# "argument --live: must be a whole number, not 'abc'".

def _number(text: str, kind: Callable[[str], T]) -> T:
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None


def _scale(text: str) -> float:
    value = _number(text, float)
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 1000, not {text}")
    return value


def _seconds(text: str) -> float:
    value = _number(text, float)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be more than 0 and finite, not {text}")
    return value


def _watch_seconds(text: str) -> float:
    """--watch: the interval gcx.monitor.watch() takes."""
    from gcx import monitor
    value = _number(text, float)
    if not monitor.WATCH_MIN_SECONDS <= value <= monitor.WATCH_MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be from {monitor.WATCH_MIN_SECONDS:g} to {monitor.WATCH_MAX_SECONDS:g} "
            f"seconds, not {text}")
    return value


def _whole(low: int, high: Optional[int]) -> Callable[[str], int]:
    """A whole number from low (to high, if not None)."""
    def whole(text: str) -> int:
        value = _number(text, int)
        if high is None and value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, not {value}")
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, not {value}")
        return value
    return whole


def _count(high: Optional[int] = None) -> Callable[[str], int]:
    return _whole(0, high)


def _positive(high: Optional[int] = None) -> Callable[[str], int]:
    return _whole(1, high)


def _port(text: str) -> int:
    value = _number(text, int)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, not {value}")
    return value


# The options of each command that takes a program and that take a value
# (the value is not the program).
_VALUE_OPTIONS: dict[str, Tuple[str, ...]] = {
    "run": ("--policy", "--metrics-port", "--metrics-addr", "--watch"),
    "compare": ("--policy", "--repeat", "--json", "--csv", "--plot", "--scale", "--timeout"),
    "report": ("--top", "--json", "--output", "-o", "--tracemalloc", "--scale"),
}


def _split_program_args(argv: List[str]) -> Tuple[List[str], Optional[List[str]]]:
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line; returns the exit status (a program run with ``run``
    may also end the process itself, e.g. by sys.exit())."""
    argv = sys.argv[1:] if argv is None else list(argv)
    ours, program_args = _split_program_args(argv)
    parser = _parser()
    args = parser.parse_args(ours)
    if args.command in ("run", "compare", "report") and program_args is not None:
        args.args = program_args
    # the command's own parser, for its usage errors
    command: argparse.ArgumentParser = getattr(args, "command_parser", parser)
    if args.command == "run":
        if args.metrics_addr is not None and args.metrics_port is None:
            command.error("--metrics-addr is for --metrics-port, which is not given")
        policy = None
        if args.policy is not None and args.policy.strip() != "gcx":   # gcx: the stdlib's rule
            from gcx import _policy_spec
            try:
                policy = _policy_spec.parse(args.policy)
            except _policy_spec.SpecError as exc:
                print(f"{PROG} run: --policy {args.policy!r}: {exc}", file=sys.stderr)
                return 2
        return run_program(_program(args), metrics_port=args.metrics_port,
                           metrics_addr=args.metrics_addr or "127.0.0.1",
                           watch=args.watch, policy=policy)
    if args.command in ("compare", "report"):
        if args.target is None and args.module:
            command.error("-m needs a MODULE")
        if args.target is not None and args.scale is not None:
            command.error("--scale is for the demo workload, not for a program")
    if args.command == "compare":
        if args.json == "-" and args.csv == "-":
            command.error("--json - and --csv - would both write to standard output: "
                          "give one of them a file")
        return compare_programs(args)
    if args.command == "report":
        if args.json == "-" and args.output == "-":
            command.error("--json - and --output - would both write to standard "
                          "output: give one of them a file")
        return cycle_report(args)
    from gcx import _overview
    return _overview.report(args.live, args.cycles, args.best_of)


def _entry(prog: str) -> int:
    """Run main() as the process's command line and return its exit status.
    A KeyboardInterrupt in the program goes on up with a hook that prints
    its traceback as python would (without gcx's and runpy's frames), so
    that the process ends as python's would; a closed standard output
    (``gcx | head``) ends it quietly."""
    global PROG
    PROG = prog
    _runner.hide_frames_of(__file__)            # this file's frames
    if sys.argv and sys.argv[0]:
        _runner.hide_frames_of(sys.argv[0])    # the console script's frames
    try:
        status = main()
        _flush_stdout()
    except KeyboardInterrupt:
        sys.excepthook = _runner.without_runner_frames(sys.excepthook)
        raise
    except BrokenPipeError:
        # as the Python documentation advises: no second error at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status


def _flush_stdout() -> None:
    """Flush sys.stdout unless the program closed it (as python ignores a
    closed sys.stdout at exit)."""
    if not getattr(sys.stdout, "closed", True):
        sys.stdout.flush()


def console() -> NoReturn:
    """The ``gcx`` console script."""
    sys.exit(_entry("gcx"))


# ------------------------------------------------------------------------------
# run: a program with gcx installed (gcx/_runner.py runs it).

def _program(args: argparse.Namespace) -> Program:
    if args.target is None:
        return Program.demo(args.scale or 1.0)
    return Program("module" if args.module else "script", args.target, args.args)


def _set_path0(program: Program) -> None:
    """As python does: the script's directory, or for -m the current
    directory, first on sys.path (in place of the gcx script's directory),
    unless -P said not to."""
    path0 = program.path0()
    if path0:
        if sys.path:
            sys.path[0] = path0
        else:
            sys.path.insert(0, path0)


def run_program(program: Program, command: str = "run", metrics_port: Optional[int] = None,
                metrics_addr: str = "127.0.0.1", watch: Optional[float] = None,
                policy: Optional[dict[str, object]] = None) -> int:
    """Run ``program`` with gcx installed before its first line; returns
    its exit status as python would give it, or 2 after saying what python
    would say when it cannot be started.  SystemExit and KeyboardInterrupt
    pass through.  metrics_port: serve gcx's metrics on it meanwhile;
    watch: print the watch line every so many seconds, and at the end;
    policy: install gcx with the policy these keyword arguments make (a
    parsed --policy spec, gcx/_policy_spec.py)."""
    prog = f"{PROG} {command}"

    def cannot_run(problem: Problem) -> int:
        # python's own message; the exit status is the command line's "cannot
        # run" (python -m gives 1 for some of these, 2 for others)
        print(f"{prog}: {problem.message}", file=sys.stderr)
        return 2
    if metrics_port is not None:
        error = _serve_metrics(metrics_port, metrics_addr, prog)
        if error is not None:
            print(f"{prog}: {error}", file=sys.stderr)
            return 2
    watching: List[Any] = []

    def prepare() -> None:
        if policy is None:
            gcx.install()
        else:
            from gcx import _policy_spec
            gcx.install(policy=_policy_spec.make(policy))
        if watch is not None:
            from gcx import monitor
            watching.append(monitor.watch(watch))
    def program_ended(outcome: object) -> None:
        # the last line while the program's globals are still there
        while watching:
            watching.pop().stop(final=True)
    _set_path0(program)
    try:
        return _runner.run(program, cannot_run, prepare,
                           program_ended if watch is not None else None)
    finally:
        program_ended(None)


def _serve_metrics(port: int, addr: str, prog: str) -> Optional[str]:
    """Start prometheus_client's HTTP server (a daemon thread) on addr:port
    with gcx's collector and prometheus_client's process and platform
    collectors, in a registry of its own (the program's use of
    prometheus_client's default registry is its own business); say where
    on standard error.  Returns what went wrong, or None."""
    try:
        import prometheus_client

        from gcx import prometheus
    except ImportError:
        return ("--metrics-port needs prometheus_client, which is not installed "
                "here: pip install 'gcx[prometheus]'")
    registry = prometheus_client.CollectorRegistry()
    prometheus.register(registry)
    prometheus_client.ProcessCollector(registry=registry)
    prometheus_client.PlatformCollector(registry=registry)
    try:
        server, _ = prometheus_client.start_http_server(port, addr=addr, registry=registry)
    except (OSError, ValueError) as exc:
        return f"cannot serve metrics on {addr}:{port}: {exc}"
    host = f"[{addr}]" if ":" in addr else addr
    print(f"{prog}: gcx metrics at http://{host}:{server.server_port}/metrics",
          file=sys.stderr, flush=True)
    return None


# ------------------------------------------------------------------------------
# compare: a program under each collector (gcx/compare.py).

def compare_programs(args: argparse.Namespace) -> int:
    from gcx import compare
    return compare.main(_program(args), repeat=args.repeat, json_path=args.json,
                        csv_path=args.csv, plot_path=args.plot, progress=not args.quiet,
                        timeout=args.timeout, prog=f"{PROG} compare",
                        policies=args.policy)


# ------------------------------------------------------------------------------
# report: the cycles a program makes (gcx/report/).

def cycle_report(args: argparse.Namespace) -> int:
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
    refused: List[Problem] = []

    def cannot_run(problem: Problem) -> int:
        refused.append(problem)
        print(f"{prog}: {problem.message}", file=sys.stderr)
        return 2

    def prepare() -> None:
        if args.tracemalloc:
            import tracemalloc
            tracemalloc.start(args.tracemalloc)
        gcx.install()

    status: object = 1
    result = cycles.ProgramRecording(show_at_exit=args.at_exit)
    result.start()
    try:
        with _stdout_to_stderr(_text_destination(args) == "-" or args.json == "-"):
            _set_path0(program)
            status = _runner.run(program, cannot_run, prepare, ended=result.program_ended)
    except SystemExit as exc:
        status = exc.code
        raise
    finally:
        result.stop()
        if not refused:
            _write_cycle_report(result, args)
    assert isinstance(status, int)
    return status


def _text_destination(args: argparse.Namespace) -> Optional[str]:
    """Where the text report goes: a file name, "-" (standard output) or
    None (standard error: when the JSON report takes standard output)."""
    output: Optional[str] = args.output
    if output is not None:
        return output
    return None if args.json == "-" else "-"


@contextlib.contextmanager
def _stdout_to_stderr(redirect: bool) -> Iterator[None]:
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


@contextlib.contextmanager
def _standard(fd: int) -> Iterator[Any]:
    """sys.stdout (fd 1) or sys.stderr (fd 2), or, when the program closed
    it (or set it to None), a new text stream on the file descriptor: the
    report goes where it was to go whatever the program did with its own
    sys.stdout (json.tool closes it).  Flushed at the end."""
    stream = sys.stdout if fd == 1 else sys.stderr
    if stream is not None and not getattr(stream, "closed", False):
        yield stream
        stream.flush()
        return
    with open(fd, "w", closefd=False) as fresh:
        yield fresh


def _write_cycle_report(result: Any, args: argparse.Namespace) -> None:
    text = result.text(top=args.top)
    destination = _text_destination(args)
    if destination in (None, "-"):
        with _standard(1 if destination == "-" else 2) as out:
            print(text, file=out)
    else:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    if args.json == "-":
        with _standard(1) as out:
            print(result.json(indent=2), file=out)
    elif args.json is not None:
        with open(args.json, "w") as f:
            f.write(result.json(indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(_entry(PROG))
