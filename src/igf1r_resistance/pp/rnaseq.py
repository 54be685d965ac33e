"""RNA-seq counts: GEO's NCBI-computed counts, edgeR's filterByExpr, TMM and log-CPM.

GEO computes raw counts for most human and mouse RNA-seq series and serves them from its
download endpoint (`GSExxx_raw_counts_GRCh38.p13_NCBI.tsv.gz`: header `GeneID\\tGSM...`,
one row per NCBI GeneID) with a gene table (`Human.GRCh38.p13.annot.tsv.gz`: `GeneID,
Symbol, Description, ...`). The series matrix of such a series has an empty data table
but still carries the sample metadata.

Counts are turned into the analysis scale as edgeR + limma-trend do (Law et al. 2014,
Genome Biol 15:R29; Chen, Lun & Smyth 2016, F1000Research 5:1438):

    keep <- filterByExpr(y, group = group)           # edgeR 3.40
    y <- y[keep, , keep.lib.sizes = FALSE]
    y <- calcNormFactors(y)                           # TMM (Robinson & Oshlack 2010)
    logCPM <- cpm(y, log = TRUE, prior.count = 2)

Each function matches edgeR 3.40.2 to 1e-10 (tests/data/reference/edger_*; made by
tests/reference/make_edger_fixtures.R).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..errors import InputFormatError

COUNTS_FILE = "{acc}_raw_counts_GRCh38.p13_NCBI.tsv.gz"
ANNOTATION_FILE = "Human.GRCh38.p13.annot.tsv.gz"
PRIOR_COUNT = 2.0


# --------------------------------------------------------------------------- GEO files


def read_geo_counts(path: str | Path) -> pd.DataFrame:
    """GEO's NCBI raw counts (GeneID x GSM, integers) as a DataFrame with a string GeneID index."""
    try:
        table = pd.read_csv(path, sep="\t", dtype={"GeneID": str})
    except (OSError, EOFError, gzip.BadGzipFile, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"{path}: cannot read the counts table ({exc})") from exc
    if table.columns[0] != "GeneID":
        raise InputFormatError(
            f"{path}: the first column is {table.columns[0]!r}, GEO's counts tables start with 'GeneID'"
        )
    table = table.set_index("GeneID")
    table.index = table.index.astype(str)
    return check_counts(table, str(path))


def check_counts(table: pd.DataFrame, where: str) -> pd.DataFrame:
    """Counts as floats; raise naming the first non-numeric, negative or missing cell, or duplicated id."""
    values = table.apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & table.notna()
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise InputFormatError(f"{where}: non-numeric count {table.iat[r, c]!r} for gene "
                               f"{table.index[r]!r}, sample {table.columns[c]!r}")
    if values.isna().to_numpy().any():
        r, c = np.argwhere(values.isna().to_numpy())[0]
        raise InputFormatError(f"{where}: missing count for gene {table.index[r]!r}, sample {table.columns[c]!r}")
    if (values.to_numpy() < 0).any():
        r, c = np.argwhere(values.to_numpy() < 0)[0]
        raise InputFormatError(f"{where}: negative count {values.iat[r, c]} for gene {table.index[r]!r}, "
                               f"sample {table.columns[c]!r}; these are not raw counts")
    if table.index.duplicated().any():
        raise InputFormatError(f"{where}: gene {table.index[table.index.duplicated()][0]!r} appears twice")
    return values.astype(float)


def read_geo_gene_annotation(path: str | Path) -> pd.DataFrame:
    """`GeneID, Symbol` from GEO's gene table (Human.GRCh38.p13.annot.tsv.gz and the like)."""
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    except (OSError, EOFError, gzip.BadGzipFile, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"{path}: cannot read the gene annotation ({exc})") from exc
    missing = [c for c in ("GeneID", "Symbol") if c not in table.columns]
    if missing:
        raise InputFormatError(f"{path}: no {' or '.join(missing)} column; columns are "
                               f"{', '.join(table.columns[:8])}")
    return table[["GeneID", "Symbol"]].drop_duplicates("GeneID")


# --------------------------------------------------------------------------- edgeR


def _quantile7(x: np.ndarray, p: float) -> float:
    return float(np.quantile(x, p))  # numpy's linear interpolation = R's type 7


def filter_by_expr(counts: pd.DataFrame, groups: pd.Series, *, lib_size: np.ndarray | None = None,
                   min_count: float = 10, min_total_count: float = 15, large_n: int = 10,
                   min_prop: float = 0.7) -> np.ndarray:
    """edgeR's `filterByExpr(y, group = groups)`: genes with enough counts to be worth testing.

    A gene is kept when its CPM reaches min_count / median(lib.size) * 1e6 in at least as
    many samples as the smallest group (beyond `large_n` samples only `min_prop` of the
    excess counts), and its total count is at least `min_total_count`.
    """
    y = counts.to_numpy(dtype=float)
    lib = y.sum(axis=0) if lib_size is None else np.asarray(lib_size, dtype=float)
    sizes = groups.reindex(counts.columns).astype(str).value_counts()
    min_n = float(sizes[sizes > 0].min())
    if min_n > large_n:
        min_n = large_n + (min_n - large_n) * min_prop
    cutoff = min_count / np.median(lib) * 1e6
    cpm = y / lib * 1e6
    tol = 1e-14
    keep_cpm = (cpm >= cutoff).sum(axis=1) >= (min_n - tol)
    keep_total = y.sum(axis=1) >= (min_total_count - tol)
    return keep_cpm & keep_total


def _tmm_factor(obs: np.ndarray, ref: np.ndarray, n_obs: float, n_ref: float, logratio_trim: float,
                sum_trim: float, do_weighting: bool, a_cutoff: float) -> float:
    """edgeR's .calcFactorTMM for one sample against the reference sample."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_r = np.log2((obs / n_obs) / (ref / n_ref))
        abs_e = (np.log2(obs / n_obs) + np.log2(ref / n_ref)) / 2
        v = (n_obs - obs) / n_obs / obs + (n_ref - ref) / n_ref / ref
    fin = np.isfinite(log_r) & np.isfinite(abs_e) & (abs_e > a_cutoff)
    log_r, abs_e, v = log_r[fin], abs_e[fin], v[fin]
    if log_r.size == 0 or np.max(np.abs(log_r)) < 1e-6:
        return 1.0
    n = log_r.size
    lo_l = np.floor(n * logratio_trim) + 1
    hi_l = n + 1 - lo_l
    lo_s = np.floor(n * sum_trim) + 1
    hi_s = n + 1 - lo_s
    rank_r, rank_e = rankdata(log_r), rankdata(abs_e)  # average ties, as R's rank()
    keep = (rank_r >= lo_l) & (rank_r <= hi_l) & (rank_e >= lo_s) & (rank_e <= hi_s)
    if do_weighting:
        f = np.nansum(log_r[keep] / v[keep]) / np.nansum(1 / v[keep])
    else:
        f = np.nanmean(log_r[keep]) if keep.any() else np.nan
    if not np.isfinite(f):
        f = 0.0
    return float(2**f)


def calc_norm_factors_tmm(counts: pd.DataFrame | np.ndarray, lib_size: np.ndarray | None = None, *,
                          logratio_trim: float = 0.3, sum_trim: float = 0.05, do_weighting: bool = True,
                          a_cutoff: float = -1e10, ref_column: int | None = None) -> np.ndarray:
    """edgeR's `calcNormFactors(method = "TMM")` (Robinson & Oshlack 2010, Genome Biol 11:R25).

    The reference is the sample whose upper-quartile (75th percentile) of CPM is closest
    to the mean upper quartile (edgeR >= 3.36 takes the sample with the largest sum of
    sqrt(counts) when the median upper quartile is 0); factors are scaled to multiply to 1.
    """
    x = np.asarray(counts, dtype=float)
    lib = x.sum(axis=0) if lib_size is None else np.asarray(lib_size, dtype=float)
    x = x[(x > 0).any(axis=1)]
    n_samples = x.shape[1]
    if x.shape[0] == 0 or n_samples == 1:
        return np.ones(n_samples)
    if ref_column is None:
        f75 = np.array([_quantile7(x[:, j], 0.75) for j in range(n_samples)]) / lib
        if np.median(f75) < 1e-20:
            ref_column = int(np.argmax(np.sqrt(x).sum(axis=0)))
        else:
            ref_column = int(np.argmin(np.abs(f75 - f75.mean())))
    f = np.array([
        _tmm_factor(x[:, j], x[:, ref_column], lib[j], lib[ref_column], logratio_trim, sum_trim,
                    do_weighting, a_cutoff)
        for j in range(n_samples)
    ])
    return f / np.exp(np.mean(np.log(f)))


def cpm_log(counts: pd.DataFrame, lib_size: np.ndarray, prior_count: float = PRIOR_COUNT) -> pd.DataFrame:
    """edgeR's `cpm(y, log = TRUE, prior.count)`: log2((y + p_j) / (L_j + 2 p_j) * 1e6).

    `lib_size` are the effective library sizes (lib.size * norm.factors); the prior
    count of sample j is p_j = prior_count * L_j / mean(L), so it is the same in CPM units
    for every sample.
    """
    lib = np.asarray(lib_size, dtype=float)
    prior = prior_count * lib / lib.mean()
    values = np.log2((counts.to_numpy(dtype=float) + prior) / (lib + 2 * prior) * 1e6)
    return pd.DataFrame(values, index=counts.index, columns=counts.columns)


def log_cpm(counts: pd.DataFrame, groups: pd.Series, *, min_count: float = 10,
            prior_count: float = PRIOR_COUNT) -> tuple[pd.DataFrame, dict]:
    """filterByExpr + TMM + log-CPM of the samples in `groups` (the edgeR/limma-trend recipe).

    Returns the log2-CPM matrix of the kept genes and a record for `.uns`.
    """
    counts = counts[list(groups.index)]
    keep = filter_by_expr(counts, groups, min_count=min_count)
    kept = counts[keep]
    if kept.shape[0] == 0:
        raise InputFormatError(
            f"no gene passes edgeR's filterByExpr (min.count {min_count}) in these samples; are these raw counts?"
        )
    lib = kept.sum(axis=0).to_numpy(dtype=float)
    factors = calc_norm_factors_tmm(kept, lib)
    effective = lib * factors
    values = cpm_log(kept, effective, prior_count)
    record = {
        "transformed": True,
        "mode": "log-CPM",
        "scale": "log2-CPM",
        "reason": (f"RNA-seq counts: edgeR filterByExpr (min.count {min_count:g}; {int(keep.sum())} of "
                   f"{len(keep)} genes kept), TMM normalisation, log2-CPM with prior count {prior_count:g} "
                   "as edgeR::cpm(log = TRUE); DE with limma-trend"),
        "n_genes_counted": int(len(keep)),
        "n_genes_kept_by_filterbyexpr": int(keep.sum()),
        "min_count": float(min_count),
        "prior_count": float(prior_count),
        "normalisation": "TMM (edgeR calcNormFactors)",
        "library_sizes": [float(v) for v in lib],
        "norm_factors": [float(v) for v in factors],
        "samples": [str(s) for s in kept.columns],
        "n_nonpositive_set_missing": 0,
    }
    return values, record


# --------------------------------------------------------------------------- the prepare step


def prepare_geo_rnaseq(dataset: str, settings: dict, series_matrix: str, counts_path: str, annotation_path: str,
                       mapper, sources: dict | None = None):
    """The prepare step of a `type: geo_rnaseq` data set.

    Sample metadata and groups come from the series matrix (its data table is empty for
    RNA-seq); counts from GEO's NCBI table; GeneID -> Symbol from GEO's gene table, then
    to current HGNC symbols. Genes are filtered (filterByExpr), TMM-normalised and
    log2-CPM transformed; the de step runs limma-trend (recorded in `.uns['de']`).
    """
    from ..io.series_matrix import read_series_matrix
    from .designs import design_grouping, design_samples, has_design, series_design_sheet
    from .groups import EXCLUDED, INTERMEDIATE, RESISTANT, SENSITIVE, group_samples
    from .prepare import assemble, collapse_probes

    sm = read_series_matrix(series_matrix)
    counts = read_geo_counts(counts_path)
    annot = read_geo_gene_annotation(annotation_path)
    notes = [n for n in sm.notes if "data table is empty" not in n]
    samples = sm.samples
    platform = settings.get("platform")
    if platform and "platform_id" in samples.columns:
        samples = samples[samples["platform_id"].fillna(platform) == platform]
    missing = [s for s in samples.index if s not in counts.columns]
    extra = [s for s in counts.columns if s not in samples.index]
    if extra:
        raise InputFormatError(
            f"data set {dataset}: {counts_path} has columns that are not samples of {series_matrix}: "
            f"{', '.join(extra[:10])}; is this the counts table of {dataset}?"
        )
    sheet = sm.samples
    if has_design(settings):
        # the design's terms are characteristics keys or sample fields; samples without counts are
        # left out before the design is checked, so its checks see the samples it will fit
        sheet = series_design_sheet(dataset, sm.samples, settings["design"], sm.characteristics, series_matrix)
        fitted = design_samples(sheet.loc[samples.index], settings["design"]).index
        lost = [s for s in fitted if s in missing]
        grouping = design_grouping(dataset, sheet.loc[[s for s in samples.index if s not in missing]],
                                   settings["design"], settings["contrasts"], where=series_matrix)
        grouping.groups = grouping.groups.reindex(samples.index).fillna(EXCLUDED)
    else:
        grouping = group_samples(samples, settings["groups"], dataset)
        lost = [s for s in grouping.groups.index[grouping.groups.isin([RESISTANT, SENSITIVE, INTERMEDIATE])]
                if s in missing]
    if lost:
        notes.append(f"{len(lost)} grouped sample(s) have no counts in GEO's table and were left out: "
                     f"{', '.join(lost[:10])}")
        grouping.groups[lost] = EXCLUDED
    grouped = grouping.groups[grouping.groups.isin([RESISTANT, SENSITIVE, INTERMEDIATE])]
    for group in (RESISTANT, SENSITIVE) if not has_design(settings) else ():  # a design's checks ran above
        if (grouped == group).sum() < 2:
            raise InputFormatError(f"data set {dataset}: fewer than 2 {group} samples have counts in {counts_path}")
    try:
        values, log2 = log_cpm(counts, grouped, min_count=float(settings.get("min_count", 10)))
    except InputFormatError as exc:
        raise InputFormatError(f"data set {dataset}: {exc}") from None
    symbol = annot.set_index("GeneID")["Symbol"]
    ncbi = symbol.reindex(values.index).fillna("").astype(str)
    annotation = pd.DataFrame({"probe": values.index.astype(str), "symbol": ncbi.to_numpy()})
    genes, table, record = collapse_probes(values, annotation, rename=mapper.current)
    record["rule"] = ("NCBI GeneID -> Symbol from GEO's gene table, updated to current HGNC symbols; per symbol "
                      "the GeneID with the highest mean log-CPM kept")
    unmapped = [g for g, s in zip(annotation["probe"], annotation["symbol"]) if not s]
    id_record = {"id_type": "ncbi_gene_id", "n_ids": int(len(annotation)), "n_mapped": int(len(annotation) - len(unmapped)),
                 "n_unmapped": len(unmapped), "unmapped": unmapped, "source": str(annotation_path)}
    return assemble(
        dataset, settings, genes, sheet, grouping, table, data_type="rnaseq", log2=log2,
        probe_collapse=record, series_title=(sm.series.get("title") or [""])[0], platform=platform or "",
        notes=notes, extra_uns={"gene_ids": id_record},
        sources={"series_matrix": series_matrix, "counts": counts_path, "annotation": annotation_path,
                 **(sources or {})},
    )
