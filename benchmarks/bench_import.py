"""What ``import gcx; gcx.install()`` costs a program that starts fresh.

Programs that install gcx often run as many short processes, each paying for
gcx's import.  Fresh interpreters run, alternately, in the same order each
round:

  bare      python -c "pass"
  install   python -c "import gcx; gcx.install()"
  core      python -c "<a bare package object named gcx>; import gcx._gcx":
            the C core alone (its module init with its self-tests, and the
            modules it imports), without gcx/__init__.py

  python    the core as above, then ``import gcx; gcx.install()`` timed by
            the program itself (perf_counter and thread_time): gcx's Python
            code alone, without interpreter startup or the core's init

Reported: each process's wall time (spawn to exit, so interpreter startup is
in both sides; the difference of the medians is gcx's cost), its CPU time
(user + system, from wait4: steadier than wall time on a busy machine),
and, in separate runs of the same programs followed by a read of
/proc/self/status, its peak RSS (VmHWM: the exec'd program's own high-water
mark; ru_maxrss would also count the spawning process's memory, which a
child has before exec).  Notes list the modules ``import gcx;
gcx.install()`` adds to a bare interpreter's, and the largest median self
times of ``-X importtime`` over the same number of runs.

Checks: every child exits 0; a first run checks that the children import
the gcx this process imports, installed.
"""
import ast
import os
import statistics
import subprocess
import sys
import tempfile

if __package__:
    from . import harness
else:
    import harness

PROGRAMS = {
    "bare": "pass",
    "install": "import gcx; gcx.install()",
    "core": ("import sys; p = type(sys)('gcx'); p.__path__ = [sys.argv[1]]; "
             "sys.modules['gcx'] = p; import gcx._gcx"),
}
# The core loaded as in "core", then the package whose core it is.
PYTHON_PART = (PROGRAMS["core"] + "; del sys.modules['gcx']; import time; "
               "t = time.perf_counter(); c = time.thread_time(); import gcx; gcx.install(); "
               "print(time.perf_counter() - t, time.thread_time() - c)")


# Appended to a program to have it print its peak RSS (kB) last.
PRINT_PEAK = ("\nfor line in open('/proc/self/status'):\n"
              "    if line.startswith('VmHWM:'): print(line.split()[1])")


def spawn(argv, cwd, stderr=False, stdout=False):
    """Run argv; return (wall seconds, CPU seconds, stderr or stdout text or None)."""
    if stderr or stdout:
        r, w = os.pipe()
        fa = [(os.POSIX_SPAWN_DUP2, w, 2 if stderr else 1), (os.POSIX_SPAWN_CLOSE, w)]
    else:
        r = w = None
        fa = []
    t0 = harness.perf_counter()
    cwd_before = os.getcwd()
    os.chdir(cwd)
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=fa)
    finally:
        os.chdir(cwd_before)
    text = None
    if w is not None:
        os.close(w)
        with os.fdopen(r, "r") as f:
            text = f.read()
    _, status, usage = os.wait4(pid, 0)
    wall = harness.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise harness.BenchmarkError("%s exited with status %d"
                                     % (argv, os.waitstatus_to_exitcode(status)))
    return wall, usage.ru_utime + usage.ru_stime, text


def peak_rss(code, cwd, package_dir):
    """The peak RSS in bytes of a fresh ``python -c code``."""
    _, _, text = spawn([sys.executable, "-c", code + PRINT_PEAK, package_dir], cwd, stdout=True)
    return int(text.split()[-1]) * 1024


def modules_of(code, cwd, package_dir):
    out = subprocess.run([sys.executable, "-c", code + "; import sys; print(sorted(sys.modules))",
                          package_dir], cwd=cwd, capture_output=True, text=True, check=True)
    return set(ast.literal_eval(out.stdout.strip().splitlines()[-1]))


def importtime_self(lines):
    """{module: self µs} of one -X importtime stderr."""
    times = {}
    for line in lines.splitlines():
        if line.startswith("import time:") and "|" in line:
            fields = line[len("import time:"):].split("|")
            if fields[0].strip().isdigit():
                times[fields[2].strip()] = int(fields[0])
    return times


def run(args, report):
    if not os.path.exists("/proc/self/status"):
        raise harness.BenchmarkError("peak RSS is read from /proc/self/status, absent here")
    reps = harness.reps_for(args, small=5, default=20)
    gcx = harness._gcx()
    package_dir = os.path.dirname(gcx.__file__)
    with tempfile.TemporaryDirectory() as cwd:     # no gcx/ source tree on sys.path
        theirs = subprocess.run([sys.executable, "-c", "import gcx; print(gcx._gcx.__file__)"],
                                cwd=cwd, capture_output=True, text=True, check=True).stdout
        harness.check_same_gcx({"gcx_file": theirs.strip()})

        samples = {name: ([], [], []) for name in PROGRAMS}
        python_part = []
        harness.progress("%d rounds of %s and python, plus one warm-up"
                         % (reps, ", ".join(PROGRAMS)))
        for rnd in range(reps + 1):
            for name, code in PROGRAMS.items():
                wall, cpu, _ = spawn([sys.executable, "-c", code, package_dir], cwd)
                rss = peak_rss(code, cwd, package_dir)
                if rnd:
                    for i, value in enumerate((wall, cpu, rss)):
                        samples[name][i].append(value)
            _, _, text = spawn([sys.executable, "-c", PYTHON_PART, package_dir], cwd, stdout=True)
            if rnd:
                python_part.append([float(x) for x in text.split()])

        self_times = {}
        for _ in range(reps):
            _, _, text = spawn([sys.executable, "-X", "importtime", "-c", PROGRAMS["install"]],
                               cwd, stderr=True)
            for module, us in importtime_self(text).items():
                self_times.setdefault(module, []).append(us)
        bare_modules = modules_of("pass", cwd, package_dir)
        added = sorted(m for m in modules_of(PROGRAMS["install"], cwd, package_dir) - bare_modules)

    for name in ("install", "core"):
        for metric, index, unit, scale in (("wall", 0, "ms", 1e3), ("cpu time", 1, "ms", 1e3),
                                           ("peak RSS", 2, "MB", 2**-20)):
            base, ours = samples["bare"][index], samples[name][index]
            report.add(harness.Comparison(PROGRAMS[name] if name == "install" else
                                          "import gcx._gcx alone", metric, unit, scale,
                                          base, ours))
            report.summary["%s: %s added (difference of medians, %s)" % (name, metric, unit)] = (
                (statistics.median(ours) - statistics.median(base)) * scale)
    for metric, index in (("wall, in process", 0), ("thread time, in process", 1)):
        report.add(harness.Comparison("gcx's Python code (core loaded first)", metric, "ms", 1e3,
                                      None, [sample[index] for sample in python_part]))
    gcx_modules = [m for m in self_times if m == "gcx" or m.startswith("gcx.")]
    top = sorted(((statistics.median(v), m) for m, v in self_times.items()
                  if m in added or m in gcx_modules), reverse=True)
    report.notes.append("modules import gcx; gcx.install() adds to a bare interpreter's (%d): %s"
                        % (len(added), ", ".join(added)))
    report.notes.append("median -X importtime self time of those, largest first (µs): "
                        + ", ".join("%s %d" % (m, t) for t, m in top[:12]))


if __name__ == "__main__":
    harness.main("import", __doc__, run, base_label="bare")
