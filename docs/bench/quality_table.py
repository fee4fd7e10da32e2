"""Joins bench-quality's rows with bench-load's throughput (same run, same machine) into OUT/table.md and
a chart of accuracy against throughput gain (OUT/pareto.png). Usage: quality_table.py OUT"""
import csv
import glob
import json
import os
import sys

out = sys.argv[1]
quality = json.load(open(os.path.join(out, "quality.json")))
rows = quality["rows"]

throughput = {}  # (row name, concurrency) -> tokens/s
for path in glob.glob(os.path.join(out, "load-*.csv")):
    prune = os.path.basename(path)[len("load-prune-"):-len(".csv")] if "prune" in path else None
    for r in csv.DictReader(open(path)):
        name = f"prune:{prune}" if prune else r["policy"]
        throughput[(name, int(r["concurrency"]))] = float(r["throughput_tok_s"])
full_name = next(r["row"] for r in rows if r["policy"] == "full" and r["prune_experts"] is None)


def gain(name, c):
    base = throughput.get((full_name, c)) or throughput.get(("full", c))
    value = throughput.get((name, c))
    return None if value is None or not base else value / base - 1


tasks = list(rows[0]["tasks"])
# the tasks the full model has learnt (at least half right): a mean over tasks every row gets wrong
# hides the differences between rows
full_row = next(r for r in rows if r["row"] == full_name)
learnt = [t for t in tasks if full_row["tasks"][t]["accuracy"] >= 0.5] or tasks
header = ["row", "experts/token"] + tasks + ["mean", "mean learnt", "ppl", "KL", "top-1", "tok/s C=1", "gain C=1", "tok/s C=16", "gain C=16"]
lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
points = []
for r in rows:
    accs = [r["tasks"][t]["accuracy"] for t in tasks]
    mean = sum(accs) / len(accs)
    mean_learnt = sum(r["tasks"][t]["accuracy"] for t in learnt) / len(learnt)
    g1, g16 = gain(r["row"], 1), gain(r["row"], 16)
    t1, t16 = throughput.get((r["row"], 1)), throughput.get((r["row"], 16))
    fmt = lambda v, f: "-" if v is None else format(v, f)
    lines.append("| " + " | ".join([
        r["row"], f"{r['experts_per_token']:.2f}", *[f"{a:.3f}" for a in accs], f"{mean:.3f}", f"{mean_learnt:.3f}",
        fmt(r["ppl"], ".2f"), fmt(r["kl_mean"], ".4f"), fmt(r["top1_agreement"], ".3f"),
        fmt(t1, ".0f"), fmt(g1, "+.1%"), fmt(t16, ".0f"), fmt(g16, "+.1%")]) + " |")
    points.append((r["row"], mean_learnt, g16, r["experts_per_token"]))
with open(os.path.join(out, "table.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(8, 5))
kinds = {"fixed": "o", "full": "*", "schedule": "s", "threshold": "^", "batch": "v", "prune": "x", "adaptive": "D"}
for kind, marker in kinds.items():
    sel = [p for p in points if p[0].split(":")[0] == kind and p[2] is not None]
    if sel:
        ax.scatter([100 * p[2] for p in sel], [p[1] for p in sel], marker=marker, s=60 if kind != "full" else 160,
                   label=kind)
        for p in sel:
            ax.annotate(p[0], (100 * p[2], p[1]), fontsize=7, xytext=(3, 3), textcoords="offset points")
front = []
for p in sorted((p for p in points if p[2] is not None), key=lambda p: -p[2]):
    if not front or p[1] > front[-1][1]:
        front.append(p)
ax.plot([100 * p[2] for p in front], [p[1] for p in front], "k--", lw=0.8, label="Pareto front")
ax.set_xlabel("throughput gain over the full model at C=16 (%)")
ax.set_ylabel("mean exact match, learnt tasks")
ax.text(0.99, 0.01, "learnt tasks (full model >= 0.5): " + ", ".join(learnt), transform=ax.transAxes, ha="right",
        va="bottom", fontsize=7)
ax.set_title(os.path.basename(quality.get("model", out.rstrip("/"))) + ": accuracy against throughput")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(os.path.join(out, "pareto.png"), dpi=90)
