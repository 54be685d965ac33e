"""Memory requests of the workflow's jobs (Snakemake ``resources: mem_mb``) from their inputs.

A job asks for ``(base + factor x size of its inputs in MB + extra) x attempt`` MB, so a
10,000-sample cohort asks for more than a 6-sample series and a retried job (``--retries``)
for more than its first try. The factors come from measured peaks (docs/cohort.md,
10,000 samples x 20,000 genes, a 1.6 GB ``expression.h5ad``: every job 2.0-3.7 GB, i.e.
1.3-2.3 x the file) with head room:

* uncompressed inputs (``.h5ad``, ``.tsv``): 3 x their size;
* gzipped text (``.gz``, e.g. GEO series matrices): 12 x, since the text inflates ~4-5 x
  before it is parsed;
* QC additionally holds the samples x samples correlation matrix (8 x samples^2 bytes),
  which outgrows the expression when samples outnumber genes.

Inputs that do not exist yet. Snakemake evaluates resource functions while it builds the
DAG (``snakemake -n``, ``--dag``, the start of every run), before upstream jobs wrote their
outputs, and again for each job once it is ready to run, when all its inputs are there
(``reset_params_and_resources`` in Snakemake's scheduler). So a function must not fail on a
missing input: it returns an estimate from the files that exist, and the real request is
computed from the real inputs before the job is started or submitted. The estimate for a
job downstream of prepare is prepare's own request (``stand_ins`` = the data set's source
files): prepare holds the whole parsed matrix, the largest thing a later job holds too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

BASE_MB = 1000
FACTOR = 3
GZIP_FACTOR = 12


def _mb(path: str | Path) -> float:
    return Path(path).stat().st_size / 1e6


def _weighted_mb(paths: Iterable[str | Path]) -> float:
    return sum(_mb(p) * (GZIP_FACTOR if str(p).endswith(".gz") else FACTOR) for p in paths)


def mem_mb(paths: Iterable[str | Path], attempt: int = 1, *, extra_mb: float = 0.0,
           floor_mb: int = 0, stand_ins: Iterable[str | Path] = ()) -> int:
    """Memory request (MB) of a job reading `paths` (see the module docstring).

    Parameters
    ----------
    paths: the job's inputs that count; those not written yet are left out, and then
        ``stand_ins`` (the existing ones) are weighed instead, as a lower bound.
    attempt: Snakemake's attempt number (a retry asks for attempt x the memory).
    extra_mb: memory beyond the inputs (QC's correlation matrix).
    floor_mb: the least the job asks for.
    stand_ins: files whose request stands in for missing inputs (the data set's sources).

    Returns
    -------
    int: MB, ``max(BASE_MB + weighted size + extra_mb, floor_mb) x attempt``.
    """
    paths = [Path(p) for p in paths]
    present = [p for p in paths if p.exists()]
    size = _weighted_mb(present)
    if len(present) < len(paths):
        size = max(size, _weighted_mb(p for p in map(Path, stand_ins) if p.exists()))
    return int(max(BASE_MB + size + extra_mb, floor_mb) * attempt)


def h5ad_samples(path: str | Path) -> int:
    """Number of observations (samples) of an .h5ad file, read from its header only."""
    import h5py

    with h5py.File(path, "r") as f:
        obs = f["obs"]
        index = obs.attrs.get("_index", "_index")
        return int(obs[index].shape[0])


def correlation_mb(h5ad: str | Path) -> float:
    """Size (MB) of the samples x samples float64 correlation matrix of a data set; 0 while
    the .h5ad is not written yet (its samples are unknown: refined when the job is ready)."""
    if not Path(h5ad).exists():
        return 0.0
    n = h5ad_samples(h5ad)
    return 8.0 * n * n / 1e6
