"""Cohort-scale run of the whole workflow: a seeded local matrix data set, end to end.

    .venv/bin/python benchmarks/cohort.py --samples 10000 --genes 20000 [--chunks 2] [--permutation-chunks 2]
        [--methods singscore ssgsea zscore plage score_genes] [--out benchmarks/out/cohort_10000]

1. generates (seeded, under benchmarks/out/, git-ignored, never committed) a `type: matrix`
   data set: a genes x samples TSV of log2-scale values for `--genes` real HGNC symbols
   (workflow/resources/hgnc_symbols.tsv.gz; every catalogue gene included so the mechanism
   sets are found) and a sample sheet (half resistant, half sensitive); resistant samples
   get a planted shift of +`--shift` log2 units in IGF1R_AXIS and ABC_CORE genes;
2. writes a config for it (`cohort.yaml`: one data set, GSVA left out by default because
   its Gaussian-kernel CDF is O(genes x samples^2): ~2e12 kernel evaluations at 10,000
   samples; pass --methods to include it) into a work dir holding a copy of the workflow;
3. runs `snakemake --cores 2 --configfile cohort.yaml` there under `/usr/bin/time -v`,
   sampling the summed RSS of the whole process tree (psutil, every 0.5 s);
4. writes `summary.json` and `summary.md`: wall time and peak memory end to end, and per
   rule from results/benchmarks/**/*.tsv (every rule writes one via `benchmark:`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
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

SHIFTED = ("IGF1R_AXIS", "ABC_CORE")


def generate(out: Path, n_samples: int, n_genes: int, shift: float, seed: int) -> tuple[Path, Path]:
    """Write out/data/expr.tsv (genes x samples, 2 decimals) and out/data/samples.tsv."""
    rng = np.random.default_rng(seed)
    hgnc = pd.read_csv(REPO / "workflow/resources/hgnc_symbols.tsv.gz", sep="\t", usecols=["symbol"])
    symbols = hgnc["symbol"].astype(str).tolist()
    catalogue = yaml.safe_load((REPO / "workflow/resources/mechanisms.yaml").read_text())
    wanted = []
    for spec in catalogue["gene_sets"].values():
        wanted += list(spec.get("up", [])) + list(spec.get("down", []))
    wanted = [g for g in dict.fromkeys(wanted) if g in set(symbols)]
    others = sorted(set(symbols) - set(wanted))
    genes = wanted + list(rng.choice(others, n_genes - len(wanted), replace=False))
    shifted = {g for name in SHIFTED for g in catalogue["gene_sets"][name].get("up", [])}

    samples = [f"S{j:05d}" for j in range(n_samples)]
    group = np.where(np.arange(n_samples) % 2 == 0, "resistant", "sensitive")
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"sample": samples, "group": group,
                  "batch": [f"b{j % 4}" for j in range(n_samples)]}).to_csv(
        data / "samples.tsv", sep="\t", index=False)

    # log2 values quantised to 0.01 in [0, 16]: written through a lookup table of strings
    table = np.array([f"{v / 100:.2f}" for v in range(1601)], dtype=object)
    gene_mean = rng.normal(7.0, 2.0, n_genes)
    gene_sd = rng.uniform(0.2, 1.0, n_genes)
    sample_offset = rng.normal(0.0, 0.2, n_samples)
    resistant = group == "resistant"
    path = data / "expr.tsv"
    with open(path, "w", encoding="ascii") as fh:
        fh.write("gene\t" + "\t".join(samples) + "\n")
        for i, g in enumerate(genes):
            row = gene_mean[i] + sample_offset + gene_sd[i] * rng.standard_normal(n_samples)
            if g in shifted:
                row = row + shift * resistant
            q = np.clip(np.rint(row * 100), 0, 1600).astype(np.intp)
            fh.write(g + "\t" + "\t".join(table[q]) + "\n")
    return path, data / "samples.tsv"


def write_config(work: Path, matrix: Path, samples: Path, methods: list[str], chunks: int,
                 permutation_chunks: int = 1, gsva_approx: bool = False) -> Path:
    primary = "singscore" if "singscore" in methods else methods[0]
    config = {
        "geo": {"offline": True, "local_mirrors": []},
        "datasets": {"cohort": {
            "type": "matrix", "matrix": str(matrix), "samples": str(samples), "log2": "no",
            "drug": "synthetic", "model": "synthetic cohort (benchmarks/cohort.py)",
            "note": "Synthetic: IGF1R_AXIS and ABC_CORE shifted up in resistant samples.",
        }},
        "scoring": {"methods": methods, "primary": primary, "seed": 0, "chunks": chunks,
                    "gsva_approx": gsva_approx},
        "hypotheses": {"permutation_chunks": permutation_chunks},
    }
    path = work / "cohort.yaml"
    path.write_text(
        "# Cohort benchmark config (benchmarks/cohort.py). GSVA is left out unless asked for:\n"
        "# its kernel CDF is O(genes x samples^2), hours at 10,000 samples on 2 cores.\n"
        + yaml.safe_dump(config, sort_keys=False))
    return path


#: the script a Snakemake job runs: .snakemake/scripts/tmpXXXX.<script>.py (scripts/<script>.py)
_JOB_SCRIPT = re.compile(r"\.snakemake/scripts/tmp[^/.]+\.(\w+)\.py$")


class TreeSampler(threading.Thread):
    """Peak of the summed RSS of a process and all its descendants, sampled every 0.2 s,
    and the peak RSS of each job's script process (keyed by script name).

    Snakemake's own `benchmark:` files sample a job every 0.5 s for its first 15 s and
    every 30 s after that, so they can miss a longer job's peak; these samples do not.
    """

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        import psutil

        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.job_peaks: dict[str, int] = {}
        self._names: dict[int, str | None] = {}
        self.stop = threading.Event()

    def _job(self, proc) -> str | None:
        if proc.pid not in self._names:
            cmd = proc.cmdline()
            match = next((m for m in map(_JOB_SCRIPT.search, cmd) if m), None)
            self._names[proc.pid] = match.group(1) if match else None
        return self._names[proc.pid]

    def run(self) -> None:
        import psutil

        while not self.stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        rss = p.memory_info().rss
                        total += rss
                        job = self._job(p)
                        if job:
                            self.job_peaks[job] = max(self.job_peaks.get(job, 0), rss)
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self.stop.wait(self.interval)


def rule_table(work: Path, job_peaks: dict[str, int] | None = None) -> pd.DataFrame:
    """Per job: wall, max RSS and CPU time of its `benchmark:` file, and the peak RSS of its
    script process sampled by TreeSampler (`peak_rss_mb`, by script name: report and
    report_figures both run scripts/report.py and show the larger of the two)."""
    rows = []
    for f in sorted((work / "results/benchmarks").rglob("*.tsv")):
        b = pd.read_csv(f, sep="\t")
        job = str(f.relative_to(work / "results/benchmarks").with_suffix(""))
        rule = job.split("/")[0]
        peak = (job_peaks or {}).get({"report_figures": "report"}.get(rule, rule))
        rows.append({"job": job,
                     "wall_s": float(b["s"].iloc[0]), "max_rss_mb": float(b["max_rss"].iloc[0]),
                     "peak_rss_mb": round(peak / 2**20, 1) if peak else float("nan"),
                     "cpu_time_s": float(b["cpu_time"].iloc[0]) if "cpu_time" in b else float("nan")})
    return pd.DataFrame(rows).sort_values("wall_s", ascending=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--genes", type=int, default=20000)
    ap.add_argument("--shift", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunks", type=int, default=1, help="scoring.chunks")
    ap.add_argument("--permutation-chunks", type=int, default=1, help="hypotheses.permutation_chunks")
    ap.add_argument("--gsva-approx", action="store_true",
                    help="scoring.gsva_approx: true (add gsva to --methods to score it)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--methods", nargs="+", default=["singscore", "ssgsea", "zscore", "plage", "score_genes"])
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/out/cohort_{samples}")
    ap.add_argument("--keep-data", action="store_true", help="reuse out/data if it exists")
    args = ap.parse_args()

    out = (args.out or HERE / "out" / f"cohort_{args.samples}").resolve()
    matrix, samples = out / "data/expr.tsv", out / "data/samples.tsv"
    t0 = time.perf_counter()
    if not (args.keep_data and matrix.exists() and samples.exists()):
        matrix, samples = generate(out, args.samples, args.genes, args.shift, args.seed)
    t_gen = time.perf_counter() - t0
    print(f"data: {matrix} ({matrix.stat().st_size / 1e9:.2f} GB) in {t_gen:.0f} s", flush=True)

    from conftest import copy_workflow

    work = out / "work"
    if work.exists():
        shutil.rmtree(work)
    copy_workflow(work)
    configfile = write_config(work, matrix, samples, args.methods, args.chunks, args.permutation_chunks,
                              args.gsva_approx)
    # --configfile updates the config.yaml of the Snakefile: replace the demo config so the
    # demo data sets are not merged in.
    shutil.copy2(configfile, work / "config.yaml")
    bindir = Path(sys.executable).parent
    cmd = ["/usr/bin/time", "-v", str(bindir / "snakemake"), "--cores", str(args.cores),
           "--configfile", "cohort.yaml"]
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(Path.home())}
    print("running:", " ".join(cmd), "in", work, flush=True)
    start = time.perf_counter()
    with open(out / "snakemake.log", "w") as so, open(out / "time.log", "w") as se:
        proc = subprocess.Popen(cmd, cwd=work, stdout=so, stderr=se, env=env)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        rc = proc.wait()
        sampler.stop.set()
        sampler.join()
    wall = time.perf_counter() - start
    time_log = (out / "time.log").read_text()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_log)
    rules = rule_table(work, sampler.job_peaks) if (work / "results/benchmarks").exists() else pd.DataFrame()
    summary = {
        "returncode": rc, "samples": args.samples, "genes": args.genes, "chunks": args.chunks, "permutation_chunks": args.permutation_chunks,
        "gsva_approx": args.gsva_approx,
        "methods": args.methods, "generate_s": round(t_gen, 1), "wall_s": round(wall, 1),
        "peak_tree_rss_mb": round(sampler.peak / 2**20, 1),
        "time_v_max_rss_mb": round(int(m.group(1)) / 1024, 1) if m else None,
        "command": f"cd {work} && " + " ".join(cmd[2:]) + "  (under /usr/bin/time -v)",
        "machine": machine(),
        "load_average": list(os.getloadavg()),
        "rules": rules.to_dict(orient="records"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    lines = [f"# cohort run: {args.samples} samples x {args.genes} genes, chunks {args.chunks}, permutation chunks {args.permutation_chunks}, "
             f"methods {' '.join(args.methods)}{' (gsva_approx)' if args.gsva_approx else ''}", "",
             f"machine: {machine_line()}", f"command: `{summary['command']}`", f"return code: {rc}",
             f"end to end: {wall:.0f} s; peak RSS of the process tree {summary['peak_tree_rss_mb']:.0f} MB "
             f"(time -v max RSS of one process {summary['time_v_max_rss_mb']} MB); data generation {t_gen:.0f} s",
             f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in summary['load_average'])}",
             "", "peak RSS MB: the job's script process, sampled every 0.2 s; max RSS MB: Snakemake's "
             "benchmark file (sampled every 30 s after the first 15 s, so it can miss a peak)", "",
             "| job | wall s | peak RSS MB | max RSS MB (benchmark) | CPU s |", "|---|---:|---:|---:|---:|"]
    for r in summary["rules"]:
        lines.append(f"| {r['job']} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | {r['max_rss_mb']:.0f} | "
                     f"{r['cpu_time_s']:.1f} |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    sys.exit(rc)


if __name__ == "__main__":
    main()
