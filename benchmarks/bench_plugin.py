"""The pytest plugin's overhead on real test suites: plain pytest against
``pytest --gcx-cycles-report``.

Each suite is a released project's own test suite, from its sdist (pinned
versions, fetched once with pip into the cache directory, with what its
tests import installed beside it by ``pip install --target``).  Each run is
a fresh pytest process (``-q -p no:cacheprovider``), alternately plain and
with the plugin, after one untimed run of each (it writes the assertion
rewriter's bytecode).  Reported per suite: the wall time of the run, its
CPU time (the child's user + system time, steadier on a busy machine), and
their ratios plugin/plain, medians with the spread of the per-repetition
ratios.

Checked in every run: pytest exits 0 and its closing line (passed, skipped,
... counts) is the same in both modes; with the plugin the summary section
is there and says how many collections it ran.  The summary's length in
lines and its number of shape entries are reported too.

    python benchmarks/bench_plugin.py [--suites click jinja2 boltons]
        [--cache DIR] [--reps N] [--clock wall|cpu] [--json]

The interpreter running this must have gcx and pytest installed (the runs
use the pytest script beside it).  --size small runs one test file per
suite (a smoke run).
"""
import dataclasses
import os
import re
import resource
import subprocess
import sys
import tarfile
import time

if __package__:
    from . import harness
else:
    import harness


@dataclasses.dataclass
class Suite:
    project: str                 # on the package index
    version: str
    install: list                # requirements installed beside it, pinned
    small: list                  # the test files of --size small
    tests: tuple = ("tests",)


SUITES = {
    "click": Suite("click", "8.5.1", ["click==8.5.1"], ["tests/test_options.py"]),
    "jinja2": Suite("jinja2", "3.1.6",
                    ["jinja2==3.1.6", "markupsafe==3.0.4", "trio==0.35.0",
                     "attrs==26.1.0", "idna==3.20", "outcome==1.3.0.post0",
                     "sniffio==1.3.1", "sortedcontainers==2.4.0"],
                    ["tests/test_api.py"]),
    # flat layout: its tests import boltons from the unpacked sdist
    "boltons": Suite("boltons", "26.2.0", [], ["tests/test_iterutils.py"]),
    # 765 tests, 21,000 subtests; long (about 40 s a run), not run by default
    "more-itertools": Suite("more-itertools", "11.2.1", [], ["tests/test_recipes.py"]),
}
DEFAULT_SUITES = ["click", "jinja2", "boltons"]
MODES = {"plain": [], "report": ["--gcx-cycles-report"]}
PYTEST = os.path.join(os.path.dirname(sys.executable), "pytest")


def pip(*args):
    proc = subprocess.run([sys.executable, "-m", "pip", "-q", *args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise harness.BenchmarkError("pip %s failed:\n%s" % (" ".join(args),
                                                             proc.stderr[-2000:]))


def prepare(suite, cache):
    """(source directory, PYTHONPATH entry or None) of the suite, fetched
    and installed into ``cache`` the first time."""
    name = "%s-%s" % (suite.project, suite.version)
    root = os.path.join(cache, name)
    site = os.path.join(cache, name + "-site") if suite.install else None
    done = os.path.join(root, ".prepared")
    if not os.path.exists(done):
        harness.progress("fetching %s into %s" % (name, cache))
        downloads = os.path.join(cache, "downloads")
        os.makedirs(downloads, exist_ok=True)
        pip("download", "--no-binary", ":all:", "--no-deps", "-d", downloads,
            "%s==%s" % (suite.project, suite.version))
        project = re.sub(r"[-_.]+", "_", suite.project).lower()
        sdists = [f for f in os.listdir(downloads)
                  if f.endswith(".tar.gz") and f[:-7].rpartition("-")[2] == suite.version
                  and re.sub(r"[-_.]+", "_", f[:-7].rpartition("-")[0]).lower() == project]
        if len(sdists) != 1:
            raise harness.BenchmarkError("no single sdist of %s in %s: %s"
                                         % (name, downloads, sdists))
        with tarfile.open(os.path.join(downloads, sdists[0])) as tar:
            top = tar.getnames()[0].split("/")[0]
            tar.extractall(cache, filter="data")
        if os.path.join(cache, top) != root:
            os.replace(os.path.join(cache, top), root)
        if site is not None:
            pip("install", "--no-deps", "--target", site, *suite.install)
        with open(done, "w") as f:
            f.write("ok\n")
    return root, site


@dataclasses.dataclass
class Run:
    wall: float
    cpu: float
    closing: str          # pytest's closing line, less its duration
    summary: list         # the plugin's summary section's lines ([] when plain)


def run_once(root, site, tests, mode):
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTHONPATH", None)
    if site is not None:
        env["PYTHONPATH"] = site
    cmd = [PYTEST, "-q", "-p", "no:cacheprovider", *MODES[mode], *tests]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                          timeout=3600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or not lines:
        raise harness.BenchmarkError("%s (%s) exited %d:\n%s" % (
            " ".join(cmd), root, proc.returncode, (proc.stdout + proc.stderr)[-3000:]))
    closing = re.sub(r" in [\d.]+s( \([\d:]+\))?$", "", lines[-1].strip("= "))
    summary = []
    if mode != "plain":
        marks = [i for i, line in enumerate(lines) if re.match(r"=+ gcx cycles =+$", line)]
        if not marks:
            raise harness.BenchmarkError("%s: no gcx summary in the output" % root)
        summary = lines[marks[0] + 1:-1]
    return Run(wall, cpu, closing, summary)


def measure(args, report):
    cache = os.path.abspath(os.path.expanduser(args.cache))
    reps = harness.reps_for(args, 5, 5)
    for name in args.suites:
        suite = SUITES[name]
        root, site = prepare(suite, cache)
        tests = suite.small if args.size == "small" else list(suite.tests)
        runs = {mode: [] for mode in MODES}
        for rnd in range(1 + reps):         # round 0: untimed warm-up
            order = list(MODES) if rnd % 2 == 0 else list(reversed(MODES))
            for mode in order:
                run = run_once(root, site, tests, mode)
                if rnd:
                    runs[mode].append(run)
                harness.progress("%s %s: %.2f s wall, %.2f s cpu" % (name, mode, run.wall,
                                                                     run.cpu))
            closings = {runs_[-1].closing for runs_ in runs.values() if runs_}
            if len(closings) > 1:
                raise harness.BenchmarkError("%s: the modes' outcomes differ: %s"
                                             % (name, closings))
        plain, plugin = runs["plain"], runs["report"]
        summary = plugin[-1].summary
        # "checked by N young and M full gcx collections: S s" (since the
        # plugin's young collections; earlier versions do not say)
        checked = [re.match(r"checked by (\d+) young and (\d+) full gcx collections: "
                            r"([\d.]+) s", r.summary[0]) for r in plugin]
        collections = checked[-1]
        detail = {
            "suite": "%s %s" % (suite.project, suite.version),
            "tests": plain[-1].closing,
            "command": "pytest -q -p no:cacheprovider [--gcx-cycles-report] "
                       + " ".join(tests),
            "summary_lines": len(summary),
            "shapes": sum(1 for line in summary if re.match(r"#\d+ ", line)),
            "young_collections": int(collections.group(1)) if collections else None,
            "full_collections": int(collections.group(2)) if collections else None,
            "collection_seconds": sorted(float(m.group(3)) for m in checked)[len(plugin) // 2]
            if all(checked) else None,
        }
        clocks = {"wall": ([r.wall for r in plain], [r.wall for r in plugin]),
                  "cpu": ([r.cpu for r in plain], [r.cpu for r in plugin])}
        primary = harness.CLOCK
        other = "cpu" if primary == "wall" else "wall"
        c = harness.Comparison(name, "run (%s)" % primary, "s", 1.0, *clocks[primary],
                               detail)
        alt = harness.Comparison(name, "run (%s)" % other, "s", 1.0, *clocks[other])
        c.detail["other_clock"] = {"clock": other, "stdlib_median": alt.base.median,
                                   "gcx_median": alt.gcx.median, "ratio": alt.ratio,
                                   "ratio_min": alt.ratio_min, "ratio_max": alt.ratio_max}
        report.add(c)
        note = "%s: %s; summary %d lines" % (detail["suite"], detail["tests"],
                                             detail["summary_lines"])
        if collections:
            note += "; %d shapes; %s young + %s full collections, %.2f s in them (median)" % (
                detail["shapes"], detail["young_collections"],
                detail["full_collections"], detail["collection_seconds"])
        report.notes.append(note)


def configure(p):
    p.add_argument("--suites", nargs="+", choices=list(SUITES), default=DEFAULT_SUITES)
    p.add_argument("--cache", default="~/.cache/gcx/plugin-suites",
                   help="where the suites are fetched and installed (default: %(default)s)")


if __name__ == "__main__":
    harness.main("plugin", __doc__, measure, configure, base_label="plain pytest")
