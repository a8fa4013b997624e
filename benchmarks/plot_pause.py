"""Plots of what bench_pause.py --save wrote: per program, the pauses and
the memory over time under the stdlib collector, gcx's default policy and
gcx.PauseBudget(ms=1.0).

    python benchmarks/plot_pause.py FILE.json DIR

DIR/pauses_PROGRAM.png   how many pauses per run lasted longer than x
                         (every run of a configuration pooled, divided by
                         the runs; log-log), with the budget (1 ms) and the
                         target (2 ms) marked
DIR/memory_PROGRAM.png   RSS over time, and under gcx the records it tracks
                         (live plus garbage not yet collected), of each
                         configuration's median run by whole-program time
Needs matplotlib.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

Runs = dict[str, list[dict[str, Any]]]        # configuration: its runs

COLORS = {"stdlib": "#555555", "gcx": "#1f77b4", "budget": "#e6550d"}
LABELS = {"stdlib": "stdlib gc", "gcx": "gcx default", "budget": "gcx PauseBudget(ms=1.0)"}
TITLES = {"heap": "a live heap with cycle churn", "demo": "the bundled demo (gcx/_demo.py)",
          "http": "an HTTP client loop (http.client, http.server)"}


def title(what: str, program: str, saved: dict[str, Any]) -> str:
    return "%s: %s\n(%s; size %s, %d runs each)" % (
        what, TITLES.get(program, program), saved.get("args", {}).get(program, ""),
        saved["size"], len(next(iter(saved["runs"][program].values()))))


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: r["total"])[len(runs) // 2]


def plot_pauses(plt: Any, program: str, runs: Runs, path: str, saved: dict[str, Any]) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=80)
    for config, rs in runs.items():
        durations = sorted(p[1] * 1e3 for r in rs for p in r["pauses"])
        if not durations:
            continue
        n = len(durations)
        # pauses per run longer than x: a step down at each duration
        ys = [(n - i) / len(rs) for i in range(n)]
        ax.step(durations, ys, where="post", color=COLORS[config], label=LABELS[config])
    ax.axvline(1.0, color="#e6550d", lw=0.8, ls=":")
    ax.axvline(2.0, color="k", lw=0.8, ls=":")
    ax.text(2.0, 1.0, " 2 ms target", fontsize=7, va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("pause (ms, by the %s clock)" % saved.get("clock", "wall"))
    ax.set_ylabel("pauses longer than x, per run")
    ax.set_title(title("Pauses", program, saved), fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    ax.grid(True, which="major", lw=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_memory(plt: Any, program: str, runs: Runs, path: str, saved: dict[str, Any]) -> None:
    held = any(len(s) > 3 and s[3] is not None for rs in runs.values() for r in rs
               for s in r["samples"])
    fig, axes = plt.subplots(3 if held else 2, 1, figsize=(6.4, 6.4 if held else 4.8), dpi=80,
                             sharex=True)
    top, bottom = axes[0], axes[1]
    for config, rs in runs.items():
        r = median_run(rs)
        t = [s[0] for s in r["samples"]]
        top.plot(t, [s[1] / 2**20 for s in r["samples"]], color=COLORS[config],
                 label=LABELS[config], lw=1)
        if r["samples"] and r["samples"][0][2] is not None:
            bottom.plot(t, [s[2] / 1e6 for s in r["samples"]], color=COLORS[config],
                        label=LABELS[config], lw=1)
        if held:
            axes[2].plot(t, [s[3] for s in r["samples"]], color=COLORS[config],
                         label=LABELS[config], lw=1)
    top.set_ylabel("RSS (MB)")
    top.set_title(title("Memory", program, saved), fontsize=8)
    top.legend(fontsize=7, frameon=False, loc="lower right")
    bottom.set_ylabel("gcx records (M)")
    bottom.text(0.01, 0.04, "records gcx tracks: live + garbage not yet collected "
                "(the stdlib offers no cheap count)", transform=bottom.transAxes, fontsize=7)
    if held:
        axes[2].set_ylabel("garbage responses")
        axes[2].text(0.01, 0.85, "responses dead and not yet freed (the program's count, "
                     "by weakref callbacks)", transform=axes[2].transAxes, fontsize=7)
    axes[-1].set_xlabel("time since the program started (s); the median run of each")
    for ax in axes:
        ax.grid(True, lw=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot(saved: dict[str, Any], directory: str) -> list[str]:
    """Draw every program's two plots into directory; their paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(directory, exist_ok=True)
    out = []
    for program, runs in saved["runs"].items():
        for kind, draw in (("pauses", plot_pauses), ("memory", plot_memory)):
            path = os.path.join(directory, "%s_%s.png" % (kind, program))
            draw(plt, program, runs, path, saved)
            out.append(path)
    return out


def main() -> None:
    if len(sys.argv) != 3:
        print("usage: plot_pause.py FILE.json DIR", file=sys.stderr)
        sys.exit(2)
    try:
        with open(sys.argv[1]) as f:
            saved = json.load(f)
        import matplotlib  # noqa: F401
    except (OSError, ValueError, ImportError) as e:
        print("plot_pause.py: %s" % e, file=sys.stderr)
        sys.exit(2)
    if not isinstance(saved, dict) or not isinstance(saved.get("runs"), dict):
        print("plot_pause.py: %s is not what bench_pause.py --save writes" % sys.argv[1],
              file=sys.stderr)
        sys.exit(2)
    for path in plot(saved, sys.argv[2]):
        print(path)


if __name__ == "__main__":
    main()
