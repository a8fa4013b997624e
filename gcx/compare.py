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

The stdlib run never imports gcx, so it pays nothing for it.  The child is
started with ``python -P -c`` (so the current directory is not on its
sys.path: a gcx/ source tree there cannot hide the installed gcx) and runs
code that imports only the stdlib, and gcx in gcx runs; then the program
runs as ``python SCRIPT`` / ``python -m MODULE`` would run it (the script's
directory, or for a module the current directory, first on sys.path), with
its standard output sent to this process's standard error so the table
alone goes to standard output, and nothing on its standard input.

Exit status of main(): 0 when every run of the program exited 0; 1 when the
comparison was made but some run exited otherwise (the table warns), or a
run crashed or timed out; 2 when the program could not be run at all (no
such script or module, an output file that cannot be written, gcx not
importable in the child); 130 when interrupted.
"""

import json
import math
import os
import platform
import site
import statistics
import subprocess
import sys
import tempfile
import time

COLLECTORS = ("stdlib", "gcx")
COLUMNS = {"stdlib": "stdlib gc", "gcx": "gcx"}
LABEL_WIDTH = 38
COLUMN_WIDTH = 13
DEFAULT_REPEAT = 3
DISAGREEMENT = 0.10     # wall and CPU time ratios further apart than this: warn
DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_demo.py")


class CompareError(Exception):
    """A run did not produce its measurements."""


class CannotRun(CompareError):
    """The program could not be started at all (exit status 2)."""


def script_error(path):
    """What ``python PATH`` would say instead of running it (None if it can
    run): a missing file, or a directory or zip file without __main__."""
    if not os.path.exists(path):
        return (f"can't open file {os.path.abspath(path)!r}: "
                "No such file or directory")
    import pkgutil
    try:
        importer = pkgutil.get_importer(path)
        if importer is not None and importer.find_spec("__main__") is None:
            return f"can't find '__main__' module in {path!r}"
    except Exception:          # not for us to judge: python will say
        pass
    return None


def output_error(path, option):
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
# The child: what runs in each fresh interpreter.  Only the stdlib is
# imported here before the program, and gcx only in gcx runs.

_CHILD = r'''
import sys, time
_perf_counter = time.perf_counter
_t0 = _perf_counter()
_c0 = time.process_time()

def _gcx_compare_child():
    import array, json, runpy
    collector, result_path, kind, target, path0, *args = sys.argv[1:]
    info = {"collector": collector}

    def cannot_run(message):
        with open(result_path, "w") as f:
            json.dump({"collector": collector, "error": message}, f)
        return 2

    if collector == "gcx":
        try:
            import gcx
        except ImportError as exc:
            return cannot_run(f"gcx cannot be imported in the child interpreter "
                              f"({sys.executable} -P): {exc}")
        gcx.install()
        callbacks = gcx.callbacks
        info.update(gcx_version=gcx.__version__, gcx_mode=gcx.mode(),
                    gcx_file=gcx._gcx.__file__)
    else:
        import gc
        # start where gcx starts: its import adopts everything alive into
        # its oldest generation, with nothing young and nothing counted, so
        # the start-up's garbage (the interpreter's, this harness's) is
        # collected here, before anything is measured, not during the program
        gc.collect()
        callbacks = gc.callbacks
    starts, durations = array.array("d"), array.array("d")
    generations, collected, uncollectable = (array.array("b"), array.array("q"),
                                             array.array("q"))
    began = [0.0]

    def on_collection(phase, stats, clock=_perf_counter, t0=_t0):
        if phase == "start":
            began[0] = clock()
        else:
            end = clock()
            starts.append(began[0] - t0)
            durations.append(end - began[0])
            generations.append(stats["generation"])
            collected.append(stats["collected"])
            uncollectable.append(stats["uncollectable"])

    class CannotRun(Exception):
        pass

    # as python SCRIPT / python -m MODULE: the script's directory or the
    # current directory (the parent's choice; none under -P), after gcx
    if path0:
        sys.path.insert(0, path0)
    callbacks.append(on_collection)
    status = 0
    sys.argv[:] = [target, *args]
    try:
        if kind == "module":
            try:
                # runpy's own search, with python -m's messages
                runpy._get_module_details(target, CannotRun)
            except CannotRun as exc:
                return cannot_run(str(exc))
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code
        else:
            print(code, file=sys.stderr)
            status = 1
    except BaseException as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename in (
                "<string>", runpy.__file__, "<frozen runpy>"):
            tb = tb.tb_next
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        status = 1
    wall = _perf_counter() - _t0
    cpu = time.process_time() - _c0
    try:
        callbacks.remove(on_collection)
    except ValueError:
        pass
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info.update(status=status, wall=wall, cpu=cpu,
                rss=rss * (1 if sys.platform == "darwin" else 1024),
                starts=starts.tolist(), durations=durations.tolist(),
                generations=generations.tolist(), collected=collected.tolist(),
                uncollectable=uncollectable.tolist())
    with open(result_path, "w") as f:
        json.dump(info, f)
    return status

_status = _gcx_compare_child()
del _gcx_compare_child
sys.exit(_status)
'''


# ------------------------------------------------------------------------------
# Running the children.

class Program:
    """What to run: kind is "demo", "script" or "module"."""

    def __init__(self, kind, target, args):
        self.kind, self.target, self.args = kind, target, list(args)

    @classmethod
    def demo(cls, scale=1.0):
        return cls("demo", DEMO, ["--scale", repr(float(scale))])

    def describe(self):
        if self.kind == "demo":
            scale = float(self.args[1])
            return "the bundled demo workload" + (f" (scale {scale:g})" if scale != 1 else "")
        words = (["-m"] if self.kind == "module" else []) + [self.target] + self.args
        return "python " + " ".join(words)


def _child_env():
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

    def __init__(self, stream, enabled=True):
        self.stream = stream
        self.enabled = enabled and stream is not None
        self.tty = self.enabled and getattr(stream, "isatty", lambda: False)()
        self.last = 0.0

    def start(self, text):
        self.text = text
        self.began = time.monotonic()
        self.last = self.began
        if self.enabled:
            self.stream.write(f"gcx compare: {text} ...")
            self.stream.write("" if self.tty else "\n")
            self.stream.flush()

    def tick(self):
        if not self.enabled:
            return
        now = time.monotonic()
        elapsed = now - self.began
        if self.tty:
            self.stream.write(f"\rgcx compare: {self.text} ... {elapsed:.0f} s")
            self.stream.flush()
        elif now - self.last >= 10:
            self.last = now
            self.stream.write(f"gcx compare:   still running ({elapsed:.0f} s)\n")
            self.stream.flush()

    def done(self, text):
        if self.enabled:
            prefix = f"\rgcx compare: {self.text} ... " if self.tty else "gcx compare:   "
            self.stream.write(f"{prefix}{text}\n")
            self.stream.flush()


def _stderr_fd():
    """Where a child's standard output goes: our standard error."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        return 2


_FIND_MODULE = r'''
import runpy, sys
class CannotRun(Exception):
    pass
if sys.argv[2]:
    sys.path.insert(0, sys.argv[2])
try:
    runpy._get_module_details(sys.argv[1], CannotRun)
except CannotRun as exc:
    print(exc)
    sys.exit(2)
except BaseException:
    pass            # the program's own failure: the run will show it
'''


def _path0(program):
    """The first entry of the program's sys.path, as python would make it
    (none under -P, like the caller's)."""
    if sys.flags.safe_path or program.kind == "demo":
        return ""
    if program.kind == "module":
        return os.getcwd()
    return os.path.dirname(os.path.realpath(program.target))


def module_error(program):
    """What ``python -m MODULE`` would say instead of running the module
    (None if it can run), found out in a fresh interpreter set up as the
    runs will be (finding a module imports its parent packages)."""
    if program.kind != "module":
        return None
    proc = subprocess.run([sys.executable, "-P", "-c", _FIND_MODULE, program.target,
                           _path0(program)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=_child_env())
    if proc.returncode == 2 and proc.stdout.strip():
        return proc.stdout.strip()
    return None


def run_once(program, collector, progress=None, timeout=None):
    """Run the program once in a fresh interpreter under ``collector``
    ("stdlib" or "gcx"); returns the child's measurements (a dict)."""
    fd, result_path = tempfile.mkstemp(prefix="gcx-compare-", suffix=".json")
    os.close(fd)
    try:
        # -P: the current directory is not on the child's sys.path, where a
        # gcx/ source tree would hide the installed gcx; the program's own
        # first entry (path0) goes in after gcx is imported
        path0 = _path0(program)
        command = [sys.executable, "-P", "-c", _CHILD, collector, result_path,
                   program.kind, program.target, path0, *program.args]
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
            result = json.loads(text) if text else None
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

def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list (None if empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(run):
    """The numbers the table shows, for one run (times in seconds)."""
    durations = run["durations"]
    total = sum(durations)
    s = {
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
            s[f"{name}_p{q}"] = percentile(pauses, q)
        s[f"{name}_max"] = pauses[-1] if pauses else None
    return s


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ------------------------------------------------------------------------------
# The table: (label, key, unit, scale, format, ratio?).  The same rows go to
# --json and --csv.

def _rows():
    rows = [
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

    def __init__(self, program, runs):
        self.program = program
        self.runs = runs                      # collector -> [raw child results]
        self.summaries = {c: [summarize(r) for r in runs[c]] for c in COLLECTORS}
        self.medians = {c: {key: _median([s[key] for s in self.summaries[c]])
                            for key in self.summaries[c][0]} for c in COLLECTORS}

    @property
    def repeat(self):
        return len(self.runs["stdlib"])

    def rows(self):
        """[{"metric", "unit", "stdlib", "gcx", "ratio", "ratio_min",
        "ratio_max"}], values scaled to the unit (medians over the runs);
        ratio is gcx's median over the stdlib's, ratio_min and ratio_max
        the range of gcx/stdlib over the pairs of runs (run i of each)."""
        out = []
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

    def warnings(self):
        """What the reader must know before trusting the table, one line each."""
        out = []
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

    def environment(self):
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

    def as_dict(self):
        return {
            "program": {"kind": self.program.kind, "target": self.program.target,
                        "args": self.program.args,
                        "description": self.program.describe()},
            "repeat": self.repeat,
            "environment": self.environment(),
            "rows": [{k: v for k, v in row.items() if k != "key"} for row in self.rows()],
            "warnings": self.warnings(),
            "runs": self.summaries,
        }

    # -- output ----------------------------------------------------------------

    def table(self):
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

    def _empty_generations(self):
        return [name for name in ("gen0", "gen1", "gen2", "all")
                if not self.medians["stdlib"][f"{name}_count"]
                and not self.medians["gcx"][f"{name}_count"]]

    def csv(self):
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

    def json(self):
        return json.dumps(self.as_dict(), indent=2)

    def plot(self, path):
        """A pause timeline and a pause histogram of both collectors (the run
        with the median wall time of each, which the titles name)."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
        fig, (timeline, histogram) = plt.subplots(2, 1, figsize=(11, 8))
        colours = {"stdlib": "tab:blue", "gcx": "tab:orange"}
        markers = {0: "o", 1: "^", 2: "s"}
        everything = []
        drawn = []
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


def _label(row):
    key = row["key"]
    for name, title in (("gen0", "generation 0"), ("gen1", "generation 1"),
                        ("gen2", "generation 2"), ("all", "all")):
        if key == f"{name}_count":
            return f"{title} pauses"
        if key.startswith(name + "_"):
            return f"  {key.split('_', 1)[1]} ({row['unit']})"
    unit = row["unit"]
    if unit in ("", "%", "objects"):
        return row["metric"]
    return f"{row['metric']} ({unit})"


def _format(value, fmt):
    if value is None:
        return "-"
    return fmt.format(value)


def _plain(value):
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _cells(label, *values):
    cells = "".join(f"{value:>{COLUMN_WIDTH}}" for value in values)
    return f"{label:<{LABEL_WIDTH}}{cells}".rstrip()


# ------------------------------------------------------------------------------
# The command.

def plot_available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def compare(program, repeat=DEFAULT_REPEAT, progress=True, timeout=None):
    """Run ``program`` ``repeat`` times under each collector, alternating;
    returns a Comparison."""
    runs = {c: [] for c in COLLECTORS}
    reporter = _Progress(sys.stderr, progress)
    total = 2 * repeat
    n = 0
    for rep in range(repeat):
        order = COLLECTORS if rep % 2 == 0 else COLLECTORS[::-1]
        for collector in order:
            n += 1
            reporter.start(f"[{n}/{total}] {program.describe()} under {COLUMNS[collector]}")
            result = run_once(program, collector, reporter, timeout)
            reporter.done(f"{result['wall']:.2f} s, {len(result['durations'])} collections"
                          + (f", exit status {result['status']}" if result["status"] else ""))
            runs[collector].append(result)
    return Comparison(program, runs)


def main(program, repeat=None, json_path=None, csv_path=None, plot_path=None,
         progress=True, timeout=None, prog="python -m gcx compare"):
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
        errors.append(script_error(program.target))
    elif program.kind == "module":
        errors.append(module_error(program))
    for error in errors:
        if error is not None:
            print(f"{prog}: {error}", file=sys.stderr)
            return 2
    try:
        result = compare(program, repeat, progress, timeout)
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
