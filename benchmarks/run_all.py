"""Run every gcx benchmark, each in its own fresh interpreter, and print one
table per benchmark (or, with --json, one JSON list of their reports).

    python benchmarks/run_all.py [--size small|default] [--json]
                                 [--clock wall|cpu] [--only NAME ...]
                                 [--markdown FILE]
    python -m benchmarks.run_all ...      (the same)

Exit status: 0 when every benchmark ran and passed its checks, 1 when one
failed (the others still run), 3 when the build was refused (a debug
interpreter or a debug/ASan gcx: nothing is run).
"""
import argparse
import json
import os
import subprocess
import sys
import time

if __package__:
    from . import harness
else:
    import harness

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = ["live_heap", "garbage", "young", "app", "programs", "suite", "tracking", "census",
           "monitor", "import", "fork", "policy_serve", "policy_alloc", "policy_memory",
           "policy_idle", "pause", "threads"]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=harness.SIZES, default="default")
    p.add_argument("--json", action="store_true", help="print one JSON list of all reports")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    p.add_argument("--reps", type=int, default=None)
    p.add_argument("--only", nargs="+", choices=BENCHES, default=BENCHES,
                   help="run only these benchmarks")
    p.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown")
    args = p.parse_args()

    reports, failed = [], []
    started = time.perf_counter()
    for name in args.only:
        cmd = [sys.executable, os.path.join(HERE, "bench_%s.py" % name), "--size", args.size,
               "--clock", args.clock, "--json"]
        if args.reps is not None:
            cmd += ["--reps", str(args.reps)]
        t0 = time.perf_counter()
        # stderr (progress, failures) goes straight through
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if proc.returncode == harness.EXIT_REFUSED:
            sys.exit(harness.EXIT_REFUSED)
        if proc.returncode != 0:
            failed.append(name)
            continue
        reports.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print("  %s: %.1f s" % (name, time.perf_counter() - t0), file=sys.stderr, flush=True)

    if args.json:
        print(json.dumps(reports))
    else:
        print(harness.render_text(reports))
    if args.markdown:
        with open(args.markdown, "w") as f:
            if reports:
                f.write(harness.describe_env(reports[0]["env"]) + "\n\n")
            f.write(harness.render_markdown(reports))
    print("run_all: %d benchmarks in %.1f s%s" % (
        len(reports), time.perf_counter() - started,
        "; FAILED: " + ", ".join(failed) if failed else ""), file=sys.stderr)
    sys.exit(harness.EXIT_FAILED if failed else 0)


if __name__ == "__main__":
    main()
