"""``python -m gcx compare``: one program under each collector, side by side.

The program (a script, ``-m module``, or the bundled demo workload) runs in
fresh interpreters, once with the stdlib collector as CPython starts it and
once with gcx imported and installed before the program's first line;
it runs DEFAULT_REPEAT (3) pairs by default, ``--repeat N`` N pairs,
alternating which goes first, and reports medians, and beside each ratio of
medians the range of the ratios of the pairs (a busy machine shows as a wide
range; the table warns when wall and CPU time disagree).  Each run measures,
in the child:

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
  peak RSS              the child's ru_maxrss
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
and nothing on its standard input.

Exit status of main(): 0 when every run of the program exited 0; 1 when the
comparison was made but some run exited otherwise (the table warns), or a
run crashed or timed out; 2 when the program could not be run at all (no
such script or module, an output file that cannot be written, gcx not
importable in the child); 130 when interrupted.
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
from typing import IO, Any, Dict, List, Optional, Tuple

from gcx import _table
from gcx._runner import Program, script_problem

__all__ = ["Program", "Comparison", "compare", "main", "summarize", "DEFAULT_REPEAT"]

COLLECTORS = ("stdlib", "gcx")
COLUMNS = {"stdlib": "stdlib gc", "gcx": "gcx"}
LABEL_WIDTH = 38
COLUMN_WIDTH = 13
DEFAULT_REPEAT = 3
DISAGREEMENT = 0.10     # wall and CPU time ratios further apart than this: warn
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_runner.py")

Run = Dict[str, Any]          # one child's measurements, as its JSON file has them
Summary = Dict[str, Any]      # the table's numbers for one run (summarize())


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


def run_once(program: Program, collector: str, progress: Optional[_Progress] = None,
             timeout: Optional[float] = None, sample: bool = False) -> Run:
    """Run the program once in a fresh interpreter under ``collector``
    ("stdlib" or "gcx"); returns the child's measurements (a dict), with
    memory samples when ``sample``."""
    fd, result_path = tempfile.mkstemp(prefix="gcx-compare-", suffix=".json")
    os.close(fd)
    try:
        # -P: the current directory is not on the child's sys.path, where a
        # gcx/ source tree would hide the installed gcx; the program's own
        # first entry (path0) goes in after gcx is imported
        command = [sys.executable, "-P", RUNNER, "child", collector, result_path,
                   repr(SAMPLE_INTERVAL if sample else 0.0), program.kind, program.target, program.path0(), *program.args]
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
                                       f"under {COLUMNS[collector]}; stopped it")
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
                               f"{COLUMNS[collector]} (exit status {proc.returncode}: "
                               "did it call os._exit() or crash?)")
        return result
    finally:
        try:
            os.unlink(result_path)
        except OSError:
            pass


# ------------------------------------------------------------------------------
# Measurements of one run.

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
    return s


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
        ("peak RSS", "rss", "MB", 1 / 2**20, "{:.1f}", True),
        ("exit status", "status", "", 1, "{:.0f}", False),
    ]
    return rows


class Comparison:
    """Every run of both collectors, and their medians."""

    def __init__(self, program: Program, runs: Dict[str, List[Run]]) -> None:
        self.program = program
        self.runs = runs                      # collector -> [raw child results]
        self.summaries = {c: [summarize(r) for r in runs[c]] for c in COLLECTORS}
        self.medians = {c: {key: _table.median([s[key] for s in self.summaries[c]])
                            for key in self.summaries[c][0]} for c in COLLECTORS}

    @property
    def repeat(self) -> int:
        return len(self.runs["stdlib"])

    def rows(self) -> List[Dict[str, Any]]:
        """[{"metric", "unit", "stdlib", "gcx", "ratio", "ratio_min",
        "ratio_max"}], values scaled to the unit (medians over the runs);
        ratio is gcx's median over the stdlib's, ratio_min and ratio_max
        the range of gcx/stdlib over the pairs of runs (run i of each)."""
        out: List[Dict[str, Any]] = []
        for label, key, unit, scale, _, with_ratio in _rows():
            values = {c: self.medians[c][key] for c in COLLECTORS}
            scaled = {c: (v * scale if v is not None else None) for c, v in values.items()}
            ratio = low = high = None
            if with_ratio and values["stdlib"] and values["gcx"] is not None:
                ratio = values["gcx"] / values["stdlib"]
                pairs = [g[key] / s[key] for s, g in zip(self.summaries["stdlib"],
                                                         self.summaries["gcx"])
                         if s[key] and g[key] is not None]
                if pairs:
                    low, high = min(pairs), max(pairs)
            out.append({"metric": label, "key": key, "unit": unit,
                        "stdlib": scaled["stdlib"], "gcx": scaled["gcx"], "ratio": ratio,
                        "ratio_min": low, "ratio_max": high})
        return out

    def warnings(self) -> List[str]:
        """What the reader must know before trusting the table, one line each."""
        out: List[str] = []
        statuses = {c: [r["status"] for r in self.runs[c]] for c in COLLECTORS}
        if any(statuses[c] != [0] * len(statuses[c]) for c in COLLECTORS):
            said = "; ".join(f"under {COLUMNS[c]}: {', '.join(map(str, statuses[c]))}"
                             for c in COLLECTORS)
            out.append(f"the program did not always exit with status 0 ({said}); "
                       "the figures are of those runs")
        rows = {row["key"]: row for row in self.rows()}
        wall, cpu = rows["wall"]["ratio"], rows["cpu"]["ratio"]
        long_enough = (self.medians["stdlib"]["wall"] or 0) >= 0.2   # else start-up
        if wall and cpu and long_enough and abs(wall / cpu - 1) > DISAGREEMENT:
            out.append(f"the wall time ratio ({wall:.2f}x) and the CPU time ratio "
                       f"({cpu:.2f}x) disagree by more than {DISAGREEMENT:.0%}: "
                       "something else was using the CPU (or the program waits); "
                       "trust the CPU time, or run again on a quieter machine"
                       + ("" if self.repeat >= 5 else " with --repeat 5"))
        return out

    def environment(self) -> Dict[str, Any]:
        gcx_run = self.runs["gcx"][0]
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
            "rows": [{k: v for k, v in row.items() if k != "key"} for row in self.rows()],
            "warnings": self.warnings(),
            "runs": self.summaries,
        }

    # -- output ----------------------------------------------------------------

    def table(self) -> str:
        env = self.environment()
        runs = ("1 run each" if self.repeat == 1 else
                f"medians of {self.repeat} runs each, alternating which goes first")
        spread = self.repeat > 1
        lines = [
            f"gcx {env['gcx_version']} compare: {self.program.describe()}, {runs}",
            f"{env['implementation']} {env['python']} ({sys.executable}), "
            f"gcx in {env['gcx_mode']} mode",
            "",
            _cells("", COLUMNS["stdlib"], COLUMNS["gcx"], "gcx/stdlib",
                   *(["range"] if spread else [])),
        ]
        formats = {key: fmt for _, key, _, _, fmt, _ in _rows()}
        empty = set(self._empty_generations())
        for row in self.rows():
            key = row["key"]
            if key.split("_")[0] in empty and not key.endswith("_count"):
                continue            # no pauses of that generation: no percentiles
            cells = [_format(row[c], formats[key]) for c in COLLECTORS]
            ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else ""
            extra = []
            if spread and row["ratio_min"] is not None:
                extra = [f"{row['ratio_min']:.2f}-{row['ratio_max']:.2f}x"]
            lines.append(_cells(_label(row), *cells, ratio, *extra))
        lines.append("")
        lines.append("pauses are timed from each collector's callbacks; \"peak garbage\" is "
                     "the most any one")
        lines.append("collection found (cyclic garbage that had piled up uncollected).")
        if spread:
            lines.append("range: the lowest and highest gcx/stdlib ratio over the "
                         f"{self.repeat} pairs of runs.")
        import textwrap
        for warning in self.warnings():
            lines.extend(textwrap.wrap(f"warning: {warning}", 88,
                                       subsequent_indent="  "))
        return "\n".join(lines)

    def _empty_generations(self) -> List[str]:
        return [name for name in ("gen0", "gen1", "gen2", "all")
                if not self.medians["stdlib"][f"{name}_count"]
                and not self.medians["gcx"][f"{name}_count"]]

    def csv(self) -> str:
        import csv
        import io
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["metric", "unit", "stdlib", "gcx", "gcx/stdlib"])
        for row in self.rows():
            writer.writerow([row["metric"], row["unit"],
                             *("" if row[c] is None else _plain(row[c])
                               for c in ("stdlib", "gcx", "ratio"))])
        return out.getvalue()

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def plot(self, path: str) -> None:
        """A pause timeline, a pause histogram, and RSS and tracked objects
        over time, of both collectors (the run with the median wall time of
        each, which the titles name)."""
        import matplotlib  # type: ignore[import-not-found,unused-ignore]
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]
        from matplotlib.ticker import MaxNLocator  # type: ignore[import-not-found,unused-ignore]
        fig, (timeline, histogram, rss, objects) = plt.subplots(
            4, 1, figsize=(11, 15), gridspec_kw={"height_ratios": [3, 2, 2, 2]})
        colours = {"stdlib": "tab:blue", "gcx": "tab:orange"}
        markers = {0: "o", 1: "^", 2: "s"}
        everything: List[Tuple[str, List[float]]] = []
        drawn: List[str] = []
        end = 0.0
        for collector in COLLECTORS:
            order = sorted(range(len(self.runs[collector])),
                           key=lambda i: self.runs[collector][i]["wall"])
            index = order[len(order) // 2]
            run = self.runs[collector][index]
            drawn.append(f"{COLUMNS[collector]} run {index + 1} of {len(order)}")
            end = max(end, run["wall"])
            few = len(run["durations"]) < 200
            for generation, marker in markers.items():
                points = [(s, d * 1e3) for s, d, g in zip(run["starts"], run["durations"],
                                                         run["generations"])
                          if g == generation]
                if points:
                    xs, ys = zip(*points)
                    size = (40 if few else 14) * (1 if generation == 0 else 2)
                    timeline.scatter(xs, ys, s=size, marker=marker,
                                     color=colours[collector], alpha=0.6,
                                     label=f"{COLUMNS[collector]}, generation {generation}")
            everything.append((collector, [d * 1e3 for d in run["durations"] if d > 0]))
            memory = run.get("memory")
            if memory:
                label = f"{COLUMNS[collector]} ({len(memory['t'])} samples)"
                points = [(t, r / 1e6) for t, r in zip(memory["t"], memory["rss"])
                          if r is not None]
                if points:
                    xs, ys = zip(*points)
                    rss.plot(xs, ys, color=colours[collector], marker=".", label=label)
                objects.plot(memory["t"], memory["objects"], color=colours[collector],
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
            for collector, vs in everything:
                histogram.hist(vs, bins=bins, histtype="step", linewidth=1.5,
                               color=colours[collector],
                               label=f"{COLUMNS[collector]} ({len(vs)} pauses)")
            histogram.set_xscale("log")
            histogram.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        histogram.set_xlabel("pause (ms)")
        histogram.set_ylabel("collections")
        histogram.yaxis.set_major_locator(MaxNLocator(integer=True))
        histogram.set_title("pause times")
        fig.tight_layout()
        fig.savefig(path, dpi=100, bbox_inches="tight")
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


def compare(program: Program, repeat: int = DEFAULT_REPEAT, progress: bool = True,
            timeout: Optional[float] = None, memory: bool = False) -> Comparison:
    """Run ``program`` ``repeat`` times under each collector, alternating;
    returns a Comparison.  memory: sample RSS and tracked objects over each
    run (for the plot)."""
    runs: Dict[str, List[Run]] = {c: [] for c in COLLECTORS}
    reporter = _Progress(sys.stderr, progress)
    total = 2 * repeat
    n = 0
    for rep in range(repeat):
        order = COLLECTORS if rep % 2 == 0 else COLLECTORS[::-1]
        for collector in order:
            n += 1
            reporter.start(f"[{n}/{total}] {program.describe()} under {COLUMNS[collector]}")
            result = run_once(program, collector, reporter, timeout, memory)
            reporter.done(f"{result['wall']:.2f} s, {len(result['durations'])} collections"
                          + (f", exit status {result['status']}" if result["status"] else ""))
            runs[collector].append(result)
    return Comparison(program, runs)


def main(program: Program, repeat: Optional[int] = None, json_path: Optional[str] = None,
         csv_path: Optional[str] = None, plot_path: Optional[str] = None,
         progress: bool = True, timeout: Optional[float] = None,
         prog: str = "python -m gcx compare") -> int:
    """The command line's work; returns the exit status (see the module's
    docstring).  Everything that can be checked before the runs is."""
    repeat = DEFAULT_REPEAT if repeat is None else repeat
    if plot_path is not None and not plot_available():
        print(f"{prog}: --plot needs matplotlib, which is not installed here; "
              "install it with: pip install matplotlib (or pip install '.[plot]' "
              "in gcx's checkout)", file=sys.stderr)
        return 2
    errors = [output_error(path, option) for option, path in
              (("--json", json_path), ("--csv", csv_path), ("--plot", plot_path))]
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
        result = compare(program, repeat, progress, timeout, memory=plot_path is not None)
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
    statuses = {s for c in COLLECTORS for s in (r["status"] for r in result.runs[c])}
    return 0 if statuses == {0} else 1
