"""Many models at once: 50 generated data sets through the whole workflow on 2 cores, report included.

    .venv/bin/python benchmarks/many_models.py [--datasets 50] [--genes 20000] [--cores 2] [--seed 0]
        [--out DIR]   (default: a new temporary folder; printed)
    .venv/bin/python benchmarks/many_models.py --partial DIR   (summarise a run stopped early)

1. generates (seeded) `--datasets` `type: matrix` data sets in a temporary folder, each with
   6-20 samples (half resistant, at least 3 per group) over `--genes` real HGNC symbols
   (benchmarks/cohort.py `generate`: every catalogue gene included), with a per-model
   shift of the IGF1R_AXIS and ABC_CORE genes drawn from N(0.4, 0.3^2) log2 units, so
   models differ (heterogeneity) as real ones do; model types cycle 70% chemotherapy,
   20% endocrine, 10% targeted-therapy resistance;
2. runs `snakemake --cores 2` on a copy of the workflow with only these data sets (demo
   defaults otherwise: all six scoring methods, GSEA, QC, hypotheses, meta, report);
3. writes summary.json / summary.md in the output folder and benchmarks/results/many_models.json:
   wall time end to end, per data set, and where it goes, per rule:
   - compute: the library step's own time ("rule X finished in N s" in each rule's log,
     src/igf1r_resistance/workflow/runner.py);
   - job start-up and imports: the job's wall time (its `benchmark:` file, the whole script
     process) minus the step's time;
   - scheduling: what is left of the end-to-end time after the jobs' wall times are
     spread over the cores (Snakemake's DAG building, job submission, file checks).
   Also the bare import time of the library (`python -c "import igf1r_resistance.workflow.steps"`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

from _common import machine, machine_line  # noqa: E402
from cohort import TreeSampler, generate, rule_table  # noqa: E402

MODEL_TYPES = ["chemotherapy resistance"] * 7 + ["endocrine resistance"] * 2 + ["targeted-therapy resistance"]
_FINISHED = re.compile(r"rule (\w+) finished in ([0-9.]+) s")


def make_datasets(data: Path, n_datasets: int, n_genes: int, seed: int) -> dict:
    """Generate the data sets; return the config's `datasets` block."""
    rng = np.random.default_rng(seed)
    datasets = {}
    for i in range(n_datasets):
        name = f"model_{i:02d}"
        n = int(rng.integers(6, 21))
        shift = float(rng.normal(0.4, 0.3))
        matrix, samples = generate(data / name, n, n_genes, shift, seed * 1000 + i)
        datasets[name] = {
            "type": "matrix", "matrix": str(matrix), "samples": str(samples), "log2": "no",
            "drug": "synthetic", "model": f"synthetic model {i} ({n} samples, shift {shift:+.2f})",
            "model_type": MODEL_TYPES[i % len(MODEL_TYPES)],
        }
    return datasets


def step_times(work: Path) -> pd.DataFrame:
    """Per job: the library step's own time from its log."""
    rows = []
    for f in sorted((work / "logs").rglob("*.log")):
        matches = list(_FINISHED.finditer(f.read_text(errors="replace")))
        if matches:
            m = matches[-1]
            job = str(f.relative_to(work / "logs").with_suffix(""))
            rows.append({"job": job, "step_s": float(m.group(2))})
    return pd.DataFrame(rows)


def import_seconds(python: Path) -> float:
    """Wall time of a fresh interpreter importing the library's step module (median of 3)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([str(python), "-c", "import igf1r_resistance.workflow.steps, anndata, scipy.stats"], check=True)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def job_costs(work: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per finished job and per rule: wall (benchmark file), step (log) and start-up + imports."""
    jobs = rule_table(work) if (work / "results/benchmarks").exists() else pd.DataFrame(columns=["job", "wall_s"])
    jobs = jobs.merge(step_times(work), on="job", how="left")
    jobs["rule"] = jobs["job"].str.split("/").str[0]
    jobs["startup_s"] = jobs["wall_s"] - jobs["step_s"]
    per_rule = jobs.groupby("rule").agg(jobs=("job", "size"), wall_s=("wall_s", "sum"), step_s=("step_s", "sum"),
                                        startup_s=("startup_s", "sum")).reset_index()
    per_rule["mean_wall_s"] = per_rule["wall_s"] / per_rule["jobs"]
    return jobs, per_rule.sort_values("wall_s", ascending=False)


def summarise_partial(out: Path, n_datasets: int, cores: int) -> None:
    """Summarise an unfinished run (stopped before the end): per-rule means of the finished jobs
    and the end-to-end time they imply for `n_datasets` (sum over rules of per-data-set mean wall x
    data sets / cores; meta and report once)."""
    jobs, per_rule = job_costs(out / "work")
    once = {"meta", "report"}
    per_dataset = float(per_rule.loc[~per_rule["rule"].isin(once), "mean_wall_s"].sum())
    implied = per_dataset * n_datasets / cores + float(per_rule.loc[per_rule["rule"].isin(once), "mean_wall_s"].sum())
    share = float(jobs["startup_s"].sum() / jobs["wall_s"].sum()) if len(jobs) else float("nan")
    lines = [f"# many models, partial run in {out}: {len(jobs)} jobs finished", "",
             f"machine: {machine_line()}; load average now {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
             f"per data set (one job of each per-data-set rule): {per_dataset:.0f} s of job wall time, "
             f"start-up + imports {100 * share:.0f}% of job wall time; implied end to end for {n_datasets} "
             f"data sets on {cores} cores: {implied / 60:.0f} min", "",
             "| rule | jobs finished | mean wall s | mean compute s | mean start-up + imports s |",
             "|---|---:|---:|---:|---:|"]
    for _, r in per_rule.iterrows():
        lines.append(f"| {r['rule']} | {r['jobs']} | {r['mean_wall_s']:.1f} | {r['step_s'] / r['jobs']:.1f} | "
                     f"{r['startup_s'] / r['jobs']:.1f} |")
    (out / "partial.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--partial", type=Path, default=None,
                    help="only summarise the (possibly unfinished) run in this output folder")
    ap.add_argument("--datasets", type=int, default=50)
    ap.add_argument("--genes", type=int, default=20000)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.partial:
        summarise_partial(args.partial.resolve(), args.datasets, args.cores)
        return

    out = (args.out or Path(tempfile.mkdtemp(prefix="many_models_"))).resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"output folder: {out}", flush=True)
    t0 = time.perf_counter()
    datasets = make_datasets(out / "data", args.datasets, args.genes, args.seed)
    t_gen = time.perf_counter() - t0
    print(f"{args.datasets} data sets generated in {t_gen:.0f} s", flush=True)

    from conftest import copy_workflow

    work = out / "work"
    if work.exists():
        shutil.rmtree(work)
    copy_workflow(work)
    config = {"geo": {"offline": True, "local_mirrors": []}, "datasets": datasets}
    (work / "config.yaml").write_text("# benchmarks/many_models.py\n" + yaml.safe_dump(config, sort_keys=False))
    bindir = Path(sys.executable).parent
    cmd = ["/usr/bin/time", "-v", str(bindir / "snakemake"), "--cores", str(args.cores)]
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(Path.home())}
    print("running:", " ".join(cmd), "in", work, flush=True)
    load_before = list(os.getloadavg())
    start = time.perf_counter()
    with open(out / "snakemake.log", "w") as so, open(out / "time.log", "w") as se:
        proc = subprocess.Popen(cmd, cwd=work, stdout=so, stderr=se, env=env)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        rc = proc.wait()
        sampler.stop.set()
        sampler.join()
    wall = time.perf_counter() - start
    load_after = list(os.getloadavg())

    jobs, per_rule = job_costs(work)
    job_wall = float(jobs["wall_s"].sum())
    compute, startup = float(jobs["step_s"].sum()), float(jobs["startup_s"].sum())
    scheduling = max(0.0, wall - job_wall / args.cores)
    bare_import = import_seconds(bindir / "python")
    summary = {
        "returncode": rc, "datasets": args.datasets, "genes": args.genes, "cores": args.cores, "seed": args.seed,
        "generate_s": round(t_gen, 1), "wall_s": round(wall, 1), "per_dataset_s": round(wall / args.datasets, 2),
        "jobs": len(jobs), "job_wall_sum_s": round(job_wall, 1), "compute_s": round(compute, 1),
        "startup_imports_s": round(startup, 1), "scheduling_s": round(scheduling, 1),
        "bare_import_s": round(bare_import, 2), "peak_tree_rss_mb": round(sampler.peak / 2**20, 1),
        "load_average_before": load_before, "load_average_after": load_after, "machine": machine(),
        "command": f".venv/bin/python benchmarks/many_models.py --datasets {args.datasets} --genes {args.genes} "
                   f"--cores {args.cores} --seed {args.seed}",
        "per_rule": per_rule.round(1).to_dict(orient="records"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "many_models.json").write_text(json.dumps(summary, indent=1))
    lines = [f"# many models: {args.datasets} data sets x {args.genes} genes, {args.cores} cores", "",
             f"machine: {machine_line()}", f"command: `{summary['command']}`", f"return code: {rc}",
             f"end to end {wall:.0f} s ({wall / args.datasets:.1f} s per data set), {len(jobs)} jobs; "
             f"job wall times sum {job_wall:.0f} s = compute {compute:.0f} s + start-up/imports {startup:.0f} s; "
             f"scheduling (end to end - job walls / cores) {scheduling:.0f} s; bare library import "
             f"{bare_import:.1f} s; peak RSS of the tree {summary['peak_tree_rss_mb']:.0f} MB",
             f"load average before {', '.join(f'{x:.1f}' for x in load_before)}, after "
             f"{', '.join(f'{x:.1f}' for x in load_after)} (shared machine)", "",
             "| rule | jobs | wall s (sum) | compute s | start-up + imports s |", "|---|---:|---:|---:|---:|"]
    for r in summary["per_rule"]:
        lines.append(f"| {r['rule']} | {r['jobs']} | {r['wall_s']:.0f} | {r['step_s']:.0f} | {r['startup_s']:.0f} |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    sys.exit(rc)


if __name__ == "__main__":
    main()
