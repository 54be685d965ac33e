"""Scatter/gather of the scoring step: chunk k of N, and the gather into one scores table.

``scoring.chunks = N`` splits the score step into N jobs whose gathered table is the same
``scores.tsv``, byte for byte, as one job (``tests/test_chunks.py``,
``tests/test_workflow_chunks.py``). N is a config integer, so the DAG is known without
reading data; what chunk k holds is computed at run time:

* **blocks**: of ``n`` items, chunk ``k`` gets the contiguous block
  ``[floor(k n / N), floor((k + 1) n / N))`` (:func:`block`); blocks may be empty when
  ``N > n``.
* **sample-wise methods** (:data:`SAMPLE_WISE`: ``singscore``; ``ssgsea`` before its
  normalisation) score each sample from that sample's own ranks alone, so chunk k scores
  the k-th block of samples (all sets). The gene universe -- genes measured in every
  sample -- is decided on the whole cohort before splitting, as in an unsplit run.
* **ssGSEA's normalisation** divides every score by the range (max - min) of all raw
  scores of all sets and samples (GSVA's ``ssgsea.norm``), a cohort-wide number: chunks
  write the raw up and down enrichment scores separately (parts ``up`` / ``down``) and
  the gather divides by the range over all of them and subtracts, the same floating-point
  operations as the unsplit code.
* **cohort-wide methods** (:data:`SET_WISE`: ``gsva`` = kernel CDF of each gene over all
  samples, ``zscore`` and ``plage`` = genes standardised over all samples, PLAGE's SVD over
  all samples, ``score_genes`` = control genes binned by their mean over all samples)
  would change if the samples were split, but each set's score is computed independently
  of the other sets (scanpy is reseeded per set), so chunk k scores the k-th block of gene
  sets on the whole matrix.

Chunk files keep full precision (``%.17g``, read back with ``float_precision="round_trip"``),
so the gathered numbers are bit-identical to the unsplit ones before ``scores.tsv``'s
10-digit formatting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..genesets.catalogue import GeneSet
from ..tl import _cohort
from ..tl.scoring import METHODS, score_gene_sets
from . import resources

SAMPLE_WISE = ("singscore", "ssgsea")
SET_WISE = ("gsva", "zscore", "plage", "score_genes")
assert set(SAMPLE_WISE) | set(SET_WISE) == set(METHODS)

CHUNK_COLUMNS = ["sample", "gene_set", "method", "part", "score"]
_UP, _DOWN = "\x1fup", "\x1fdown"  # suffixes of the ssGSEA part sets (not in set names)


def block(n: int, k: int, n_chunks: int) -> slice:
    """Chunk ``k`` (0-based) of ``n_chunks`` over ``n`` items: ``[k n // N, (k + 1) n // N)``."""
    if n_chunks < 1 or not 0 <= k < n_chunks:
        raise ValueError(f"chunk {k} of {n_chunks}: need 0 <= k < chunks and chunks >= 1")
    return slice(k * n // n_chunks, (k + 1) * n // n_chunks)


def _long(wide: pd.DataFrame, method: str, part: str) -> pd.DataFrame:
    return pd.DataFrame({
        "sample": np.tile(wide.columns.to_numpy(), wide.shape[0]),
        "gene_set": np.repeat(wide.index.to_numpy(), wide.shape[1]),
        "method": method,
        "part": part,
        "score": wide.to_numpy().ravel(),
    })


def _kept(expr: pd.DataFrame, sets: list[GeneSet]) -> list[GeneSet]:
    """The sets as score_gene_sets(min_size=1) keeps them: restricted, up part non-empty."""
    index = expr.index
    out = []
    for s in sets:
        up = tuple(dict.fromkeys(g for g in s.up if g in index))
        down = tuple(dict.fromkeys(g for g in s.down if g in index))
        if up:
            out.append(GeneSet(s.name, up, down, s.source))
    return out


def _cohort_step(expr: pd.DataFrame) -> int:
    """Samples per internal chunk of ``_cohort.score_cohort`` for this matrix (its defaults)."""
    import inspect

    memory_mb = inspect.signature(_cohort.score_cohort).parameters["memory_mb"].default
    per_cell = _cohort._BYTES_PER_CELL
    if isinstance(per_cell, dict):  # per input itemsize
        per_cell = per_cell[4 if expr.to_numpy().dtype == np.float32 else 8]
    return max(1, int(memory_mb * 2**20 // (per_cell * max(expr.shape[0], 1))))


def _ssgsea_raw_aligned(expr: pd.DataFrame, parts: list[GeneSet], samples: slice) -> pd.DataFrame:
    """Raw ssGSEA of ``expr``'s columns ``samples``, bit-identical to the unsplit run.

    ``score_cohort`` works through the samples in internal chunks of ``step`` samples from
    sample 0, and its ``r ** alpha`` weights are not correctly rounded: NumPy's vectorised
    and scalar ``pow`` can differ in the last bit depending on the array shape (measured: a
    1- or 2-sample block differs from the whole in ~1e-14 of some scores). So each of the
    unsplit run's internal chunks that meets ``samples`` is recomputed whole, with the same
    shape, and only the wanted columns are kept (at most two extra partial blocks per job).
    """
    n = expr.shape[1]
    step = _cohort_step(expr)
    frames = []
    for j0 in range(samples.start // step * step, samples.stop, step):
        sub = expr.iloc[:, j0:min(j0 + step, n)]
        raw = _cohort.score_cohort(sub, parts, ("ssgsea",), normalize=False, chunk_size=step)["ssgsea"]
        lo, hi = max(samples.start, j0) - j0, min(samples.stop, j0 + step) - j0
        frames.append(raw.iloc[:, lo:hi])
    return pd.concat(frames, axis=1)


def score_chunk(expr: pd.DataFrame, sets: list[GeneSet], methods: list[str], k: int, n_chunks: int,
                *, seed: int = 0, gsva_approx: bool = False) -> pd.DataFrame:
    """Chunk ``k`` of ``n_chunks`` of ``score_gene_sets(expr, sets, methods, min_size=1, seed=seed)``.

    ``expr`` is the whole genes x samples matrix of genes measured in every sample. Returns
    a long table with columns :data:`CHUNK_COLUMNS`; ``part`` is ``total`` except for the
    raw (unnormalised) ssGSEA scores of up and down parts.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown scoring method(s) {unknown}; choose from {list(METHODS)}")
    frames = []
    samples = expr.iloc[:, block(expr.shape[1], k, n_chunks)]
    kept = _kept(expr, sets)
    if "singscore" in methods and samples.shape[1]:
        s = score_gene_sets(samples, kept, ["singscore"], min_size=1, seed=seed)
        s.insert(3, "part", "total")
        frames.append(s)
    if "ssgsea" in methods and samples.shape[1] and kept:
        parts = [GeneSet(s.name + _UP, s.up) for s in kept]
        parts += [GeneSet(s.name + _DOWN, s.down) for s in kept if s.down]
        raw = _ssgsea_raw_aligned(expr, parts, block(expr.shape[1], k, n_chunks))
        for suffix, part in ((_UP, "up"), (_DOWN, "down")):
            rows = raw[raw.index.str.endswith(suffix)]
            rows.index = rows.index.str.slice(0, -len(suffix))
            frames.append(_long(rows, "ssgsea", part))
    set_methods = [m for m in methods if m in SET_WISE]
    my_sets = kept[block(len(kept), k, n_chunks)]
    if set_methods and my_sets:
        s = score_gene_sets(expr, my_sets, set_methods, min_size=1, seed=seed, gsva_approx=gsva_approx)
        s.insert(3, "part", "total")
        frames.append(s)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else object) for c in CHUNK_COLUMNS})
    return pd.concat(frames, ignore_index=True)[CHUNK_COLUMNS]


def write_chunk(table: pd.DataFrame, path) -> None:
    """Full precision, so the gather sees the exact doubles."""
    table.to_csv(path, sep="\t", index=False, float_format="%.17g")


def read_chunk(path) -> pd.DataFrame:
    text = ["sample", "gene_set", "method", "part"]
    return pd.read_csv(path, sep="\t", dtype={c: str for c in text}, keep_default_na=False,
                       na_values={"score": [""]}, float_precision="round_trip")


def _wide(rows: pd.DataFrame) -> pd.DataFrame:
    """Sets x samples from long rows ordered by set then sample (as _long / score_gene_sets)."""
    sets = pd.unique(rows["gene_set"])
    samples = pd.unique(rows["sample"])
    values = rows["score"].to_numpy(dtype=float).reshape(len(sets), len(samples))
    return pd.DataFrame(values, index=pd.Index(sets, dtype=object), columns=pd.Index(samples, dtype=object))


def gather(chunks: list[pd.DataFrame], methods: list[str]) -> pd.DataFrame:
    """The ``score_gene_sets`` table (columns sample, gene_set, method, score, ordered by
    method, set, sample) from the chunk tables 0..N-1 of :func:`score_chunk`, in order."""
    frames = []
    for method in methods:
        if method in SET_WISE:  # chunk k holds sets block k, each over all samples: concatenate
            parts = [c.loc[c["method"] == method, ["sample", "gene_set", "score"]] for c in chunks]
            parts = [p for p in parts if len(p)]
            if parts:
                long = pd.concat(parts, ignore_index=True)
                long.insert(2, "method", method)
                frames.append(long)
            continue
        # sample-wise: chunk k holds samples block k for every set: stack the blocks side by side
        def wide(part: str, method: str = method) -> pd.DataFrame | None:
            blocks = [_wide(c[(c["method"] == method) & (c["part"] == part)]) for c in chunks]
            blocks = [b for b in blocks if b.shape[1]]
            return pd.concat(blocks, axis=1) if blocks else None

        if method == "singscore":
            w = wide("total")
        else:  # ssgsea: GSVA's ssgsea.norm over the whole cohort, then up - down
            up, down = wide("up"), wide("down")
            if up is None:
                w = None
            else:
                raw_up = up.to_numpy()
                raw_down = down.reindex(up.index).to_numpy() if down is not None else None
                has_down = (up.index.isin(down.index) if down is not None
                            else np.zeros(len(up), dtype=bool))
                used = np.concatenate([raw_up.ravel()] + ([raw_down[has_down].ravel()] if has_down.any() else []))
                with np.errstate(divide="ignore", invalid="ignore"):
                    rng = np.nanmax(used) - np.nanmin(used)
                    n_up = raw_up / rng
                    if has_down.any():
                        n_down = raw_down / rng
                        score = np.where(has_down[:, None], n_up - n_down, n_up)
                    else:
                        score = n_up
                w = pd.DataFrame(score, index=up.index, columns=up.columns)
        if w is not None:
            frames.append(pd.DataFrame({
                "sample": np.tile(w.columns.to_numpy(), w.shape[0]),
                "gene_set": np.repeat(w.index.to_numpy(), w.shape[1]),
                "method": method,
                "score": w.to_numpy().ravel(),
            }))
    if not frames:
        return pd.DataFrame({"sample": pd.Series(dtype=object), "gene_set": pd.Series(dtype=object),
                             "method": pd.Series(dtype=object), "score": pd.Series(dtype=float)})
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- Snakemake helpers
# (used by workflow/rules/score.smk; here so the rule file holds rules only)


def score_inputs(n_chunks: int):
    """Input function of rule score: the expression and the data set's gene sets as used
    (one job) or the N chunks to gather."""

    def inputs(wildcards) -> dict:
        ds = wildcards.ds
        if n_chunks == 1:
            return {"adata": f"results/{ds}/expression.h5ad", "gene_sets": f"results/{ds}/gene_sets.tsv"}
        return {"chunks": [f"results/{ds}/scores/chunk_{k}.tsv" for k in range(n_chunks)]}

    return inputs


def score_mem_mb(n_chunks: int, stand_ins=lambda wildcards: []):
    """Resource function of rule score: grows with the expression or the chunk tables.

    ``stand_ins(wildcards)``: the data set's source files, whose request stands in while
    the inputs are not written yet (DAG time; see igf1r_resistance.workflow.resources).
    """
    from pathlib import Path

    def mem_mb(wildcards, input, attempt) -> int:
        if n_chunks == 1:
            return resources.mem_mb([input.adata], attempt, stand_ins=stand_ins(wildcards))
        chunks = [Path(f) for f in input.chunks]
        if not all(f.exists() for f in chunks):
            return resources.mem_mb(chunks, attempt, stand_ins=stand_ins(wildcards))
        # the chunk tables are text read whole: count them like gzipped text
        size = sum(f.stat().st_size for f in chunks) / 1e6
        return int((resources.BASE_MB + resources.GZIP_FACTOR * size) * attempt)

    return mem_mb


def permutation_chunk_files(n_chunks: int):
    """Input function of rule hypotheses: no files (one job) or the N permutation chunks."""

    def files(wildcards) -> list[str]:
        if n_chunks == 1:
            return []
        model = wildcards.model if "model" in wildcards.keys() else wildcards.ds  # ds or ds/contrast
        return [f"results/{model}/permutations/chunk_{k}.tsv" for k in range(n_chunks)]

    return files
