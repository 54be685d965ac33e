"""Cohort-scale scoring: 50 sets x 10,000 samples x 20,000 genes (seeded; not run by the tests).

Run from the repository root (about 5 minutes on 2 cores, ~1.5 GB RAM)::

    .venv/bin/python benchmarks/scoring_scale.py                 # writes docs/benchmarks.md
    .venv/bin/python benchmarks/scoring_scale.py --samples 1000  # smaller smoke run, prints only

1. A float32 log2-like matrix (gene means ~ N(7, 2), per-gene sd 0.2-1.5, samples
   independent) is generated chunk by chunk, stored samples x genes and passed as its
   transpose (a genes x samples view, no copy). 50 gene sets of 10-400 random genes.
2. ``scoring.score_cohort`` computes singscore + ssGSEA + combined z-score of all 50
   sets in all 10,000 samples in one call (one sort per sample, chunks of
   ``--memory-mb`` per thread, ``--threads`` threads). Time: wall clock. Memory: the
   process's peak RSS (``resource.getrusage``) before and after, and ``tracemalloc``'s
   peak of the same call on 500 samples (tracemalloc slows numpy down, so it is not
   used for the timed run).
3. On the first ``--subset`` samples (500) of the same matrix: gseapy's ``ssgsea``
   (sample_norm_method="rank", no permutations) and, if installed, decoupler's AUCell
   (``decoupler.mt.aucell``), each next to our engine on the same subset. Their times for
   10,000 samples are extrapolated linearly from the subset (every method scores samples
   independently), and the report says so. Values are compared as well.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from calibration import write_section  # noqa: E402

from igf1r_resistance.tl import scoring  # noqa: E402


def rss_mb() -> float:
    """Peak resident set size of this process so far (Linux: kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_matrix(n_genes: int, n_samples: int, seed: int) -> np.ndarray:
    """samples x genes float32, filled in chunks (no float64 copy of the whole matrix)."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(7.0, 2.0, n_genes).astype(np.float32)
    sd = rng.uniform(0.2, 1.5, n_genes).astype(np.float32)
    x = np.empty((n_samples, n_genes), dtype=np.float32)
    for j in range(0, n_samples, 500):
        block = x[j : j + 500]
        rng.standard_normal(out=block, dtype=np.float32)
        block *= sd
        block += mean
    return x


def make_sets(n_genes: int, n_sets: int, seed: int) -> dict[str, list[int]]:
    rng = np.random.default_rng(seed + 1)
    sizes = np.round(np.exp(rng.uniform(np.log(10), np.log(400), n_sets))).astype(int)
    return {f"SET{i:02d}": sorted(rng.choice(n_genes, k, replace=False).tolist()) for i, k in enumerate(sizes)}


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--genes", type=int, default=20_000)
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--sets", type=int, default=50)
    ap.add_argument("--subset", type=int, default=500)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--memory-mb", type=float, default=256.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    write = not args.no_write and args.samples == 10_000 and args.genes == 20_000
    load_start = os.getloadavg()
    rows: list[dict] = []
    notes: list[str] = []

    base_rss = rss_mb()
    xt, t_gen = timed(make_matrix, args.genes, args.samples, args.seed)
    x = xt.T  # genes x samples view
    sets = make_sets(args.genes, args.sets, args.seed)
    gen_rss = rss_mb()
    print(f"matrix {args.genes} x {args.samples} float32 ({xt.nbytes / 2**20:.0f} MiB) in {t_gen:.1f} s; "
          f"peak RSS {base_rss:.0f} MiB before, {gen_rss:.0f} MiB after")

    methods = ("singscore", "ssgsea", "zscore")
    full, t_full = timed(scoring.score_cohort, x, sets, methods, threads=args.threads, memory_mb=args.memory_mb)
    full_rss = rss_mb()
    rows.append({"method": "ours: singscore + ssGSEA + z-score (score_cohort)", "samples run": args.samples,
                 "seconds": t_full, "seconds for 10,000 samples": t_full * 10_000 / args.samples,
                 "extrapolated": "no" if args.samples == 10_000 else "yes"})
    print(f"score_cohort {methods}: {t_full:.1f} s, peak RSS {full_rss:.0f} MiB "
          f"(+{max(0.0, full_rss - gen_rss):.0f} MiB over the matrix)")

    n_sub = min(args.subset, args.samples)
    sub = x[:, :n_sub]
    tracemalloc.start()
    _, t_traced = timed(scoring.score_cohort, sub, sets, methods, threads=args.threads, memory_mb=args.memory_mb)
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"tracemalloc peak of score_cohort on {n_sub} samples: {traced_peak:.0f} MiB")

    for method in ("singscore", "ssgsea", "zscore"):
        _, t = timed(scoring.score_cohort, sub, sets, (method,), threads=args.threads, memory_mb=args.memory_mb)
        rows.append({"method": f"ours: {method} alone", "samples run": n_sub, "seconds": t,
                     "seconds for 10,000 samples": t * 10_000 / n_sub, "extrapolated": "yes"})

    # gseapy ssGSEA on the subset, against ours on the same subset
    genes = np.array([f"G{i:05d}" for i in range(args.genes)])
    named = {k: genes[v].tolist() for k, v in sets.items()}
    frame = pd.DataFrame(sub, index=genes, columns=[f"S{j:05d}" for j in range(n_sub)])
    import gseapy

    g, t_g = timed(gseapy.ssgsea, data=frame, gene_sets=named, outdir=None, sample_norm_method="rank",
                   permutation_num=0, no_plot=True, threads=args.threads, min_size=1, max_size=args.genes,
                   verbose=False)
    rows.append({"method": f"gseapy {gseapy.__version__} ssgsea (threads={args.threads})", "samples run": n_sub,
                 "seconds": t_g, "seconds for 10,000 samples": t_g * 10_000 / n_sub, "extrapolated": "yes"})
    res = g.res2d
    ours_sub = scoring.score_cohort(frame, named, ("ssgsea",), normalize=False)["ssgsea"]
    ours_norm = scoring.score_cohort(frame, named, ("ssgsea",))["ssgsea"]
    es = res.pivot(index="Term", columns="Name", values="ES").astype(float).loc[ours_sub.index, ours_sub.columns]
    nes = res.pivot(index="Term", columns="Name", values="NES").astype(float).loc[ours_sub.index, ours_sub.columns]
    spread = float(ours_sub.to_numpy().max() - ours_sub.to_numpy().min())
    d_es = float(np.abs(es.to_numpy() - ours_sub.to_numpy()).max()) / spread
    d_nes = float(np.abs(nes.to_numpy() - ours_norm.to_numpy()).max())
    notes.append(f"gseapy ssgsea vs ours on the same {n_sub} samples: max |ES difference| / range of ES "
                 f"{d_es:.2g}, max |NES difference| {d_nes:.2g} (both normalised by the range over the "
                 f"{n_sub} samples). gseapy's `rank` normalisation rescales ranks to 10,000 per sample "
                 "before weighting, so its ES differs slightly from GSVA's.")
    print(notes[-1])

    try:
        import decoupler as dc
    except ImportError:
        notes.append("decoupler is not installed: its AUCell was not timed "
                     "(`uv pip install decoupler` to include it).")
    else:
        net = pd.DataFrame([(k, gene) for k, v in named.items() for gene in v], columns=["source", "target"])
        samples_first = frame.T.astype(float)
        _, t_warm = timed(dc.mt.aucell, samples_first.iloc[:20], net, tmin=1)  # numba compile / cache load
        (auc, _), t_dc = timed(dc.mt.aucell, samples_first, net, tmin=1)
        rows.append({"method": f"decoupler {dc.__version__} aucell (numba, after a {t_warm:.0f} s warm-up)",
                     "samples run": n_sub, "seconds": t_dc, "seconds for 10,000 samples": t_dc * 10_000 / n_sub,
                     "extrapolated": "yes"})
        ours_auc, t_auc = timed(scoring.score_cohort, frame, named, ("aucell",), threads=args.threads)
        ours_auc = ours_auc["aucell"]
        rows.append({"method": "ours: AUCell-style alone", "samples run": n_sub, "seconds": t_auc,
                     "seconds for 10,000 samples": t_auc * 10_000 / n_sub, "extrapolated": "yes"})
        # decoupler divides by the largest reachable AUC, AUCell (and we) by K * n
        k_auc = math.ceil(0.05 * args.genes)
        sizes = pd.Series({k: len(v) for k, v in named.items()})
        max_auc = sizes.map(lambda n: sum(k_auc - r for r in range(1, min(n, k_auc - 1) + 1)))
        rescaled = auc.T.loc[ours_auc.index, ours_auc.columns].mul(max_auc / (k_auc * sizes), axis=0)
        d_auc = float(np.abs(rescaled.to_numpy() - ours_auc.to_numpy()).max())
        notes.append(f"decoupler AUCell vs ours on the same {n_sub} samples: max |difference| {d_auc:.2g} after "
                     "rescaling decoupler's normalisation (largest reachable AUC) to AUCell's (K x set size); the rest "
                     "is float32 ties, which the two order differently.")
        print(notes[-1])

    load_end = os.getloadavg()
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if not write:
        return
    from calibration import markdown_table

    text = f"""## Cohort scoring at scale

Command: `.venv/bin/python benchmarks/scoring_scale.py --threads {args.threads} --memory-mb {args.memory_mb:g}`.
Machine: {C.machine_line()}. Load average (1 min) {load_start[0]:.1f} at the start and {load_end[0]:.1f}
at the end: the machine was shared with other jobs, so times are upper bounds.

Data: {args.sets} gene sets (10-400 genes) x {args.samples:,} samples x {args.genes:,} genes, float32
({xt.nbytes / 2**20:.0f} MiB, generated in {t_gen:.0f} s, seed {args.seed}).

**singscore + ssGSEA + combined z-score of all sets in all {args.samples:,} samples: {t_full:.0f} s**
(`score_cohort`, one sort per sample, {args.threads} threads, {args.memory_mb:g} MiB of working memory per
thread). Peak RSS of the process: {base_rss:.0f} MiB after imports, {gen_rss:.0f} MiB after making the matrix, {full_rss:.0f} MiB after scoring
(+{max(0.0, full_rss - gen_rss):.0f} MiB); `tracemalloc` peak of the same call on {n_sub} samples:
{traced_peak:.0f} MiB (the working memory does not grow with the number of samples: chunks).

Other tools ran on the first {n_sub} samples of the same matrix in the same run; their "seconds for
10,000 samples" are **extrapolated** linearly from those {n_sub} samples, as are the single-method rows of
our engine.

{markdown_table(table)}
{chr(10).join('- ' + n for n in notes)}
"""
    write_section(text, "scoring_scale")
    print(f"wrote {Path(C.REPO / 'docs' / 'benchmarks.md').relative_to(C.REPO)}")


if __name__ == "__main__":
    main()
