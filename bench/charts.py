#!/usr/bin/python3
"""SVG charts of a bench run: bench/charts.py OUTDIR.

Reads OUTDIR/results.json (the watchers, bench/bench.py) and
OUTDIR/frameworks.json (save -> new code served, bench/frameworks.py),
whichever exist, and writes next to them:
  latency.svg     trigger latency per tool (box plot, floors included)
  growth.svg      ready time and peak RSS against directory count (log-log,
                  one line per tool, the floors dashed)
  frameworks.svg  save -> new code served per framework, py-mon beside the
                  framework's reloader (box plot)
Each chart's title carries the date, commit and machine of its run.
Needs matplotlib (Debian: python3-matplotlib); without it, prints one note
and exits 0, so the bench goes on without charts.
"""

import json
import os
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print(f"no charts: matplotlib is not importable by {sys.executable} (Debian: apt-get install python3-matplotlib)")
    sys.exit(0)

matplotlib.rcParams.update({"svg.hashsalt": "py-mon-bench", "font.size": 9})


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def caption(R):
    m = R["machine"]
    return f"{R['date']} · py-mon {m['commit']} · {m['nproc']} cores, {m['cpu']} · Linux {m['kernel']}"


def ok(r):
    return isinstance(r, dict) and "failed" not in r and "na" not in r and "missing" not in r


def latency(R, out):
    data, labels = [], []
    for mode, label in (("posix_spawn", "floor: posix_spawn"), ("fork_exec", "floor: fork+exec"), ("sh_c", "floor: sh -c")):
        r = R.get("spawn_floor", {}).get(mode)
        if ok(r) and r.get("raw_ns"):
            data.append([v / 1e6 for v in r["raw_ns"]])
            labels.append(label)
    for name, r in R.get("latency", {}).items():
        if ok(r) and r.get("raw_ns"):
            data.append([v / 1e6 for v in r["raw_ns"]])
            labels.append(name)
    if not data:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(data) + 1.4))
    ax.boxplot(data[::-1], vert=False, labels=labels[::-1], showfliers=True, widths=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("trigger latency, ms (write+close -> the command's timestamp; log scale)")
    ax.set_title("Trigger latency\n" + caption(R), fontsize=8)
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    path = os.path.join(out, "latency.svg")
    fig.savefig(path)
    plt.close(fig)
    return path


def growth(R, out):
    G = R.get("growth", {})
    if not G:
        return None
    sizes = sorted(G.values(), key=lambda g: g["dirs"])
    tools = []
    for g in sizes:
        for n in g["tools"]:
            if n not in tools:
                tools.append(n)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.2))

    def line(ax, get, name, **kw):
        pts = [(g["dirs"], get(g)) for g in sizes]
        pts = [(x, y) for x, y in pts if y]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name, **kw)

    def med(r, key):
        return r[key]["median"] if ok(r) and r.get(key) else None

    line(a1, lambda g: med(g.get("floor_scan"), "summary"), "floor_scan", linestyle="--", color="black")
    line(a2, lambda g: med(g.get("floor_scan"), "peak"), "floor_scan", linestyle="--", color="black")
    for n in tools:
        dash = dict(linestyle="--") if n == "floor_loop" else {}
        line(a1, lambda g, n=n: med(g["tools"].get(n), "summary"), n, **dash)
        line(a2, lambda g, n=n: med(g["tools"].get(n), "peak"), n, **dash)
    for ax, lab in ((a1, "ready time, s"), (a2, "peak RSS of the process tree, MiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("directories watched")
        ax.set_ylabel(lab)
        ax.grid(which="both", alpha=0.3)
    a1.legend(fontsize=7)
    fig.suptitle("Ready time and memory against tree size (floors dashed)\n" + caption(R), fontsize=8)
    fig.tight_layout()
    path = os.path.join(out, "growth.svg")
    fig.savefig(path)
    plt.close(fig)
    return path


def frameworks(R, out):
    F = {n: f for n, f in R.get("frameworks", {}).items() if ok(f)}
    if not F:
        return None
    widths = [1 + len(f["variants"]) for f in F.values()]
    fig, axes = plt.subplots(1, len(F), figsize=(0.85 * sum(widths) + 1, 4.0), squeeze=False,
                             gridspec_kw=dict(width_ratios=widths))
    for ax, (name, f) in zip(axes[0], F.items()):
        data, labels = [], []
        fl = f.get("floor")
        if ok(fl) and fl.get("served_raw"):
            data.append(fl["served_raw"])
            labels.append("harness\nrestart\n(floor)")
        for vn, r in f["variants"].items():
            if ok(r) and r.get("served_raw"):
                data.append(r["served_raw"])
                lab = vn
                if vn.startswith("reloader"):
                    lab = "reloader:\n" + r.get("reloader", "?").split()[0]
                    if "hidden" in vn:
                        lab += "\n(watchdog\nhidden)"
                labels.append(lab.replace("py-mon ", "py-mon\n"))
        if not data:
            continue
        ax.boxplot(data, labels=labels, widths=0.6)
        ax.set_title(f"{name}\n{f['version']}", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(axis="x", labelsize=7)
    axes[0][0].set_ylabel("save -> new body served, ms")
    fig.suptitle("Save -> new code served: py-mon beside the framework's reloader\n" + caption(R), fontsize=8)
    fig.tight_layout()
    path = os.path.join(out, "frameworks.svg")
    fig.savefig(path)
    plt.close(fig)
    return path


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench/charts.py OUTDIR")
    out = sys.argv[1]
    made = []
    R = load(os.path.join(out, "results.json"))
    if R:
        made += [latency(R, out), growth(R, out)]
    F = load(os.path.join(out, "frameworks.json"))
    if F:
        made.append(frameworks(F, out))
    made = [m for m in made if m]
    print("charts: " + (", ".join(made) if made else "none (no figures to draw)"))


if __name__ == "__main__":
    main()
