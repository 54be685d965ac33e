"""Quality control and plot-ready numbers: PCA, distributions, sample correlations, outliers.

This module computes; the report only draws (scanpy's `tl` / `pl` split). Every table it
returns is what a plot needs, so report code never computes a statistic:

- `pca`: principal components of the most variable genes (numpy SVD; DESeq2's `plotPCA`
  convention of the top 500 genes by variance), with the fraction of variance explained.
- `distribution_summary`: per-sample quantiles of log2 expression (box plots).
- `display_columns` / `correlation_display`: the sample order of every sample-by-sample
  or gene-by-sample heatmap (by group, then hierarchical clustering within the group) and,
  when a data set has more samples than a heatmap can show, consecutive bins of samples
  (never mixing groups) whose values are averaged. The report says so in the caption.
- `flag_outliers`: the arrayQualityMetrics rules (Kauffmann et al., Bioinformatics
  2009;25:415): a sample is an outlier when its distance to the other samples, or the
  Kolmogorov-Smirnov distance of its value distribution to the pooled one, lies beyond
  the upper boxplot fence Q3 + coef x IQR; a floor on the IQR keeps near-identical
  replicates from being flagged for tiny differences.
- `set_heatmaps`: z-scored (per gene, across samples) log2 expression of each gene set.
- `running_sums`: the preranked-GSEA running enrichment score of each set, compressed to
  the points where it changes slope (exact: the curve is linear between hits).

No plotting imports here.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..genesets.catalogue import GeneSet, Hypothesis

GROUP_ORDER = ["resistant", "sensitive"]

# Defaults of every QC parameter; the rule passes them explicitly (workflow/rules/qc.smk)
# and the report lists them.
QC_DEFAULTS: dict = {
    "pca_top_genes": 500,  # PCA on the most variable genes (DESeq2 plotPCA default)
    "pca_components": 5,
    "max_heatmap_columns": 80,  # more samples than this are averaged in consecutive bins
    "outlier_coef": 1.5,  # boxplot fence Q3 + coef * IQR (arrayQualityMetrics)
    "outlier_min_iqr_correlation": 0.01,  # IQR floor for the distance 1 - mean Pearson r
    "outlier_min_iqr_ks": 0.02,  # IQR floor for the Kolmogorov-Smirnov distance
}


# --------------------------------------------------------------------------- helpers


#: matrices with more values than this are processed in blocks of rows of BLOCK_CELLS
#: values, so QC holds the expression matrix once (10,000 samples x 20,000 genes: 1.6 GB);
#: smaller ones take the direct route (np.corrcoef, one copy of the complete genes)
SMALL_CELLS = 2**24
BLOCK_CELLS = 2**22


def _complete(expr: pd.DataFrame) -> pd.DataFrame:
    """Genes measured (finite) in every sample (a copy: for small matrices only)."""
    values = expr.to_numpy(dtype=float)
    return expr[np.isfinite(values).all(axis=1)]


def _complete_rows(values: np.ndarray) -> np.ndarray:
    """Row positions of the genes measured (finite) in every sample."""
    from ..genesets.universe import complete_genes as finite_rows

    return np.flatnonzero(finite_rows(values, BLOCK_CELLS))


def _row_blocks(n_rows: int, n_cols: int):
    step = max(1, BLOCK_CELLS // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _rows(values: np.ndarray, rows: np.ndarray, sl: slice) -> np.ndarray:
    """values[rows[sl]]: a view when `rows` is every row."""
    return values[sl] if rows.size == values.shape[0] else values[rows[sl]]


def _group_rank(groups: pd.Series) -> pd.Series:
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    return groups.map(lambda g: order.get(g, len(order)))


# --------------------------------------------------------------------------- PCA


def pca(expr: pd.DataFrame, n_top: int = 500, n_components: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Principal components of samples on the `n_top` most variable genes.

    Parameters: `expr` genes x samples (log2); genes with a missing value are dropped.
    Returns `(scores, variance)`: scores is samples x `PC1..PCk`; variance has columns
    `component, variance_explained` (fraction of the total variance of the genes used, so
    the fractions sum to at most 1). Signs are fixed so that each component's largest
    absolute gene loading is positive (reproducible across runs and platforms).
    Reference: DESeq2 `plotPCA` (top genes by variance, centred, not scaled).
    """
    samples = list(expr.columns)
    values = expr.to_numpy(dtype=float)
    if values.size <= SMALL_CELLS:
        x = _complete(expr).to_numpy(dtype=float)
        if x.shape[0] > n_top:
            var = x.var(axis=1, ddof=1)
            keep = np.sort(np.argsort(-var, kind="stable")[:n_top])
            x = x[keep]
    else:  # gene variances in blocks of rows: only the top genes are copied
        rows = _complete_rows(values)
        if rows.size > n_top:
            var = np.empty(rows.size)
            for sl in _row_blocks(rows.size, values.shape[1]):
                var[sl] = _rows(values, rows, sl).var(axis=1, ddof=1)
            rows = rows[np.sort(np.argsort(-var, kind="stable")[:n_top])]
        x = values[rows]
    x = x.T - x.T.mean(axis=0)  # samples x genes, centred per gene
    k = max(0, min(n_components, min(x.shape) - 1 if min(x.shape) > 1 else 0))
    names = [f"PC{i + 1}" for i in range(k)]
    if k == 0:
        return pd.DataFrame(index=pd.Index(samples, name="sample")), pd.DataFrame(
            {"component": [], "variance_explained": []})
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    total = float((s ** 2).sum())
    u, s, vt = u[:, :k], s[:k], vt[:k]
    flip = np.sign(vt[np.arange(k), np.argmax(np.abs(vt), axis=1)])
    flip[flip == 0] = 1.0
    scores = pd.DataFrame(u * s * flip, index=pd.Index(samples, name="sample"), columns=names)
    ratio = (s ** 2) / total if total > 0 else np.zeros(k)
    variance = pd.DataFrame({"component": names, "variance_explained": ratio})
    return scores, variance


# --------------------------------------------------------------------------- distributions

QUANTILES = {"min": 0.0, "q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95, "max": 1.0}


def distribution_summary(expr: pd.DataFrame) -> pd.DataFrame:
    """Per sample: number of values, missing values, mean and the quantiles of `QUANTILES`."""
    rows = []
    for sample in expr.columns:
        v = expr[sample].to_numpy(dtype=float)
        finite = v[np.isfinite(v)]
        row = {"sample": sample, "n_values": int(finite.size), "n_missing": int(v.size - finite.size),
               "mean": float(finite.mean()) if finite.size else np.nan}
        qs = np.quantile(finite, list(QUANTILES.values())) if finite.size else [np.nan] * len(QUANTILES)
        row.update(dict(zip(QUANTILES, map(float, qs))))
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- sample order and bins


def correlation(expr: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation between samples over the genes measured in every sample.

    Small matrices: `np.corrcoef`. Larger ones (more than `SMALL_CELLS` values) without a
    copy of the matrix: the cross-products of the sample-centred values are summed over
    blocks of genes into the samples x samples result (BLAS dsyrk), the only large
    allocation (8 x samples^2 bytes: 0.8 GB for 10,000 samples); equal to `np.corrcoef`
    up to rounding (~1e-15).
    """
    values = expr.to_numpy(dtype=float)
    if values.size <= SMALL_CELLS:
        data = _complete(expr).to_numpy(dtype=float)
        if data.shape[0] < 2:
            return pd.DataFrame(np.eye(expr.shape[1]), index=expr.columns, columns=expr.columns)
        r = np.atleast_2d(np.corrcoef(data, rowvar=False))
    else:
        rows = _complete_rows(values)
        if rows.size < 2:
            return pd.DataFrame(np.eye(expr.shape[1]), index=expr.columns, columns=expr.columns)
        r = _correlation_blocked(values, rows)
    return pd.DataFrame(r, index=expr.columns, columns=expr.columns)


def _correlation_blocked(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """np.corrcoef(values[rows], rowvar=False) in blocks of genes (see `correlation`)."""
    from scipy.linalg.blas import dsyrk

    n = values.shape[1]
    mean = np.zeros(n)
    for sl in _row_blocks(rows.size, n):
        mean += _rows(values, rows, sl).sum(axis=0)
    mean /= rows.size
    # dsyrk accumulates the upper triangle of a Fortran-ordered matrix in place: c.T is
    # the C-ordered samples x samples result.
    c = np.zeros((n, n), order="F")
    for sl in _row_blocks(rows.size, n):
        centred = np.asfortranarray(_rows(values, rows, sl) - mean)  # block genes x samples
        c = dsyrk(1.0, centred, beta=1.0, c=c, trans=1, lower=0, overwrite_c=1)  # += centred.T @ centred
        del centred
    r = c.T  # C-ordered; its lower triangle holds the sums
    d = np.sqrt(np.diag(r).copy())
    with np.errstate(invalid="ignore", divide="ignore"):
        r /= d[:, None]
        r /= d[None, :]
    np.clip(r, -1, 1, out=r)
    for i in range(n - 1):  # mirror: exactly symmetric
        r[i, i + 1:] = r[i + 1:, i]
    return r


def sample_order(corr: pd.DataFrame, groups: pd.Series) -> list[str]:
    """Samples by group (resistant, sensitive, others), then by average-linkage clustering
    on 1 - Pearson r within each group (leaf order of scipy's dendrogram)."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    groups = groups.reindex(corr.index).fillna("other").astype(str)
    rank = _group_rank(groups)
    r = corr.to_numpy(dtype=float)
    labels = groups.to_numpy()
    order: list[str] = []
    for g in sorted(groups.unique(), key=lambda name: (rank[groups == name].iloc[0], name)):
        pos = np.flatnonzero(labels == g)
        members = [corr.index[i] for i in pos]
        if len(members) > 2:
            leaves = leaves_list(linkage(_condensed_distance(r, pos), method="average"))
            members = [members[i] for i in leaves]
        order += members
    return order


def _condensed_distance(r: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """squareform of the symmetrised distance clip((d + d.T) / 2, 0), d = 1 - r[pos][:, pos],
    built row by row (no members x members temporaries; the same numbers)."""
    from scipy.spatial.distance import squareform

    m = pos.size
    if m * m <= SMALL_CELLS:
        d = 1.0 - r[np.ix_(pos, pos)]
        d = np.clip((d + d.T) / 2, 0, None)
        np.fill_diagonal(d, 0.0)
        return squareform(d, checks=False)
    out = np.empty(m * (m - 1) // 2)
    start = 0
    for i in range(m - 1):
        rest = pos[i + 1:]
        upper = 1.0 - r[pos[i], rest]
        lower = 1.0 - r[rest, pos[i]]
        out[start:start + rest.size] = np.clip((upper + lower) / 2, 0, None)
        start += rest.size
    return out


def display_columns(order: list[str], groups: pd.Series, max_columns: int) -> pd.DataFrame:
    """Heatmap columns: one per sample, or consecutive bins of samples within each group
    when there are more than `max_columns` samples.

    Returns `column, group, n_samples, members` (members comma-separated, in order).
    """
    groups = groups.reindex(order).fillna("other").astype(str)
    n = len(order)
    if n <= max_columns:
        return pd.DataFrame({"column": order, "group": groups.to_numpy(), "n_samples": 1, "members": order})
    rows = []
    blocks = [(g, [s for s in order if groups[s] == g]) for g in dict.fromkeys(groups.to_numpy())]
    for g, members in blocks:
        n_bins = max(1, round(max_columns * len(members) / n))
        for i, chunk in enumerate(np.array_split(np.array(members, dtype=object), n_bins), start=1):
            if len(chunk) == 0:
                continue
            rows.append({"column": f"{g} bin {i} ({len(chunk)} samples)", "group": g,
                         "n_samples": len(chunk), "members": ",".join(map(str, chunk))})
    return pd.DataFrame(rows)


def _members(columns: pd.DataFrame) -> list[list[str]]:
    return [str(m).split(",") for m in columns["members"]]


def correlation_display(corr: pd.DataFrame, columns: pd.DataFrame) -> pd.DataFrame:
    """Correlation matrix on the display columns (mean of the block's entries; the diagonal
    of a sample with itself is left out of a bin's own block unless the bin has one sample).

    Returns a wide table: `column, group, n_samples` then one value column per display column.
    """
    groups = _members(columns)
    idx = {s: i for i, s in enumerate(corr.index)}
    r = corr.to_numpy(dtype=float)
    k = len(groups)
    out = np.empty((k, k))
    pos = [np.array([idx[s] for s in g]) for g in groups]
    for a in range(k):
        for b in range(a, k):
            block = r[np.ix_(pos[a], pos[b])]
            if a == b and len(pos[a]) > 1:
                mask = ~np.eye(len(pos[a]), dtype=bool)
                value = float(block[mask].mean())
            else:
                value = float(block.mean())
            out[a, b] = out[b, a] = value
    table = pd.DataFrame(out, columns=list(columns["column"]))
    table.insert(0, "n_samples", columns["n_samples"].to_numpy())
    table.insert(0, "group", columns["group"].to_numpy())
    table.insert(0, "column", columns["column"].to_numpy())
    return table


# --------------------------------------------------------------------------- outliers


def _ks_to_pooled(expr: pd.DataFrame, grid_size: int = 512) -> pd.Series:
    """Kolmogorov-Smirnov distance of each sample's values to the pooled values, evaluated
    on `grid_size` quantiles of the pooled distribution (arrayQualityMetrics' box plot rule)."""
    from ..pp.log_scale import finite_quantiles

    values = expr.to_numpy(dtype=float)
    # exact quantiles of the pooled values without pooling them (a copy of the matrix);
    # the pooled ECDF at the grid is the sum of the samples' counts
    n_pooled, grid = finite_quantiles(values, np.linspace(0, 1, grid_size), BLOCK_CELLS)
    if n_pooled == 0:
        return pd.Series(np.nan, index=expr.columns)
    counts = np.zeros((values.shape[1], grid.size), dtype=np.int64)
    sizes = np.zeros(values.shape[1], dtype=np.int64)
    for j in range(values.shape[1]):
        v = np.sort(values[:, j][np.isfinite(values[:, j])])
        sizes[j] = v.size
        counts[j] = np.searchsorted(v, grid, side="right")
    f_pool = counts.sum(axis=0) / n_pooled
    out = {}
    for j, sample in enumerate(expr.columns):
        if sizes[j] == 0:
            out[sample] = np.nan
            continue
        f = counts[j] / sizes[j]
        out[sample] = float(np.max(np.abs(f - f_pool)))
    return pd.Series(out)


def _upper_fence(x: np.ndarray, coef: float, min_iqr: float) -> float:
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return np.inf
    q1, q3 = np.quantile(finite, [0.25, 0.75])
    return float(q3 + coef * max(q3 - q1, min_iqr))


def flag_outliers(expr: pd.DataFrame, groups: pd.Series, corr: pd.DataFrame | None = None, *,
                  coef: float = 1.5, min_iqr_correlation: float = 0.01,
                  min_iqr_ks: float = 0.02) -> pd.DataFrame:
    """Outlier samples by two arrayQualityMetrics rules (Kauffmann et al. 2009).

    - `distance`: 1 - mean Pearson r to the other samples; outlier above
      Q3 + coef * max(IQR, min_iqr_correlation);
    - `ks`: Kolmogorov-Smirnov distance of the sample's log2 values to the pooled values;
      outlier above Q3 + coef * max(IQR, min_iqr_ks).

    Returns `sample, group, mean_correlation, distance, distance_fence, ks, ks_fence,
    outlier, reason`. Flagged samples are reported, not removed.
    """
    corr = correlation(expr) if corr is None else corr
    full = corr.to_numpy(dtype=float)
    n = full.shape[0]
    mean_r = np.full(n, np.nan)
    if n > 1:  # row blocks of a copy with NaN on the diagonal (the same numbers as one copy)
        for sl in _row_blocks(n, n):
            r = np.array(full[sl], order="C")
            r[np.arange(r.shape[0]), np.arange(sl.start, sl.stop)] = np.nan
            mean_r[sl] = np.nanmean(r, axis=1)
    distance = 1.0 - mean_r
    ks = _ks_to_pooled(expr).reindex(corr.index).to_numpy(dtype=float)
    d_fence = _upper_fence(distance, coef, min_iqr_correlation)
    k_fence = _upper_fence(ks, coef, min_iqr_ks)
    rows = []
    for i, sample in enumerate(corr.index):
        reasons = []
        if np.isfinite(distance[i]) and distance[i] > d_fence:
            reasons.append(f"distance to other samples {distance[i]:.3g} > fence {d_fence:.3g}")
        if np.isfinite(ks[i]) and ks[i] > k_fence:
            reasons.append(f"KS distance to pooled values {ks[i]:.3g} > fence {k_fence:.3g}")
        rows.append({"sample": sample, "group": groups.get(sample, ""), "mean_correlation": mean_r[i],
                     "distance": distance[i], "distance_fence": d_fence, "ks": ks[i], "ks_fence": k_fence,
                     "outlier": bool(reasons), "reason": "; ".join(reasons)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- gene-set heatmaps


def zscore_genes(expr: pd.DataFrame) -> pd.DataFrame:
    """Per gene, (x - mean) / sd across samples (sd with ddof=1; a constant gene gives 0)."""
    x = expr.to_numpy(dtype=float)
    mean = np.nanmean(x, axis=1, keepdims=True)
    sd = np.nanstd(x, axis=1, ddof=1, keepdims=True) if x.shape[1] > 1 else np.zeros((x.shape[0], 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sd > 0, (x - mean) / sd, 0.0)
    z[~np.isfinite(x)] = np.nan
    return pd.DataFrame(z, index=expr.index, columns=expr.columns)


def _bin_means(values: np.ndarray, positions: list[np.ndarray]) -> np.ndarray:
    """Mean over each bin's columns, ignoring missing values (NaN when a bin has none)."""
    out = np.full((values.shape[0], len(positions)), np.nan)
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    for j, pos in enumerate(positions):
        n = finite[:, pos].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = np.where(n > 0, filled[:, pos].sum(axis=1) / np.maximum(n, 1), np.nan)
    return out


def set_heatmaps(expr: pd.DataFrame, sets: list[GeneSet], columns: pd.DataFrame) -> pd.DataFrame:
    """Long table of z-scored log2 expression of each set's measured genes on the display columns.

    Columns: `gene_set, gene, direction (up/down), column, group, n_samples, z, log2`
    (z and log2 are means over the samples of a bin; binned only for large data sets).
    """
    idx = {s: i for i, s in enumerate(expr.columns)}
    positions = [np.array([idx[m] for m in members]) for members in _members(columns)]
    frames = []
    for s in sets:
        genes = [(g, "up") for g in s.up if g in expr.index] + [(g, "down") for g in s.down if g in expr.index]
        if not genes:
            continue
        sub = expr.loc[[g for g, _ in genes]]
        z = _bin_means(zscore_genes(sub).to_numpy(dtype=float), positions)
        x = _bin_means(sub.to_numpy(dtype=float), positions)
        k = len(positions)
        frames.append(pd.DataFrame({
            "gene_set": s.name,
            "gene": np.repeat([g for g, _ in genes], k),
            "direction": np.repeat([d for _, d in genes], k),
            "column": np.tile(columns["column"].to_numpy(), len(genes)),
            "group": np.tile(columns["group"].to_numpy(), len(genes)),
            "n_samples": np.tile(columns["n_samples"].to_numpy(), len(genes)),
            "z": z.ravel(),
            "log2": x.ravel(),
        }))
    if not frames:
        return pd.DataFrame(columns=["gene_set", "gene", "direction", "column", "group", "n_samples", "z", "log2"])
    return pd.concat(frames, ignore_index=True)


def gene_values(expr: pd.DataFrame, groups: pd.Series, genes: list[str]) -> pd.DataFrame:
    """Per-sample log2 expression of single genes (the `gene` hypotheses): `sample, group, gene, log2`."""
    frames = [pd.DataFrame({"sample": expr.columns, "group": groups.reindex(expr.columns).to_numpy(), "gene": gene,
                            "log2": expr.loc[gene].to_numpy(dtype=float)})
              for gene in dict.fromkeys(genes) if gene in expr.index]
    if not frames:
        return pd.DataFrame(columns=["sample", "group", "gene", "log2"])
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- GSEA running sums


def running_sums(de: pd.DataFrame, sets: list[GeneSet]) -> pd.DataFrame:
    """Preranked-GSEA running enrichment score of every set, as plot vertices.

    The ranking is the one `gsea.preranked` uses (limma t, descending, ties by gene name).
    Between two hits the running sum falls linearly, so two vertices per hit (before and
    after its step) plus both ends reproduce the curve exactly at any zoom.
    Returns `gene_set, position, running_es, hit, gene, t, n_ranked` (position 0..N;
    `hit` rows carry the gene and its t).
    """
    from ._gsea import running_sum

    ranking = de[["gene", "t"]].dropna().sort_values(["t", "gene"], ascending=[False, True])
    genes = ranking["gene"].astype(str).tolist()
    t = ranking["t"].to_numpy(dtype=float)
    n = len(genes)
    frames = []
    for s in sets:
        members = set(s.up)
        rs = running_sum(genes, t, members)
        hits = np.flatnonzero(np.fromiter((g in members for g in genes), dtype=bool, count=n))
        if hits.size == 0:
            continue
        pos = [0]
        val = [0.0]
        hit = [False]
        gene = [""]
        tv = [np.nan]
        for i in hits:
            before = rs[i - 1] if i > 0 else 0.0
            pos += [int(i), int(i) + 1]
            val += [float(before), float(rs[i])]
            hit += [False, True]
            gene += ["", genes[i]]
            tv += [np.nan, float(t[i])]
        if pos[-1] != n:
            pos.append(n)
            val.append(float(rs[-1]))
            hit.append(False)
            gene.append("")
            tv.append(np.nan)
        frames.append(pd.DataFrame({"gene_set": s.name, "position": pos, "running_es": val, "hit": hit,
                                    "gene": gene, "t": tv, "n_ranked": n}))
    if not frames:
        return pd.DataFrame(columns=["gene_set", "position", "running_es", "hit", "gene", "t", "n_ranked"])
    table = pd.concat(frames, ignore_index=True)
    # drop repeated vertices (consecutive hits share a point)
    dup = table.duplicated(["gene_set", "position", "running_es", "hit"])
    return table[~dup].reset_index(drop=True)


# --------------------------------------------------------------------------- one data set


def qc_tables(expr: pd.DataFrame, groups: pd.Series, de: pd.DataFrame, sets: list[GeneSet],
              gsea_sets: list[GeneSet], hypotheses: list[Hypothesis], settings: dict | None = None,
              log: logging.Logger | None = None) -> dict[str, pd.DataFrame]:
    """Every QC / plot table of one data set, keyed by output name (see `QC_OUTPUTS`)."""
    p = {**QC_DEFAULTS, **(settings or {})}
    log = log or logging.getLogger(__name__)
    groups = groups.reindex(expr.columns).astype(str)
    scores, variance = pca(expr, n_top=int(p["pca_top_genes"]), n_components=int(p["pca_components"]))
    scores = scores.reset_index()
    scores.insert(1, "group", groups.reindex(scores["sample"]).to_numpy())
    corr = correlation(expr)
    order = sample_order(corr, groups)
    columns = display_columns(order, groups, int(p["max_heatmap_columns"]))
    columns.insert(0, "order", np.arange(1, len(columns) + 1))
    outliers = flag_outliers(expr, groups, corr, coef=float(p["outlier_coef"]),
                             min_iqr_correlation=float(p["outlier_min_iqr_correlation"]),
                             min_iqr_ks=float(p["outlier_min_iqr_ks"]))
    dist = distribution_summary(expr)
    dist.insert(1, "group", groups.reindex(dist["sample"]).to_numpy())
    single = [h.gene for h in hypotheses if h.test == "gene" and h.gene]
    tables = {
        "pca": scores,
        "pca_variance": variance,
        "distributions": dist,
        "columns": columns,
        "correlation": correlation_display(corr, columns.drop(columns="order")),
        "outliers": outliers,
        "set_heatmaps": set_heatmaps(expr, sets, columns.drop(columns="order")),
        "gene_values": gene_values(expr, groups, single),
        "gsea_running": running_sums(de, gsea_sets),
    }
    n_complete = _complete_rows(expr.to_numpy(dtype=float)).size
    log.info("PCA on %d genes: variance explained %s", min(int(p["pca_top_genes"]), n_complete),
             ", ".join(f"{c} {v:.1%}" for c, v in zip(variance["component"], variance["variance_explained"])))
    log.info("heatmap columns: %d for %d samples", len(columns), expr.shape[1])
    flagged = outliers.loc[outliers["outlier"], "sample"].tolist()
    log.info("outlier samples: %s", ", ".join(flagged) if flagged else "none")
    return tables


QC_OUTPUTS = ["pca", "pca_variance", "distributions", "columns", "correlation", "outliers", "set_heatmaps",
              "gene_values", "gsea_running"]


def run_qc(adata_path: str, de_path: str, gene_sets_path: str, gene_set_config: dict, extra: list[dict],
           settings: dict, outputs: dict[str, str], log: logging.Logger) -> None:
    """Workflow step: read one prepared data set, write every table of `QC_OUTPUTS`.

    The sets are the data set's gene sets as used (gene_sets.tsv, restricted to the
    universe): heatmaps show the genes that were scored, running sums the parts GSEA tested.
    """
    from ..genesets import catalogue as gs
    from ..genesets.universe import GeneSetsUsed
    from ..io.files import read_tsv, write_tsv
    from ..workflow.steps import load_expression
    from ._gsea import set_parts

    _, expr, groups = load_expression(adata_path)
    de = read_tsv(de_path)
    _, _, hyps = gs.collect(gene_set_config["catalogue"], gene_set_config["gmt"], extra)
    sets = [s for s in GeneSetsUsed.read(gene_sets_path).restricted.values() if s.genes]
    gsea_sets = [GeneSet(part, tuple(genes)) for _, part, genes in set_parts(sets)]
    tables = qc_tables(expr, groups, de, sets, gsea_sets, hyps, settings, log)
    missing = set(QC_OUTPUTS) - set(outputs)
    if missing:
        raise ValueError(f"run_qc: no output path for {sorted(missing)}")
    for name in QC_OUTPUTS:
        write_tsv(tables[name], outputs[name])
