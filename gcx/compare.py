"""``python -m gcx compare``: one program under each collector, side by side.

The program (a script, ``-m module``, or the bundled demo workload) runs in
fresh interpreters, one per *column*: the stdlib collector as CPython starts
it (the reference column, always first), and gcx imported and installed
before the program's first line, with gcx's own rule (the stdlib's) or with
a policy (gcx.Policy).  ``--policy SPEC`` (repeatable) chooses the columns
after the reference: ``stdlib``, ``gcx`` (install() without a policy: the
stdlib's rule, decided by the core), or ``key=value,...``, gcx.Policy's
keyword arguments (gcx/_policy_spec.py); without it, the columns are
stdlib and gcx.  It runs DEFAULT_REPEAT (3) rounds by default, ``--repeat
N`` N rounds, each round one run of every column, in reverse order every
other round, and reports medians, and beside each ratio of medians against
the reference the range of the ratios over the rounds (a busy machine shows
as a wide range; the table warns when wall and CPU time disagree).  Each
run measures, in the child:

  wall time, CPU time   from the child's first line (so gcx's import and
                        install are charged to gcx) to the program's end
  pauses                every collection, timed from the collector's own
                        callbacks ("start" to "stop"): gc.callbacks for the
                        stdlib, gcx.callbacks for gcx; per generation: count,
                        p50, p95, p99 and max
  collected             objects the collections reported collected and
                        uncollectable
  peak garbage          the most garbage one collection found: how much
                        cyclic garbage had piled up uncollected (a lower
                        bound of the peak: garbage in generations that were
                        not collected is not seen)
  garbage at the end    what one full collection finds when the program's
                        code has ended (its globals still alive), after the
                        clocks stopped: the garbage the collector had left
                        uncollected, which deferring collections piles up
  peak RSS              the child's ru_maxrss
  the policy's record   for a column with a policy, from
                        gcx.metrics()["policies"] at the program's end: full
                        collections deferred, collections at safe points, by
                        a guard, by the time backstop, CPU-cap waits, freezes
  cadence               per generation, the median and the longest interval
                        between collections of that generation or an older
                        one (the longest counting from the program's first
                        line, after gcx's install, and to its end), against
                        the ranges gcx aims for (CADENCE_RANGES):
                        below, within or above
  memory over time      with --plot only: RSS and the tracked objects,
                        sampled by a thread of the child (gcx/_runner.py's
                        MemorySampler: the stdlib's count is
                        len(gc.get_objects()), gcx's its census() total, and
                        sampling takes at most about 2% of the run)

The stdlib run never imports gcx, so it pays nothing for it.  The child is
``python -P gcx/_runner.py child ...`` (so the current directory is not on
its sys.path: a gcx/ source tree there cannot hide the installed gcx), which
imports only the stdlib, and gcx in gcx runs; then the program runs as
``python SCRIPT`` / ``python -m MODULE`` would run it (gcx/_runner.py, the
runner of ``gcx run`` and ``gcx report`` too), with its standard output sent
to this process's standard error so the table alone goes to standard output,
and nothing on its standard input.  A policy that relies on safe points
needs a program that calls gcx.safe_point(): compare only sets the policy.

Exit status of main(): 0 when every run of the program exited 0; 1 when the
comparison was made but some run exited otherwise (the table warns), or a
run crashed or timed out; 2 when the program could not be run at all (no
such script or module, a policy gcx.Policy refuses, an output file that
cannot be written, gcx not importable in the child); 130 when interrupted.
"""

from __future__ import annotations

import json
import os
import platform
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import IO, Any, Dict, List, Optional, Sequence, Tuple

from gcx import _policy_spec, _table
from gcx._runner import Program, script_problem

__all__ = ["Program", "Column", "Comparison", "columns", "compare", "main", "summarize",
           "DEFAULT_REPEAT", "DEFAULT_COLUMNS", "CADENCE_RANGES"]

LABEL_WIDTH = 38
COLUMN_WIDTH = 13
DEFAULT_REPEAT = 3
DISAGREEMENT = 0.10     # wall and CPU time ratios further apart than this: warn
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_runner.py")

Run = Dict[str, Any]          # one child's measurements, as its JSON file has them
Summary = Dict[str, Any]      # the table's numbers for one run (summarize())


# The cadence gcx aims for (the ranges of the document this project starts
# from): each generation collected every 10-100 ms, 1-10 s and 10-60 s.
CADENCE_RANGES: Tuple[Tuple[float, float], ...] = ((0.010, 0.100), (1.0, 10.0), (10.0, 60.0))
NGENERATIONS = 3


# ------------------------------------------------------------------------------
# Columns: what each run runs under.

@dataclass(frozen=True)
class Column:
    """One way to run the program: the stdlib collector ("stdlib"), or gcx
    installed with ``policy`` (gcx.Policy's keyword arguments; None:
    install() alone, gcx's own rule).  ``name`` keys the column in --json
    and --csv (the spec as given), ``heading`` heads it in the table."""

    name: str
    heading: str
    policy: Optional[Dict[str, Any]] = None

    @property
    def collector(self) -> str:
        return "stdlib" if self.name == "stdlib" else "gcx"

    def describe(self) -> str:
        """What progress lines and warnings call it."""
        if self.policy is None:
            return "stdlib gc" if self.collector == "stdlib" else "gcx"
        return f"gcx with policy {self.name}"

    def policy_repr(self) -> Optional[str]:
        """The policy as Python writes it: Policy(full='deferred')."""
        if self.policy is None:
            return None
        return repr(_policy_spec.make(self.policy))

    def parameters(self) -> Optional[Dict[str, Any]]:
        """The policy's settings, every one (Policy.parameters())."""
        if self.policy is None:
            return None
        return _policy_spec.make(self.policy).parameters()


STDLIB = Column("stdlib", "stdlib gc")
GCX = Column("gcx", "gcx")
DEFAULT_COLUMNS: Tuple[Column, ...] = (STDLIB, GCX)
_HEADINGS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class SpecError(ValueError):
    """A --policy the command line refuses (a one-line message)."""


def columns(specs: Sequence[str]) -> List[Column]:
    """The reference column (the stdlib collector), then one per spec, in
    order: ``stdlib`` (the reference itself: no other column), ``gcx``, or
    ``key=value,...`` (a policy: headed A, B, ... in the table).  Raises
    SpecError for a spec gcx.Policy refuses, one given twice (the same
    settings), or when nothing is left to compare with the reference."""
    out = [STDLIB]
    given: Dict[str, str] = {}              # what each column runs -> its spec
    for spec in specs:
        text = spec.strip()
        if text in ("stdlib", "gcx"):
            identity = text
            column = STDLIB if text == "stdlib" else GCX
        else:
            try:
                kwargs = _policy_spec.parse(text)
            except _policy_spec.SpecError as exc:
                raise SpecError(f"--policy {spec!r}: {exc}") from None
            column = Column(text, _heading(sum(c.policy is not None for c in out)), kwargs)
            identity = repr(sorted((column.parameters() or {}).items()))
        if identity in given:
            raise SpecError(f"--policy {spec!r} runs what --policy {given[identity]!r} "
                            "runs already")
        given[identity] = spec
        if column is not STDLIB:
            out.append(column)
    if len(out) == 1:
        raise SpecError("--policy: nothing to compare with the stdlib collector; "
                        "add gcx or a policy (key=value,...)")
    return out


def _heading(index: int) -> str:
    return _HEADINGS[index] if index < len(_HEADINGS) else f"P{index + 1}"


class CompareError(Exception):
    """A run did not produce its measurements."""


class CannotRun(CompareError):
    """The program could not be started at all (exit status 2)."""


def output_error(path: Optional[str], option: str) -> Optional[str]:
    """Why ``path`` (given to ``option``) could not be written, checked
    before any run (None if it can be, or is None or '-')."""
    if path is None or path == "-":
        return None
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        why = "it is a directory"
    elif not os.path.isdir(directory):
        why = f"no directory {directory!r}"
    elif not os.access(directory, os.W_OK | os.X_OK) or (
            os.path.exists(path) and not os.access(path, os.W_OK)):
        why = "permission denied"
    else:
        return None
    return f"can't write {option} file {path!r}: {why}"


# ------------------------------------------------------------------------------
# Running the children.

def _child_env() -> Dict[str, str]:
    """The environment of a child: ours, with gcx importable from where this
    process imports it (unless that is a site directory, which is there
    anyway and must not move ahead of the stdlib)."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sites = set(getattr(site, "getsitepackages", list)())
    sites.add(getattr(site, "getusersitepackages", str)())
    if root not in sites:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class _Progress:
    """One line per run on stderr; while a run lasts, the elapsed time (on a
    terminal, updated in place; elsewhere a line every 10 s)."""

    def __init__(self, stream: Optional[IO[str]], enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled and stream is not None
        self.tty = self.enabled and bool(getattr(stream, "isatty", lambda: False)())
        self.text = ""
        self.began = self.last = 0.0

    def _write(self, text: str) -> None:
        if self.enabled and self.stream is not None:
            self.stream.write(text)
            self.stream.flush()

    def start(self, text: str) -> None:
        self.text = text
        self.began = self.last = time.monotonic()
        self._write(f"gcx compare: {text} ..." + ("" if self.tty else "\n"))

    def tick(self) -> None:
        now = time.monotonic()
        elapsed = now - self.began
        if self.tty:
            self._write(f"\rgcx compare: {self.text} ... {elapsed:.0f} s")
        elif now - self.last >= 10:
            self.last = now
            self._write(f"gcx compare:   still running ({elapsed:.0f} s)\n")

    def done(self, text: str) -> None:
        prefix = f"\rgcx compare: {self.text} ... " if self.tty else "gcx compare:   "
        self._write(f"{prefix}{text}\n")


def _stderr_fd() -> int:
    """Where a child's standard output goes: our standard error."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        return 2


def module_error(program: Program) -> Optional[str]:
    """What ``python -m MODULE`` would say instead of running the module
    (None if it can run), found out in a fresh interpreter set up as the
    runs will be (finding a module imports its parent packages)."""
    if program.kind != "module":
        return None
    proc = subprocess.run([sys.executable, "-P", RUNNER, "find", program.target,
                           program.path0()], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=_child_env())
    if proc.returncode == 2 and proc.stdout.strip():
        return proc.stdout.strip()
    return None


# With --plot: the memory samples' shortest interval, seconds.
SAMPLE_INTERVAL = 0.02


def run_once(program: Program, column: Column, progress: Optional[_Progress] = None,
             timeout: Optional[float] = None, sample: bool = False) -> Run:
    """Run the program once in a fresh interpreter as ``column`` says;
    returns the child's measurements (a dict), with memory samples when
    ``sample``."""
    fd, result_path = tempfile.mkstemp(prefix="gcx-compare-", suffix=".json")
    os.close(fd)
    try:
        # -P: the current directory is not on the child's sys.path, where a
        # gcx/ source tree would hide the installed gcx; the program's own
        # first entry (path0) goes in after gcx is imported
        command = [sys.executable, "-P", RUNNER, "child", column.collector,
                   json.dumps(column.policy), result_path,
                   repr(SAMPLE_INTERVAL if sample else 0.0), program.kind, program.target,
                   program.path0(), *program.args]
        started = time.monotonic()
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=_stderr_fd(),
                                env=_child_env())
        while True:
            try:
                proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if progress is not None:
                    progress.tick()
                if timeout is not None and time.monotonic() - started > timeout:
                    proc.kill()
                    proc.wait()
                    raise CompareError(f"the program ran longer than {timeout:g} s "
                                       f"under {column.describe()}; stopped it")
        try:
            with open(result_path) as f:
                text = f.read()
            result: Optional[Run] = json.loads(text) if text else None
        except (OSError, ValueError):
            result = None
        if result is not None and "error" in result:
            raise CannotRun(result["error"])
        if result is None:
            raise CompareError(f"the program ended without its measurements under "
                               f"{column.describe()} (exit status {proc.returncode}: "
                               "did it call os._exit() or crash?)")
        return result
    finally:
        try:
            os.unlink(result_path)
        except OSError:
            pass


# ------------------------------------------------------------------------------
# Measurements of one run.

_GUARDS = ("growth", "memory", "limit")     # gcx/policy.py: collections a guard forced


def summarize(run: Run) -> Summary:
    """The numbers the table shows, for one run (times in seconds)."""
    durations: List[float] = run["durations"]
    total = sum(durations)
    s: Summary = {
        "wall": run["wall"], "cpu": run["cpu"], "gc_time": total,
        "gc_share": total / run["wall"] if run["wall"] > 0 else None,
        "collections": len(durations),
        "collected": sum(run["collected"]),
        "uncollectable": sum(run["uncollectable"]),
        "peak_garbage": max((c + u for c, u in zip(run["collected"], run["uncollectable"])),
                            default=0),
        "garbage_at_end": run.get("garbage_at_end"),
        "rss": run["rss"], "status": run["status"],
    }
    for generation in (0, 1, 2, None):
        pauses = sorted(d for d, g in zip(durations, run["generations"])
                        if generation is None or g == generation)
        name = "all" if generation is None else f"gen{generation}"
        s[f"{name}_count"] = len(pauses)
        for q in (50, 95, 99):
            s[f"{name}_p{q}"] = _table.percentile(pauses, q)
        s[f"{name}_max"] = pauses[-1] if pauses else None
    s.update(_policy_record(run.get("policy_state")))
    for generation in range(NGENERATIONS):
        s[f"cad{generation}_median"], s[f"cad{generation}_longest"] = cadence(
            run["starts"], run["generations"], generation,
            run.get("program_start", 0.0), run["wall"])
    return s


def _policy_record(state: Optional[Dict[str, Any]]) -> Summary:
    """What a policy did (gcx.metrics()["policies"] at the program's end):
    None each for a run without a policy."""
    if state is None:
        return {key: None for key in ("policy_deferred", "policy_safe_point",
                                      "policy_guard", "policy_periodic",
                                      "policy_cap_waits", "policy_freezes")}
    causes: Dict[str, int] = state["collections"]
    return {"policy_deferred": state["deferred_full"],
            "policy_safe_point": causes.get("safe_point", 0),
            "policy_guard": sum(causes.get(reason, 0) for reason in _GUARDS),
            "policy_periodic": sum(n for cause, n in causes.items()
                                   if cause.startswith("periodic")),
            "policy_cap_waits": state["cpu_cap_waits"],
            "policy_freezes": state["freezes"]}


def cadence(starts: Sequence[float], generations: Sequence[int], generation: int,
            begin: float, end: float) -> Tuple[Optional[float], float]:
    """How often ``generation`` was collected in one run: (the median
    interval between collections of it or an older generation, None with
    fewer than two; the longest stretch without one, from the program's
    first line, at ``begin``, to its end, at ``end``).  Seconds."""
    times = sorted(t for t, g in zip(starts, generations) if g >= generation)
    gaps = [b - a for a, b in zip(times, times[1:])]
    edges = [times[0] - begin, end - times[-1]] if times else [end - begin]
    return _table.median(gaps), max(gaps + edges)


def verdict(median: Optional[float], longest: Optional[float],
            low: float, high: float) -> str:
    """The median interval against a range: "below" (collected more often),
    "within", "above" (less often); without a median (fewer than two
    collections), "above" when the run went longer than the range's top
    without one, else "too few"."""
    if median is None:
        return "above" if longest is not None and longest > high else "too few"
    return "below" if median < low else "above" if median > high else "within"


# ------------------------------------------------------------------------------
# The table: (label, key, unit, scale, format, ratio?).  The same rows go to
# --json and --csv.

RowSpec = Tuple[str, str, str, float, str, bool]


def _rows() -> List[RowSpec]:
    rows: List[RowSpec] = [
        ("wall time", "wall", "s", 1, "{:.3f}", True),
        ("CPU time", "cpu", "s", 1, "{:.3f}", True),
        ("time in collections", "gc_time", "ms", 1e3, "{:.1f}", True),
        ("share of the run in collections", "gc_share", "%", 100, "{:.1f}%", False),
        ("collections", "collections", "", 1, "{:.0f}", False),
    ]
    for name, title in (("gen0", "generation 0"), ("gen1", "generation 1"),
                        ("gen2", "generation 2"), ("all", "all")):
        rows.append((f"{title} pauses", f"{name}_count", "", 1, "{:.0f}", False))
        for q in ("p50", "p95", "p99", "max"):
            rows.append((f"{title} pause {q}", f"{name}_{q}", "ms", 1e3, "{:.3f}", True))
    rows += [
        ("objects collected", "collected", "", 1, "{:.0f}", False),
        ("uncollectable", "uncollectable", "", 1, "{:.0f}", False),
        ("peak garbage found by one collection", "peak_garbage", "objects", 1,
         "{:.0f}", False),
        ("garbage left at the end", "garbage_at_end", "objects", 1, "{:.0f}", False),
        ("peak RSS", "rss", "MB", 1 / 2**20, "{:.1f}", True),
        ("times a full collection was deferred", "policy_deferred", "", 1, "{:.0f}", False),
        ("collections at safe points", "policy_safe_point", "", 1, "{:.0f}", False),
        ("collections forced by a guard", "policy_guard", "", 1, "{:.0f}", False),
        ("collections by the time backstop", "policy_periodic", "", 1, "{:.0f}", False),
        ("collections the CPU cap held back", "policy_cap_waits", "", 1, "{:.0f}", False),
        ("freezes by the policy", "policy_freezes", "", 1, "{:.0f}", False),
        ("exit status", "status", "", 1, "{:.0f}", False),
    ]
    for generation, (unit, scale, fmt) in enumerate((("ms", 1e3, "{:.2f}"), ("s", 1, "{:.3f}"),
                                                      ("s", 1, "{:.2f}"))):
        rows.append((f"generation {generation} median interval", f"cad{generation}_median",
                     unit, scale, fmt, False))
        rows.append((f"generation {generation} longest interval", f"cad{generation}_longest",
                     unit, scale, fmt, False))
    return rows


def _range_text(generation: int) -> str:
    low, high = CADENCE_RANGES[generation]
    if generation == 0:
        return f"{low * 1e3:g}-{high * 1e3:g} ms"
    return f"{low:g}-{high:g} s"


class Comparison:
    """Every run of every column, and their medians.  The first column is
    the reference the others' ratios are taken against."""

    def __init__(self, program: Program, runs: Dict[str, List[Run]],
                 columns: Sequence[Column] = DEFAULT_COLUMNS) -> None:
        self.program = program
        self.columns = list(columns)
        self.reference, self.compared = self.columns[0], self.columns[1:]
        self.runs = runs                      # column name -> [raw child results]
        names = [c.name for c in self.columns]
        self.summaries = {n: [summarize(r) for r in runs[n]] for n in names}
        self.medians = {n: {key: _table.median([s[key] for s in self.summaries[n]])
                            for key in self.summaries[n][0]} for n in names}

    @property
    def repeat(self) -> int:
        return len(self.runs[self.reference.name])

    def rows(self) -> List[Dict[str, Any]]:
        """[{"metric", "key", "unit", "values": {column: value}, "ratios":
        {column: {"ratio", "min", "max"}}}], values scaled to the unit
        (medians over the runs); "ratios" has each column after the
        reference: the ratio of its median to the reference's, and the
        range of the ratios over the rounds (run i of each), or None each
        for a row without ratios."""
        ref = self.reference.name
        out: List[Dict[str, Any]] = []
        for label, key, unit, scale, _, with_ratio in _rows():
            values = {c.name: self.medians[c.name][key] for c in self.columns}
            reference = values[ref]
            ratios: Dict[str, Dict[str, Optional[float]]] = {}
            for column in self.compared:
                mine = values[column.name]
                ratio = low = high = None
                if with_ratio and reference and mine is not None:
                    ratio = mine / reference
                    pairs = [m[key] / r[key] for r, m in zip(self.summaries[ref],
                                                             self.summaries[column.name])
                             if r[key] and m[key] is not None]
                    if pairs:
                        low, high = min(pairs), max(pairs)
                ratios[column.name] = {"ratio": ratio, "min": low, "max": high}
            out.append({"metric": label, "key": key, "unit": unit,
                        "values": {n: (v * scale if v is not None else None)
                                   for n, v in values.items()},
                        "ratios": ratios})
        return out

    def cadence(self) -> Dict[str, Any]:
        """Per column and generation, the median and longest interval
        between collections (seconds; medians over the runs) and the
        verdict against CADENCE_RANGES."""
        result: Dict[str, Any] = {
            "ranges": [list(r) for r in CADENCE_RANGES], "columns": {}}
        for column in self.columns:
            medians = self.medians[column.name]
            result["columns"][column.name] = [
                {"generation": g, "median": medians[f"cad{g}_median"],
                 "longest": medians[f"cad{g}_longest"],
                 "verdict": verdict(medians[f"cad{g}_median"], medians[f"cad{g}_longest"],
                                    *CADENCE_RANGES[g])}
                for g in range(NGENERATIONS)]
        return result

    def warnings(self) -> List[str]:
        """What the reader must know before trusting the table, one line each."""
        out: List[str] = []
        statuses = [(c, [r["status"] for r in self.runs[c.name]]) for c in self.columns]
        if any(s != [0] * len(s) for _, s in statuses):
            said = "; ".join(f"under {c.describe()}: {', '.join(map(str, s))}"
                             for c, s in statuses)
            out.append(f"the program did not always exit with status 0 ({said}); "
                       "the figures are of those runs")
        rows = {row["key"]: row for row in self.rows()}
        long_enough = (self.medians[self.reference.name]["wall"] or 0) >= 0.2  # else start-up
        for column in self.compared:
            wall = rows["wall"]["ratios"][column.name]["ratio"]
            cpu = rows["cpu"]["ratios"][column.name]["ratio"]
            of = "" if len(self.compared) == 1 else f" of {column.heading}"
            if wall and cpu and long_enough and abs(wall / cpu - 1) > DISAGREEMENT:
                out.append(f"the wall time ratio{of} ({wall:.2f}x) and the CPU time "
                           f"ratio ({cpu:.2f}x) disagree by more than {DISAGREEMENT:.0%}: "
                           "something else was using the CPU (or the program waits); "
                           "trust the CPU time, or run again on a quieter machine"
                           + ("" if self.repeat >= 5 else " with --repeat 5"))
        return out

    def environment(self) -> Dict[str, Any]:
        gcx_run = next((self.runs[c.name][0] for c in self.columns
                        if c.collector == "gcx"), {})
        return {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "gcx_version": gcx_run.get("gcx_version"),
            "gcx_mode": gcx_run.get("gcx_mode"),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        }

    def as_dict(self) -> Dict[str, Any]:
        return {
            "program": {"kind": self.program.kind, "target": self.program.target,
                        "args": list(self.program.args),
                        "description": self.program.describe()},
            "repeat": self.repeat,
            "environment": self.environment(),
            "columns": [{"name": c.name, "heading": c.heading, "collector": c.collector,
                         "policy": c.policy, "parameters": c.parameters()}
                        for c in self.columns],
            "rows": [{k: v for k, v in row.items() if k != "key"} for row in self.rows()],
            "cadence": self.cadence(),
            "warnings": self.warnings(),
            "runs": self.summaries,
        }

    # -- output ----------------------------------------------------------------

    def table(self) -> str:
        import textwrap
        env = self.environment()
        runs = ("1 run each" if self.repeat == 1 else
                f"medians of {self.repeat} runs each, alternating which goes first")
        spread = self.repeat > 1
        ref = self.reference.name
        lines = [
            f"gcx {env['gcx_version']} compare: {self.program.describe()}, {runs}",
            f"{env['implementation']} {env['python']} ({sys.executable}), "
            f"gcx in {env['gcx_mode']} mode",
        ]
        lines += [f"{c.heading}: gcx with gcx.{c.policy_repr()}  (--policy {c.name})"
                  for c in self.columns if c.policy is not None]
        headings = [c.heading for c in self.columns]
        ratio_headings: List[str] = []
        for column in self.compared:
            ratio_headings += [f"{column.heading}/{ref}", *(["range"] if spread else [])]
        lines += ["", _cells("", *headings, *ratio_headings)]
        formats = {key: fmt for _, key, _, _, fmt, _ in _rows()}
        cadence_rows: Dict[str, Dict[str, Any]] = {}
        for row in self.rows():
            key = row["key"]
            if key.startswith("cad"):
                cadence_rows[key] = row
                continue
            present = [v for v in row["values"].values() if v is not None]
            if not present or (key.startswith("policy_") and not any(present)):
                continue     # no pauses of that generation, no policy did that
            cells = [_format(row["values"][c.name], formats[key]) for c in self.columns]
            extra: List[str] = []
            for column in self.compared:
                r = row["ratios"][column.name]
                extra.append(f"{r['ratio']:.2f}x" if r["ratio"] is not None else "")
                if spread:
                    extra.append(f"{r['min']:.2f}-{r['max']:.2f}x"
                                 if r["min"] is not None else "")
            lines.append(_cells(_label(row), *cells, *extra))
        lines += ["", _cells("cadence", *headings)]
        verdicts = self.cadence()["columns"]
        for g in range(NGENERATIONS):
            lines.append(f"generation {g} (every {_range_text(g)})")
            for what in ("median", "longest"):
                row = cadence_rows[f"cad{g}_{what}"]
                lines.append(_cells(f"  {what} interval ({row['unit']})",
                                    *(_format(row["values"][c.name], formats[row["key"]])
                                      for c in self.columns)))
            lines.append(_cells("  against the range",
                                *(verdicts[c.name][g]["verdict"] for c in self.columns)))
        lines.append("")
        lines.extend(textwrap.wrap(
            "pauses are timed from each collector's callbacks; \"peak garbage\" is the "
            "most any one collection found (cyclic garbage that had piled up "
            "uncollected); \"garbage left at the end\" is what a full collection found "
            "when the program's code had ended.  cadence: the intervals between "
            "collections of each generation or an older one (the longest from the "
            "program's first line to its end); the median against the range gcx "
            "aims for: below (more often), within, above (less often), or "
            "too few to tell.", 88))
        if spread and len(self.compared) == 1:
            lines.append(f"range: the lowest and highest {self.compared[0].heading}/{ref} "
                         f"ratio over the {self.repeat} pairs of runs.")
        elif spread:
            lines.append(f"range: the lowest and highest ratio to {ref} over the "
                         f"{self.repeat} rounds of runs.")
        for warning in self.warnings():
            lines.extend(textwrap.wrap(f"warning: {warning}", 88,
                                       subsequent_indent="  "))
        return "\n".join(lines)

    def csv(self) -> str:
        import csv
        import io
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        ref = self.reference.name
        writer.writerow(["metric", "unit", *(c.name for c in self.columns),
                         *(f"{c.name}/{ref}" for c in self.compared)])
        for row in self.rows():
            cells = [*(row["values"][c.name] for c in self.columns),
                     *(row["ratios"][c.name]["ratio"] for c in self.compared)]
            writer.writerow([row["metric"], row["unit"],
                             *("" if v is None else _plain(v) for v in cells)])
        return out.getvalue()

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def plot(self, path: str) -> None:
        """A pause timeline, a pause histogram, and RSS and tracked objects
        over time, of every column (the run with the median wall time of
        each, which the titles name)."""
        import matplotlib  # type: ignore[import-not-found,unused-ignore]
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]
        from matplotlib.ticker import MaxNLocator  # type: ignore[import-not-found,unused-ignore]
        fig, (timeline, histogram, rss, objects) = plt.subplots(
            4, 1, figsize=(11, 15), gridspec_kw={"height_ratios": [3, 2, 2, 2]})
        palette = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
                   "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
        markers = {0: "o", 1: "^", 2: "s"}
        everything: List[Tuple[str, List[float]]] = []
        drawn: List[str] = []
        end = 0.0
        for number, column in enumerate(self.columns):
            colour, runs = palette[number % len(palette)], self.runs[column.name]
            name = column.heading
            order = sorted(range(len(runs)), key=lambda i: runs[i]["wall"])
            index = order[len(order) // 2]
            run = runs[index]
            drawn.append(f"{name} run {index + 1} of {len(order)}")
            end = max(end, run["wall"])
            few = len(run["durations"]) < 200
            for generation, marker in markers.items():
                points = [(s, d * 1e3) for s, d, g in zip(run["starts"], run["durations"],
                                                         run["generations"])
                          if g == generation]
                if points:
                    xs, ys = zip(*points)
                    size = (40 if few else 14) * (1 if generation == 0 else 2)
                    timeline.scatter(xs, ys, s=size, marker=marker, color=colour, alpha=0.6,
                                     label=f"{name}, generation {generation}")
            everything.append((column.name, [d * 1e3 for d in run["durations"] if d > 0]))
            memory = run.get("memory")
            if memory:
                label = f"{name} ({len(memory['t'])} samples)"
                points = [(t, r / 1e6) for t, r in zip(memory["t"], memory["rss"])
                          if r is not None]
                if points:
                    xs, ys = zip(*points)
                    rss.plot(xs, ys, color=colour, marker=".", label=label)
                objects.plot(memory["t"], memory["objects"], color=colour,
                             marker=".", label=label)
        for axes, what, unit in ((rss, "resident set size", "RSS (MB)"),
                                 (objects, "objects the collector tracks",
                                  "tracked objects")):
            axes.set_xlim(0, end * 1.01 or 1)
            axes.set_ylim(bottom=0)
            axes.set_xlabel("time since the program started (s)")
            axes.set_ylabel(unit)
            axes.set_title(f"{what} over time")
            if axes.get_lines():
                axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        timeline.set_xlim(0, end * 1.01 or 1)      # the whole run, to its end
        timeline.set_yscale("log")
        timeline.set_xlabel("time since the program started (s)")
        timeline.set_ylabel("pause (ms)")
        which = ("" if self.repeat == 1 else
                 f" (the median-wall-time run: {', '.join(drawn)})")
        timeline.set_title(f"collections: {self.program.describe()}{which}")
        timeline.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        values = [v for _, vs in everything for v in vs]
        if values:
            lo, hi = min(values), max(values)
            if hi <= lo:
                hi = lo * 1.1
            bins = [lo * (hi / lo) ** (i / 40) for i in range(41)]
            for number, (column, (_, vs)) in enumerate(zip(self.columns, everything)):
                histogram.hist(vs, bins=bins, histtype="step", linewidth=1.5,
                               color=palette[number % len(palette)],
                               label=f"{column.heading} ({len(vs)} pauses)")
            histogram.set_xscale("log")
            histogram.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        histogram.set_xlabel("pause (ms)")
        histogram.set_ylabel("collections")
        histogram.yaxis.set_major_locator(MaxNLocator(integer=True))
        histogram.set_title("pause times")
        fig.tight_layout()
        fig.savefig(path, format=plot_format(path), dpi=100, bbox_inches="tight")
        plt.close(fig)


def _label(row: Dict[str, Any]) -> str:
    key = row["key"]
    for name, title in (("gen0", "generation 0"), ("gen1", "generation 1"),
                        ("gen2", "generation 2"), ("all", "all")):
        if key == f"{name}_count":
            return f"{title} pauses"
        if key.startswith(name + "_"):
            return f"  {key.split('_', 1)[1]} ({row['unit']})"
    unit = row["unit"]
    if unit in ("", "%", "objects"):
        return str(row["metric"])
    return f"{row['metric']} ({unit})"


def _format(value: Optional[float], fmt: str) -> str:
    if value is None:
        return "-"
    return fmt.format(value)


def _plain(value: object) -> str:
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _cells(label: str, *values: object) -> str:
    return _table.row(label, *values, label_width=LABEL_WIDTH, cell_width=COLUMN_WIDTH)


# ------------------------------------------------------------------------------
# The command.

def plot_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_format(path: str) -> str:
    """The image format of a --plot file: its extension (any case), or
    PNG when it has none."""
    return os.path.splitext(path)[1][1:].lower() or "png"


def plot_format_error(path: str) -> Optional[str]:
    """Why matplotlib cannot write a plot to ``path`` (its extension is no
    format it knows), checked before any run; None if it can."""
    from matplotlib.backend_bases import FigureCanvasBase  # type: ignore[import-not-found,unused-ignore]
    formats = FigureCanvasBase.get_supported_filetypes()
    if plot_format(path) in formats:
        return None
    return (f"--plot file {path!r}: matplotlib cannot write {plot_format(path)!r} "
            f"images (it writes {', '.join(sorted(formats))}; no extension: png)")


def compare(program: Program, repeat: int = DEFAULT_REPEAT, progress: bool = True,
            timeout: Optional[float] = None, memory: bool = False,
            columns: Sequence[Column] = DEFAULT_COLUMNS) -> Comparison:
    """Run ``program`` ``repeat`` rounds of once under each column, every
    other round in reverse order; returns a Comparison.  memory: sample RSS
    and tracked objects over each run (for the plot)."""
    runs: Dict[str, List[Run]] = {c.name: [] for c in columns}
    reporter = _Progress(sys.stderr, progress)
    total = len(columns) * repeat
    n = 0
    for rep in range(repeat):
        order = columns if rep % 2 == 0 else columns[::-1]
        for column in order:
            n += 1
            reporter.start(f"[{n}/{total}] {program.describe()} under {column.describe()}")
            result = run_once(program, column, reporter, timeout, memory)
            reporter.done(f"{result['wall']:.2f} s, {len(result['durations'])} collections"
                          + (f", exit status {result['status']}" if result["status"] else ""))
            runs[column.name].append(result)
    return Comparison(program, runs, columns)


def main(program: Program, repeat: Optional[int] = None, json_path: Optional[str] = None,
         csv_path: Optional[str] = None, plot_path: Optional[str] = None,
         progress: bool = True, timeout: Optional[float] = None,
         prog: str = "python -m gcx compare", policies: Sequence[str] = ()) -> int:
    """The command line's work; returns the exit status (see the module's
    docstring).  Everything that can be checked before the runs is.
    ``policies``: the --policy specs (none: the stdlib and gcx)."""
    repeat = DEFAULT_REPEAT if repeat is None else repeat
    try:
        chosen = columns(policies) if policies else list(DEFAULT_COLUMNS)
    except SpecError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if plot_path is not None and not plot_available():
        print(f"{prog}: --plot needs matplotlib, which is not installed here; "
              "install it with: pip install matplotlib (or pip install '.[plot]' "
              "in gcx's checkout)", file=sys.stderr)
        return 2
    errors = [output_error(path, option) for option, path in
              (("--json", json_path), ("--csv", csv_path), ("--plot", plot_path))]
    if plot_path is not None:
        errors.insert(0, plot_format_error(plot_path))
    if program.kind == "script":
        problem = script_problem(program.target)
        errors.append(problem.message if problem is not None else None)
    elif program.kind == "module":
        errors.append(module_error(program))
    for error in errors:
        if error is not None:
            print(f"{prog}: {error}", file=sys.stderr)
            return 2
    try:
        result = compare(program, repeat, progress, timeout, memory=plot_path is not None,
                         columns=chosen)
    except CannotRun as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except CompareError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130
    outputs = {"json": (json_path, result.json), "csv": (csv_path, result.csv)}
    table_to_stdout = True
    for kind, (path, render) in outputs.items():
        if path is None:
            continue
        text = render()
        if path == "-":
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            table_to_stdout = False
        else:
            with open(path, "w") as f:
                f.write(text if text.endswith("\n") else text + "\n")
    table = result.table()
    print(table, file=sys.stdout if table_to_stdout else sys.stderr)
    if plot_path is not None:
        result.plot(plot_path)
        print(f"{prog}: wrote {plot_path}", file=sys.stderr)
    statuses = {r["status"] for runs in result.runs.values() for r in runs}
    return 0 if statuses == {0} else 1
