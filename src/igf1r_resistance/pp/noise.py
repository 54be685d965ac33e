"""An absolute noise floor per data set, estimated from the data, and which genes clear it.

A gene whose signal sits at the array's background in both groups is not measured: on
MAS5 arrays a probe that reads 0.7-12 (log2 -0.5 to 3.6) can show a "4-fold change" that is
noise. The floor is read from the data set itself, in this order:

1. `affx_absent_controls` (Affymetrix arrays): the never-spiked B. subtilis control probe
   sets `AFFX-TrpnX-3/5/M_at` (tryptophan synthase). Affymetrix's poly-A control kit
   spikes lys, phe, thr and dap transcripts (some labs use it, some do not: in GSE15709
   and GSE27473 those probes are bright, in GSE11440 absent), but never trp, and trp has
   no human homologue, so TrpnX measures what an absent transcript reads on that array
   after that lab's processing (GeneChip Expression Analysis Technical Manual, Affymetrix
   2004, "Poly-A controls"; the hybridisation controls bioB/C/D/cre and the housekeeping
   AFFX probes are present by design and are not used). The floor is the 95th percentile
   of their log2 values over all samples: an absent transcript reads below it in 95% of
   measurements (the analogue of a detection call at 5%).
   Bacterial probes see no cross-hybridisation from human RNA, so on RMA-processed arrays
   (background-corrected, quantile-normalised) unexpressed human genes read above them
   (GSE27473: TrpnX 3.6-4.1, the unexpressed genes' peak at 4.9). The floor is therefore
   the larger of this and the lower mode below (`higher_floor`): a gene must clear both
   the absent controls and the unexpressed genes. The method recorded is the binding one.
2. `lower_mode` (other arrays, your own log-scale matrices): the lowest mode of the
   distribution of per-gene mean log2 values (Gaussian kernel density, Silverman's
   bandwidth, on a 512-point grid). On intensity arrays the unexpressed genes form the
   lowest peak (MAS5) or the bulk of the lower shoulder (RMA); a gene whose means sit at or
   below it cannot be told from them.
3. `filter_by_expr` (RNA-seq log-CPM): edgeR's filterByExpr has already removed genes
   without enough counts; the floor is the log2-CPM of `min.count` at the median library
   size (the same cut-off), recorded when prepare knows it.
4. `not_applicable` (per-gene z-scores, single cells): every gene averages ~0, or values
   carry no absolute scale; the floor is NaN and every gene is measurable.

A gene is measurable when its mean in at least one group (resistant or sensitive) is
above the floor; below it in both groups it is `not_measurable` for gene hypotheses and
leaves the gene sets (hypotheses.tsv verdict words, contract 4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: never-spiked absent-signal controls of HG-U133 Plus 2, HG-U133A and HG-U95Av2
AFFX_ABSENT_PREFIX = "AFFX-TrpnX-"
#: the floor is this quantile of the absent controls' log2 values
AFFX_QUANTILE = 0.95
#: fewer control values than this (probes x samples) and the lower mode is used instead
MIN_CONTROL_VALUES = 6

METHODS = ("affx_absent_controls", "lower_mode", "filter_by_expr", "not_applicable")


def not_applicable(reason: str) -> dict:
    """The record for data without an absolute scale (z-scores, single cells)."""
    return {"value": float("nan"), "method": "not_applicable", "detail": reason}


def affx_floor(probe_values: pd.DataFrame, samples=None) -> dict | None:
    """Floor from the never-spiked AFFX-TrpnX probe sets of a log2 probe x sample matrix.

    `samples`: the columns to use (the grouped samples; default all).

    Returns the record `{value, method, detail}`, or None when the matrix has fewer than
    `MIN_CONTROL_VALUES` finite control values (not an Affymetrix array, or a matrix
    without control probes).
    """
    rows = [p for p in probe_values.index.astype(str) if p.startswith(AFFX_ABSENT_PREFIX)]
    if not rows:
        return None
    controls = probe_values.loc[rows]
    if samples is not None:
        controls = controls[[c for c in controls.columns if c in set(samples)]]
    values = controls.to_numpy(dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size < MIN_CONTROL_VALUES:
        return None
    value = float(np.quantile(values, AFFX_QUANTILE))
    return {
        "value": value,
        "method": "affx_absent_controls",
        "detail": (f"{AFFX_QUANTILE:.0%} quantile of the log2 values of the never-spiked B. subtilis control "
                   f"probe sets ({', '.join(sorted(rows))}; {values.size} values, range "
                   f"{values.min():.2f} to {values.max():.2f}, median {np.median(values):.2f}): an absent "
                   "transcript reads below it in 95% of measurements"),
    }


def lower_mode_floor(gene_means: np.ndarray | pd.Series) -> dict:
    """Floor = the lowest mode of the kernel density of per-gene mean log2 values.

    Gaussian kernel, Silverman's rule-of-thumb bandwidth, density on a 512-point grid over
    the range +- 3 bandwidths; a mode is a grid point higher than both neighbours (the
    grid's ends excluded). NaN means are ignored; fewer than 10 genes give NaN.
    """
    x = np.asarray(gene_means, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 10 or np.ptp(x) == 0:
        return {"value": float("nan"), "method": "lower_mode",
                "detail": f"{x.size} genes with a finite mean: too few (or all equal) for a density"}
    sd = float(np.std(x, ddof=1))
    iqr = float(np.subtract(*np.quantile(x, [0.75, 0.25])))
    spread = min(sd, iqr / 1.34) if iqr > 0 else sd
    bw = 0.9 * spread * x.size ** (-0.2)
    grid = np.linspace(x.min() - 3 * bw, x.max() + 3 * bw, 512)
    density = np.zeros_like(grid)
    for start in range(0, x.size, 4096):  # blocks: grid x 4096 genes at a time
        z = (grid[:, None] - x[None, start:start + 4096]) / bw
        density += np.exp(-0.5 * z * z).sum(axis=1)
    peaks = np.flatnonzero((density[1:-1] > density[:-2]) & (density[1:-1] >= density[2:])) + 1
    top = int(peaks[0]) if peaks.size else int(np.argmax(density))
    modes = ", ".join(f"{grid[p]:.2f}" for p in peaks[:4])
    return {
        "value": float(grid[top]),
        "method": "lower_mode",
        "detail": (f"lowest mode of the Gaussian kernel density of {x.size} per-gene mean log2 values "
                   f"(Silverman bandwidth {bw:.3f}; modes at {modes or 'none inside the range'}): genes at or "
                   "below it cannot be told from the unexpressed ones"),
    }


def higher_floor(controls: dict, lower_mode: dict) -> dict:
    """The stricter (higher) of the AFFX-control floor and the lower-mode floor, with both
    estimates in the detail. A NaN lower mode leaves the control floor."""
    other = lower_mode
    chosen, other = (lower_mode, controls) if (np.isfinite(lower_mode["value"])
                                               and lower_mode["value"] > controls["value"]) else (controls, lower_mode)
    return {**chosen, "detail": (f"{chosen['detail']}. The larger of two estimates: {other['method']} gives "
                                 f"{other['value']:.2f} ({other['detail']})")}


def measurable_genes(expr: pd.DataFrame, groups: pd.Series, floor: float,
                     levels: tuple[str, ...] | None = None) -> pd.Series:
    """Per gene: mean above `floor` in at least one of the resistant and sensitive groups
    (or of the given `levels` of `groups`, e.g. a design factor's).

    `expr`: genes x samples; `groups`: label per sample. Missing values are ignored in the
    means; a gene with no value in either group is not measurable. A NaN floor (method
    `not_applicable`) makes every gene measurable.
    """
    if not np.isfinite(floor):
        return pd.Series(True, index=expr.index, name="measurable")
    values = expr.to_numpy()
    labels = groups.reindex(expr.columns).astype(str).to_numpy()
    columns = [np.flatnonzero(labels == g) for g in (levels or ("resistant", "sensitive"))]
    above = np.zeros(len(expr.index), dtype=bool)
    step = max(1, 2**22 // max(values.shape[1], 1))  # row blocks: small temporaries for any cohort
    for start in range(0, values.shape[0], step):
        rows = values[start:start + step]
        for cols in columns:
            if cols.size == 0:
                continue
            block = rows[:, cols].astype(float, copy=False)
            counts = np.isfinite(block).sum(axis=1)
            sums = np.where(np.isfinite(block), block, 0.0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
            above[start:start + step] |= means > floor
    return pd.Series(above, index=expr.index, name="measurable")
