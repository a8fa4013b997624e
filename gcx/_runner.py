"""Running a program as ``python`` runs it: the one runner behind ``gcx run``,
``gcx report`` and the child interpreters of ``gcx compare``.

A program is a script (``python SCRIPT``), a module (``python -m MODULE``) or
the bundled demo workload (a script inside the package).  ``run()`` checks
that it can be started, with python's own messages (``problem()``), lets the
caller prepare (install gcx, start recording), then runs it as ``__main__``
with ``sys.argv = [target, *args]``; an uncaught exception is printed as
python prints it, without the runner's frames (``print_exception()``).

This module imports only the standard library, never gcx: ``gcx compare``
runs this very file as the script of its child interpreters
(``python -P .../gcx/_runner.py child ...``, see ``child()``), and the stdlib
side of a comparison must not pay for importing gcx.  Those children start
with ``-P``, so the caller's current directory (which may hold a gcx/ source
tree without its compiled core) is never on their sys.path; the program's
own first entry goes in after gcx has been imported.
"""

from __future__ import annotations

import sys
import time

# The child's clocks start here, before anything else is imported, so that
# gcx's import and install are charged to gcx.
_T0 = time.perf_counter()
_C0 = time.process_time()

import os                                   # noqa: E402
import runpy                                # noqa: E402
from dataclasses import dataclass           # noqa: E402
from types import TracebackType             # noqa: E402
from typing import Callable, List, Optional, Sequence  # noqa: E402

DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_demo.py")

# Files whose frames a failing program's traceback leaves out: this one and
# runpy's; the command line adds its own (hide_frames_of()).
_RUNNER_FILES = {os.path.abspath(__file__), runpy.__file__, "<frozen runpy>"}


@dataclass(frozen=True)
class Program:
    """What to run: ``kind`` is "script", "module" or "demo"."""

    kind: str
    target: str
    args: Sequence[str] = ()

    @classmethod
    def demo(cls, scale: float = 1.0) -> "Program":
        return cls("demo", DEMO, ("--scale", repr(float(scale))))

    def describe(self) -> str:
        if self.kind == "demo":
            scale = float(self.args[1])
            return "the bundled demo workload" + (f" (scale {scale:g})" if scale != 1 else "")
        words = (["-m"] if self.kind == "module" else []) + [self.target, *self.args]
        return "python " + " ".join(words)

    def path0(self) -> str:
        """The first entry python puts on sys.path for this program (the
        script's directory; for a module the current directory), or "" when
        none goes there: under -P, and for the demo."""
        if sys.flags.safe_path or self.kind == "demo":
            return ""
        if self.kind == "module":
            return os.getcwd()
        return os.path.dirname(os.path.realpath(self.target))


@dataclass(frozen=True)
class Problem:
    """Why python would not start a program: its message (gcx's commands
    then exit 2, whatever status python itself would give)."""

    message: str


class _NoModule(Exception):
    """runpy's own complaint that there is no such module to run."""


def script_problem(path: str) -> Optional[Problem]:
    """What ``python PATH`` would say instead of running it (None if it can
    run): a missing file, or a directory or zip file without __main__."""
    if not os.path.exists(path):
        return Problem(f"can't open file {os.path.abspath(path)!r}: "
                       "No such file or directory")
    import pkgutil
    try:
        importer = pkgutil.get_importer(path)
        if importer is not None and importer.find_spec("__main__") is None:
            return Problem(f"can't find '__main__' module in {path!r}")
    except Exception:          # not for us to judge: python will say
        pass
    return None


def problem(program: Program) -> Optional[Problem]:
    """What python would say instead of running ``program`` (None if it can
    be started).  For a module this is runpy's own search, with python -m's
    messages; it imports the parent packages, as running the module would,
    and an exception they raise goes up to the caller."""
    if program.kind != "module":
        return script_problem(program.target)
    try:
        runpy._get_module_details(program.target, _NoModule)  # type: ignore[attr-defined]
    except _NoModule as exc:
        return Problem(str(exc))
    return None


def hide_frames_of(path: str) -> None:
    """Leave the frames of the file at ``path`` out of a failing program's
    traceback too (a command line's own file)."""
    _RUNNER_FILES.add(os.path.abspath(path))


def _strip_runner_frames(tb: Optional[TracebackType]) -> Optional[TracebackType]:
    while tb is not None and tb.tb_frame.f_code.co_filename in _RUNNER_FILES:
        tb = tb.tb_next
    return tb


def print_exception(exc: BaseException) -> None:
    """Print an uncaught exception of the program through sys.excepthook,
    as python would, from the program's first frame on."""
    tb = _strip_runner_frames(exc.__traceback__)
    # the hook prints exc.__traceback__, whatever tb it is given
    sys.excepthook(type(exc), exc.with_traceback(tb), tb)


ExceptHook = Callable[[type, BaseException, Optional[TracebackType]], object]


def without_runner_frames(hook: ExceptHook) -> ExceptHook:
    """``hook`` for an exception that leaves the process (a
    KeyboardInterrupt): the same traceback print_exception() would show."""
    def excepthook(exc_type: type, exc: BaseException,
                   tb: Optional[TracebackType]) -> object:
        tb = _strip_runner_frames(tb)
        return hook(exc_type, exc.with_traceback(tb), tb)
    return excepthook


def exit_status(exc: SystemExit) -> int:
    """The exit status the OS sees when python ends a process with ``exc``
    (printing a message that is not a number, as python does): an int
    (True is 1) as a C long, its low 8 bits (sys.exit(256) is 0, -1 is
    255); a number too big for a C long is -1 to python, so 255."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if -2**63 <= code < 2**63 else 0xFF
    print(code, file=sys.stderr)
    return 1


def _nothing() -> None:
    pass


def run(program: Program, cannot_run: Callable[[Problem], int],
        prepare: Callable[[], None] = _nothing,
        ended: Optional[Callable[[object], None]] = None) -> int:
    """Run ``program`` as ``__main__`` with sys.argv = [target, *args]; the
    caller has put its first sys.path entry in place.  When python would
    not start it, returns ``cannot_run(problem)`` without running anything;
    otherwise calls ``prepare()`` and runs it.  Returns 0, or 1 after
    printing the traceback of an uncaught exception (also one raised by
    the parent packages of a module while it is looked for).  SystemExit
    and KeyboardInterrupt go up to the caller.  ``ended``, if given, is
    called as soon as the program's code has ended, before anything is
    printed or dropped: with runpy's copy of its globals, or with the
    exception it raised."""
    sys.argv = [program.target, *program.args]
    try:
        found = problem(program)
    except BaseException as exc:      # the program's own package failed to import
        print_exception(exc)
        return 1
    if found is not None:
        return cannot_run(found)
    prepare()
    try:
        if program.kind == "module":
            namespace = runpy.run_module(program.target, run_name="__main__",
                                         alter_sys=True)
        else:
            # absolute, as `python SCRIPT` makes __file__ (and sys.argv[0] here)
            namespace = runpy.run_path(os.path.abspath(program.target), run_name="__main__")
    except (SystemExit, KeyboardInterrupt) as exc:
        if ended is not None:
            ended(exc)
        raise
    except BaseException as exc:
        if ended is not None:
            ended(exc)
        print_exception(exc)
        return 1
    if ended is not None:
        ended(namespace)
    return 0


# ------------------------------------------------------------------------------
# The child interpreters of ``gcx compare``.
#
#   python -P _runner.py child COLLECTOR POLICY RESULT SAMPLE KIND TARGET PATH0 [ARG ...]
#       run the program under COLLECTOR ("stdlib" or "gcx"), gcx installed
#       with the policy POLICY (JSON: gcx.Policy's keyword arguments, or
#       null for none, gcx's own rule); write its measurements to the JSON
#       file RESULT (or {"error": message} if it could not be started or gcx
#       could not be imported); exit with the program's status.  SAMPLE:
#       every SAMPLE seconds at most (0: never), a thread samples RSS and
#       the tracked objects (see MemorySampler).  The result has when the
#       program's first line ran ("program_start", after gcx's install);
#       when the program's code has ended (its globals still there), the
#       clocks stop, the collections are no longer recorded, the policy's
#       record is read ("policy_state"), and one full collection finds the
#       garbage the program left uncollected ("garbage_at_end")
#   python -P _runner.py find MODULE PATH0
#       exit 2 after printing what python -m MODULE would say instead of
#       running it, 0 if it can be started (or fails on its own)

def _rss() -> Optional[int]:
    """The resident set size in bytes (Linux), or None."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class MemorySampler:
    """A daemon thread sampling, over a run, the RSS and the objects the
    collector tracks: len(gc.get_objects()) for the stdlib, the total of
    gcx.census() for gcx (the same objects, counted in C without a list).
    Counting is O(heap) either way and holds the GIL, so the thread waits
    at least BUDGET times as long as its last sample took: sampling takes at
    most about 1/BUDGET of the run (and never less than ``interval`` apart)."""

    BUDGET = 50

    def __init__(self, interval: float, count: Callable[[], int]) -> None:
        import threading
        self.interval = interval
        self.count = count
        self.times: List[float] = []
        self.rss: List[Optional[int]] = []
        self.objects: List[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gcx-compare-sampler",
                                        daemon=True)

    def sample(self) -> float:
        """One sample; returns what it cost (seconds)."""
        t0 = time.perf_counter()
        self.times.append(t0 - _T0)
        self.rss.append(_rss())
        self.objects.append(self.count())
        return time.perf_counter() - t0

    def _run(self) -> None:
        wait = self.interval
        while not self._stop.wait(wait):
            wait = max(self.interval, self.BUDGET * self.sample())

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        """The last sample, when the program's code has ended (its globals
        still there)."""
        if self._thread.ident is not None and not self._stop.is_set():
            self._stop.set()
            self._thread.join()
            self.sample()

    def samples(self) -> dict[str, object]:
        return {"t": self.times, "rss": self.rss, "objects": self.objects}


def child(argv: List[str]) -> int:
    import array
    import json
    collector, policy_json, result_path, sample_every, kind, target, path0, *args = argv
    policy_kwargs = json.loads(policy_json)
    info: dict[str, object] = {"collector": collector, "policy": policy_kwargs}
    refused = []

    def cannot_run(message: str) -> int:
        refused.append(message)
        with open(result_path, "w") as f:
            json.dump({"collector": collector, "error": message}, f)
        return 2

    def no_policy() -> object:
        return None
    policy_state: Callable[[], object] = no_policy
    # at the program's end, before the records are read: automatic
    # collection off and no collection under way (gcx's time backstop runs
    # in its own thread; one between the two reads would be counted by the
    # policy and not seen as a pause)
    def no_quiesce() -> None:
        pass
    quiesce: Callable[[], None] = no_quiesce
    if collector == "gcx":
        try:
            import gcx
        except ImportError as exc:
            return cannot_run(f"gcx cannot be imported in the child interpreter "
                              f"({sys.executable} -P): {exc}")
        callbacks = gcx.callbacks
        from gcx._version import __version__
        info.update(gcx_version=__version__, gcx_mode=gcx.mode(),
                    gcx_file=gcx._gcx.__file__)
        full_collection: Callable[[], int] = gcx.collect
        policy = None
        if policy_kwargs is not None:
            try:
                from gcx._policy_spec import make
                from gcx.policy import quiesce
                policy = make(policy_kwargs)
            except (TypeError, ValueError) as exc:
                return cannot_run(f"gcx policy {policy_kwargs!r}: {exc}")

            def state_of_policy() -> object:
                return gcx.metrics()["policies"]
            policy_state = state_of_policy

        def start() -> None:
            gcx.collect()        # as the stdlib side does (below)

        def begin() -> None:
            # after on_collection is in gcx.callbacks: from here the
            # policy's time backstop may collect, and every collection it
            # counts is seen as a pause
            if policy is None:
                gcx.install()
            else:
                gcx.install(policy=policy)

        def count() -> int:
            return sum(gcx.census().values())
    else:
        import gc
        callbacks = gc.callbacks
        # start where gcx starts: its import adopts everything alive into
        # its oldest generation, with nothing young and nothing counted, so
        # the start-up's garbage (the interpreter's, this harness's; on
        # gcx's side some from gcx's import self-tests too) is collected
        # on both sides before anything is measured, not during the program,
        # and what is left at the end is the program's
        full_collection = gc.collect

        def start() -> None:
            gc.collect()

        def begin() -> None:
            pass

        def count() -> int:
            return len(gc.get_objects())
    sampler = MemorySampler(float(sample_every), count) if float(sample_every) > 0 else None
    starts, durations = array.array("d"), array.array("d")
    generations, collected, uncollectable = (array.array("b"), array.array("q"),
                                             array.array("q"))
    began = [0.0]
    clock = time.perf_counter

    def on_collection(phase: str, stats: dict[str, int]) -> None:
        if phase == "start":
            began[0] = clock()
        else:
            end = clock()
            starts.append(began[0] - _T0)
            durations.append(end - began[0])
            generations.append(stats["generation"])
            collected.append(stats["collected"])
            uncollectable.append(stats["uncollectable"])

    def prepare() -> None:
        start()
        info.update(program_start=time.perf_counter() - _T0)
        callbacks.append(on_collection)
        begin()
        if sampler is not None:
            sampler.start()

    def ended(outcome: object) -> None:
        """The program's code has ended: stop the clocks and the records,
        then find the garbage it left (once, the first time it is called)."""
        if "wall" in info:
            return
        if sampler is not None:
            sampler.stop()
            info.update(memory=sampler.samples())
        info.update(wall=time.perf_counter() - _T0, cpu=time.process_time() - _C0)
        quiesce()
        try:
            callbacks.remove(on_collection)
        except ValueError:
            pass
        info.update(policy_state=policy_state(), garbage_at_end=full_collection())

    # as python SCRIPT / python -m MODULE: the script's directory or the
    # current directory (the parent's choice; none under -P), after gcx
    if path0:
        sys.path.insert(0, path0)
    program = Program(kind, target, args)
    try:
        status = run(program, lambda found: cannot_run(found.message), prepare, ended)
    except SystemExit as exc:
        status = exit_status(exc)
    except KeyboardInterrupt as exc:
        print_exception(exc)
        status = 1
    if refused:
        return status            # cannot_run() wrote the result
    ended(None)                  # when the program's end was not seen
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info.update(status=status, rss=rss * (1 if sys.platform == "darwin" else 1024),
                starts=starts.tolist(), durations=durations.tolist(),
                generations=generations.tolist(), collected=collected.tolist(),
                uncollectable=uncollectable.tolist())
    with open(result_path, "w") as f:
        json.dump(info, f)
    return status


def find(argv: List[str]) -> int:
    target, path0 = argv
    if path0:
        sys.path.insert(0, path0)
    try:
        found = problem(Program("module", target))
    except BaseException:
        return 0            # the program's own failure: the run will show it
    if found is None:
        return 0
    print(found.message)
    return 2


if __name__ == "__main__":
    _command, *_rest = sys.argv[1:]
    sys.exit(child(_rest) if _command == "child" else find(_rest))
