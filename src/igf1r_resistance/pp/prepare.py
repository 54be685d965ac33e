"""Turn a parsed series matrix into the analysis matrix: log2 scale, genes, groups.

Three decisions are made here and each is recorded, because every later number depends
on them: whether to log2-transform (GEO2R's rule, :mod:`igf1r_resistance.pp.log_scale`), which
probe represents each gene (here), and which samples are resistant or sensitive (a regex on one
metadata field, :mod:`igf1r_resistance.pp.groups`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .designs import design_grouping, has_design, series_design_sheet
from .groups import EXCLUDED, INTERMEDIATE, RESISTANT, SENSITIVE, Grouping, group_samples
from .log_scale import BLOCK_CELLS, apply_log2

MULTI_GENE_SEPARATOR = "///"


# --------------------------------------------------------------------------- selecting without copies


def _gather_inplace(a: np.ndarray, rows: np.ndarray | None, cols: np.ndarray | None) -> np.ndarray | None:
    """`a[rows][:, cols]` written into `a`'s own memory and returned as a C-contiguous view
    of it (`a` is overwritten); None when `a` is not row-major with unit column stride.

    Rows are compacted one by one to the front of `a`'s memory (row i of the result
    lands at or before the start of source row i, so no unread row is overwritten),
    then rows are picked in column blocks, each block through a small temporary.
    """
    item = a.itemsize
    if (a.ndim != 2 or not a.flags.writeable or a.strides[1] != item or a.strides[0] % item
            or a.strides[0] < a.shape[1] * item):
        return None
    n, m = a.shape
    stride = a.strides[0] // item
    rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.intp)
    cols = np.arange(m) if cols is None else np.asarray(cols, dtype=np.intp)
    k = cols.size
    if n == 0 or k == 0:
        return np.empty((rows.size, k), dtype=a.dtype)
    span = np.lib.stride_tricks.as_strided(a, shape=((n - 1) * stride + m,), strides=(item,))
    if not (stride == m and k == m and np.array_equal(cols, np.arange(m))):
        for i in range(n):
            span[i * k:(i + 1) * k] = a[i, cols]  # a[i, cols] is a copy: overlap is safe
    compact = span[: n * k].reshape(n, k)
    if np.array_equal(rows, np.arange(n)):
        return compact
    step = max(1, BLOCK_CELLS // max(rows.size, 1))
    for start in range(0, k, step):
        compact[: rows.size, start:start + step] = compact[rows, start:start + step]
    return compact[: rows.size]


def take(frame: pd.DataFrame, rows=None, columns=None, *, inplace: bool = False) -> pd.DataFrame:
    """`frame.iloc[rows, columns]` (positions; None = all, in order) as a new frame.

    With `inplace=True` the result is written into `frame`'s own memory when its values
    are one float64 array (genes x samples views of an AnnData X, or of the buffer
    `local_data.read_matrix` fills): no second copy of a large matrix; `frame` must not be
    used afterwards. Otherwise, or when the layout does not allow it, a copy.
    """
    index = frame.index if rows is None else frame.index[rows]
    cols = frame.columns if columns is None else frame.columns[columns]
    if inplace and all(dt == np.float64 for dt in frame.dtypes) and frame.shape[1] > 0:
        values = frame.to_numpy()
        out = _gather_inplace(values.T, columns, rows)  # samples x genes, row-major
        if out is not None:
            return pd.DataFrame(out.T, index=index, columns=cols, copy=False)
        out = _gather_inplace(values, rows, columns)  # genes x samples, row-major
        if out is not None:
            return pd.DataFrame(out, index=index, columns=cols, copy=False)
    if rows is None and columns is None:
        return frame.copy()
    return frame.iloc[slice(None) if rows is None else rows, slice(None) if columns is None else columns].copy()


# --------------------------------------------------------------------------- probes -> genes


def split_symbols(symbol: object) -> list[str]:
    """Gene symbols named by one annotation cell ('A /// B' -> ['A', 'B'])."""
    if symbol is None or (isinstance(symbol, float) and np.isnan(symbol)):
        return []
    parts = [p.strip() for p in str(symbol).split(MULTI_GENE_SEPARATOR)]
    return list(dict.fromkeys(p for p in parts if p and p not in {"---", "-", "NA"}))


def collapse_probes(
    expr: pd.DataFrame, annotation: pd.DataFrame, rename=None, *, inplace: bool = False,
    preferred: pd.Series | None = None, preferred_source: str = "",
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Map probes to genes and keep one probe per gene.

    Rules, in order:
    1. a gene with a `preferred` probe (Jetset's choice on Affymetrix platforms, the same
       in every series of the platform; Li et al. 2011, BMC Bioinformatics 12:474; see
       `igf1r_resistance.pp.probes`) that is in the data keeps that probe (rule `jetset`);
    2. otherwise probes without a symbol, or absent from the annotation, are dropped;
    3. probes naming several genes are dropped, except for a gene that has no
       single-gene probe at all: then its multi-gene probes stand for it (rule
       `multi_gene_probe`; on GPL570 every IGF2 probe reads "IGF2 /// INS-IGF2" and
       Jetset has no IGF2 choice; dropping them would lose IGF2);
    4. among a gene's remaining candidate probes the one with the highest mean log2
       expression is kept (missing values ignored in the mean; rule `highest_mean`, or
       `multi_gene_probe` for rule 3's genes). This depends on the data set, so it is
       only the fallback for genes and platforms without a preferred probe.

    `annotation` has columns `probe` and `symbol`; `rename` (optional) maps a platform
    symbol to its current HGNC symbol before the rules apply; `preferred` maps a gene
    (current HGNC symbol) to its probe, `preferred_source` names where it came from.
    Returns the gene x sample matrix, a table with one row per gene (`gene, probe,
    n_candidates, rule, mean_expression`) and counts for the record. `inplace=True`
    builds the gene matrix in `expr`'s own memory (see `take`; `expr` must not be used
    afterwards).
    """
    from .probes import RULE_HIGHEST_MEAN, RULE_JETSET, RULE_MULTI_GENE

    ann = annotation.drop_duplicates("probe").set_index("probe")["symbol"]
    in_both = expr.index.intersection(ann.index)
    symbols = {p: split_symbols(ann.get(p)) for p in in_both}
    n_renamed = 0
    if rename is not None:
        renamed = {}
        for p, syms in symbols.items():
            new = list(dict.fromkeys(rename(s) for s in syms))
            n_renamed += sum(1 for a, b in zip(syms, new) if a != b) if len(new) == len(syms) else 1
            renamed[p] = new
        symbols = renamed
    n_not_annotated = int(len(expr.index) - len(in_both))
    n_no_symbol = sum(1 for s in symbols.values() if not s)
    single = {p: s[0] for p, s in symbols.items() if len(s) == 1}
    multi = {p: s for p, s in symbols.items() if len(s) > 1}
    genes_with_single = set(single.values())

    pairs = [(p, g, RULE_HIGHEST_MEAN) for p, g in single.items()]
    for p, genes in multi.items():
        pairs += [(p, g, RULE_MULTI_GENE) for g in genes if g not in genes_with_single]
    n_preferred = 0
    if preferred is not None and len(preferred):
        chosen_probe = preferred[preferred.isin(expr.index)]
        n_preferred = int(len(chosen_probe))
        # the preferred probe replaces every other candidate of its gene
        pairs = [pr for pr in pairs if pr[1] not in chosen_probe.index]
        pairs += [(p, g, RULE_JETSET) for g, p in chosen_probe.items()]
    if not pairs:
        return (
            pd.DataFrame(columns=expr.columns, dtype=float),
            pd.DataFrame(columns=["gene", "probe", "n_candidates", "rule", "mean_expression"]),
            {"n_probes": int(len(expr.index)), "n_genes": 0},
        )
    cand = pd.DataFrame(pairs, columns=["probe", "gene", "rule"])
    means = expr.mean(axis=1, skipna=True)
    cand["mean_expression"] = means.reindex(cand["probe"]).to_numpy()
    # candidates from the annotation (single-gene probes, or multi-gene ones for genes without one)
    annotated = pd.DataFrame([(p, g) for p, g in single.items()]
                             + [(p, g) for p, genes in multi.items() for g in genes if g not in genes_with_single],
                             columns=["probe", "gene"])
    n_annotated = annotated.groupby("gene")["probe"].size()
    extra = ~cand.set_index(["probe", "gene"]).index.isin(annotated.set_index(["probe", "gene"]).index)
    cand["n_candidates"] = cand["gene"].map(n_annotated).fillna(0).astype(int) + extra.astype(int)
    # highest mean wins; ties and all-missing probes resolved by probe id for determinism
    # (a gene with a preferred probe has only that candidate left)
    cand = cand.sort_values(["gene", "mean_expression", "probe"], ascending=[True, False, True], na_position="last")
    chosen = cand.drop_duplicates("gene", keep="first").reset_index(drop=True)
    if inplace and expr.index.is_unique and chosen["probe"].is_unique:
        genes = take(expr, expr.index.get_indexer(chosen["probe"]), inplace=True)
    else:
        genes = expr.loc[chosen["probe"]].copy()
    genes.index = pd.Index(chosen["gene"].to_numpy(), name="gene")
    used_multi = sorted(set(chosen.loc[chosen["rule"] == RULE_MULTI_GENE, "gene"]))
    rule_counts = chosen["rule"].value_counts()
    record = {
        "n_probes": int(len(expr.index)),
        "n_probes_not_in_annotation": n_not_annotated,
        "n_probes_without_symbol": int(n_no_symbol),
        "n_single_gene_probes": len(single),
        "n_multi_gene_probes": len(multi),
        "n_multi_gene_probes_dropped": int(sum(1 for s in multi.values() if all(g in genes_with_single for g in s))),
        "n_genes": int(len(chosen)),
        "n_genes_from_multi_gene_probes": len(used_multi),
        "n_probe_symbols_updated_to_current_hgnc": int(n_renamed),
        "n_genes_jetset": int(rule_counts.get(RULE_JETSET, 0)),
        "n_genes_highest_mean": int(rule_counts.get(RULE_HIGHEST_MEAN, 0)),
        "n_genes_multi_gene_probe": int(rule_counts.get(RULE_MULTI_GENE, 0)),
        "n_probes_shared_by_genes": int(chosen["probe"].duplicated().sum()),
        "rule": (("per gene the probe chosen by Jetset's design scores (Li et al. 2011, BMC Bioinformatics "
                  f"12:474; {preferred_source or 'preferred table'}; {n_preferred} genes with their probe in the "
                  "data), the same in every series of the platform; for other genes ") if preferred is not None
                 else "per gene ") + "the probe with the highest mean log2 expression (depends on the data set); "
                 "multi-gene probes only for genes without a single-gene probe",
    }
    table = chosen[["gene", "probe", "n_candidates", "rule", "mean_expression"]]
    return genes, table, record


# --------------------------------------------------------------------------- the whole step


@dataclass
class PreparedDataset:
    """Everything the prepare step writes for one data set."""

    adata: object  # anndata.AnnData: obs = grouped samples, var = genes, X = log2
    samples: pd.DataFrame  # every sample of the series with its group (or `excluded`)
    probes: pd.DataFrame  # one row per gene: the probe kept and why
    cells: object = None  # single-cell data: the per-cell AnnData (results/{ds}/cells.h5ad)


DATA_TYPES = {"geo": "microarray", "geo_rnaseq": "rnaseq", "single_cell": "single_cell"}


def assemble(dataset: str, settings: dict, genes: pd.DataFrame, samples: pd.DataFrame, grouping: Grouping,
             probe_table: pd.DataFrame, *, data_type: str, log2: dict, probe_collapse: dict,
             sources: dict | None = None, series_title: str = "", platform: str = "",
             notes: list[str] | None = None, extra_uns: dict | None = None, caveat: str = "",
             own_matrix: bool = False, noise_floor: dict | None = None) -> PreparedDataset:
    """Build the prepare step's outputs from a gene x sample matrix and the sample table.

    `genes`: genes x samples on the analysis scale (log2, log-CPM, ...); `samples`: one row
    per sample (index = sample id), all metadata; `grouping`: from `group_samples`. The
    AnnData keeps resistant and sensitive samples (and, for numeric groups, the
    intermediate ones, for the continuous test; obs['response'] holds the number).
    `own_matrix=True`: `genes` may be overwritten to build X without a second copy.
    `noise_floor`: the AFFX absent-control floor `{value, method, detail}` when the caller
    read one from the probe matrix (known only before probes are collapsed);
    `default_noise_floor` decides the data set's floor from it and the gene matrix. It is
    stored in `.uns['noise_floor']`, with `var['measurable']` (group mean above the floor
    in at least one group), `var['complete']` (a value in every sample; with `measurable`
    the gene universe, igf1r_resistance.genesets.universe) and `var['probe_rule']` (jetset | highest_mean | multi_gene_probe).
    """
    import anndata as ad

    from ..genesets.universe import complete_genes
    from .noise import measurable_genes

    groups = grouping.groups.reindex(samples.index).fillna(EXCLUDED)
    field = grouping.field
    if grouping.response is not None:
        grouping.response = grouping.response.reindex(samples.index)
    front, table = _sample_table(samples, groups, field, grouping.response)
    kept = groups[groups.isin([RESISTANT, SENSITIVE, INTERMEDIATE])]
    kept = kept[kept.index.isin(genes.columns)]
    matrix = _kept_columns(genes, kept.index, own_matrix)
    categories = [SENSITIVE, RESISTANT] + ([INTERMEDIATE] if (kept == INTERMEDIATE).any() else [])
    obs = pd.DataFrame(
        {
            "group": pd.Categorical(kept.to_numpy(), categories=categories),
            "title": front.loc[kept.index, "title"].fillna("").astype(str).to_numpy(),
        },
        index=pd.Index(kept.index.astype(str), name="sample"),
    )
    if grouping.response is not None:
        obs["response"] = grouping.response.reindex(kept.index).to_numpy(dtype=float)
    by_gene = probe_table.set_index("gene") if len(probe_table) else pd.DataFrame(columns=["probe", "rule"])
    noise_floor = default_noise_floor(matrix, data_type, log2, controls=noise_floor)
    labels, levels = obs["group"].astype(str).set_axis(kept.index), None
    if grouping.record.get("group_rule") == "design":
        # a design data set: its fit uses every level, so a gene is measurable when its mean
        # clears the floor in any level; the design columns go to obs for the fit
        from .designs import design_obs, factor_levels

        for column, values in design_obs(samples.loc[kept.index], settings["design"],
                                         settings.get("contrasts")).items():
            obs[column] = values.to_numpy()
        labels = factor_levels(obs, settings["design"]).astype(str).set_axis(kept.index)
        levels = tuple(sorted(labels.unique()))
    measurable = measurable_genes(matrix, labels, noise_floor["value"], levels=levels)
    var = pd.DataFrame(
        {"probe": by_gene["probe"].reindex(matrix.index).fillna("").astype(str).to_numpy(),
         "probe_rule": by_gene["rule"].reindex(matrix.index).fillna("").astype(str).to_numpy(),
         # the gene universe (gene_universe): measured in every sample, above the noise floor
         "complete": complete_genes(matrix.to_numpy()),
         "measurable": measurable.to_numpy(dtype=bool)},
        index=pd.Index(matrix.index.astype(str), name="gene"),
    )
    adata = ad.AnnData(X=matrix.T.to_numpy(dtype=np.float64), obs=obs, var=var)
    record = {k: v for k, v in grouping.record.items()}
    adata.uns["dataset"] = _dataset_info(dataset, settings, data_type, platform, series_title, record, kept,
                                         groups, caveat)
    adata.uns["log2"] = log2
    adata.uns["probe_collapse"] = probe_collapse
    adata.uns["sources"] = {k: str(v) for k, v in (sources or {}).items()}
    adata.uns["series_matrix_notes"] = "; ".join(notes or []) or "none"
    adata.uns["de"] = de_method(data_type, log2)
    adata.uns["noise_floor"] = {**noise_floor, "value": float(noise_floor["value"]),
                                "n_measurable": int(measurable.sum()), "n_genes": int(len(measurable))}
    if grouping.response is not None:
        adata.uns["response"] = {
            "field": field, "higher_is": record.get("higher_is", RESISTANT),
            "n_samples": int(obs["response"].notna().sum()),
            "test": "Spearman correlation of each set score with obs['response'] over every sample with a value "
                    "(sign flipped when higher_is = sensitive, so positive = higher in resistant)",
        }
    for key, value in (extra_uns or {}).items():
        adata.uns[key] = value
    return PreparedDataset(adata=adata, samples=table, probes=probe_table)


def _sample_table(samples: pd.DataFrame, groups: pd.Series, field: str,
                  response: pd.Series | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """samples.tsv: group, title, the grouping field and value (and response) in front of
    all metadata; returns (the front columns, the table)."""
    front = pd.DataFrame(
        {
            "group": groups,
            "title": samples["title"] if "title" in samples else pd.Series("", index=samples.index),
            "group_field": field,
            "group_value": samples[field].fillna("").astype(str) if field in samples else "",
        },
        index=samples.index,
    )
    if response is not None:
        front["response"] = response
    # metadata columns named like the front columns are kept under another name (title is the front's)
    clash = {c: f"{c} (metadata)" for c in front.columns if c in samples.columns and c != "title"}
    table = pd.concat([front, samples.drop(columns=["title"], errors="ignore").rename(columns=clash)], axis=1)
    table.index.name = "sample"
    return front, table.reset_index()


def _kept_columns(genes: pd.DataFrame, kept: pd.Index, own_matrix: bool) -> pd.DataFrame:
    """The columns `kept` of `genes`, in place when the caller owns the matrix."""
    if own_matrix and kept.equals(genes.columns):
        return genes  # every sample kept, in order: no copy
    if own_matrix and genes.columns.is_unique:
        return take(genes, columns=genes.columns.get_indexer(kept), inplace=True)
    return genes[kept]


def _dataset_info(dataset: str, settings: dict, data_type: str, platform: str, series_title: str, record: dict,
                  kept: pd.Series, groups: pd.Series, caveat: str) -> dict:
    """`.uns['dataset']`: the data set's description, grouping record and group sizes."""
    return {
        "id": dataset,
        "type": str(settings.get("type", "geo")),
        "data_type": data_type,
        "platform": str(platform or settings.get("platform") or ""),
        "drug": str(settings.get("drug", "")),
        "model": str(settings.get("model", "")),
        "model_type": str(settings.get("model_type", "chemotherapy resistance")),
        "series_title": series_title,
        **record,
        "n_resistant": int((kept == RESISTANT).sum()),
        "n_sensitive": int((kept == SENSITIVE).sum()),
        "n_excluded": int((groups == EXCLUDED).sum()),
        "caveat": caveat,
    }


def default_noise_floor(genes: pd.DataFrame, data_type: str, log2: dict, controls: dict | None = None) -> dict:
    """The noise floor of a data set (see `noise` for the estimators and their order).

    Single cells and z-scores: not applicable; RNA-seq log-CPM: filterByExpr's CPM cut-off
    (min.count at the median library size); other log-scale values: the lower mode of the
    per-gene means, or the higher of it and `controls` (the AFFX absent-control floor the
    caller read from the probe matrix).
    """
    from .noise import higher_floor, lower_mode_floor, not_applicable

    if data_type == "single_cell":
        return not_applicable("single cells: values carry no common absolute scale across genes "
                              f"({log2.get('scale', 'as declared')}); every gene counts as measurable")
    if log2.get("scale") == "zscore":
        return not_applicable("per-gene z-scores: every gene averages ~0; every gene counts as measurable")
    if log2.get("scale") == "log2-CPM" and log2.get("library_sizes"):
        cutoff = float(log2["min_count"]) / float(np.median(log2["library_sizes"])) * 1e6
        return {"value": float(np.log2(cutoff)), "method": "filter_by_expr",
                "detail": (f"edgeR filterByExpr's cut-off: min.count {log2['min_count']:g} at the median library "
                           f"size = {cutoff:.3g} CPM (log2 {np.log2(cutoff):.2f}); genes below it were mostly "
                           "removed before normalisation")}
    means = np.asarray(genes.mean(axis=1, skipna=True), dtype=float)
    lower = lower_mode_floor(means)
    return lower if controls is None else higher_floor(controls, lower)


def de_method(data_type: str, log2: dict) -> dict:
    """Which limma variant the de step should run, decided by what the values are.

    Counts (log-CPM) get limma-trend (Law et al. 2014: the mean-variance trend of log-CPM
    is strong); intensities, z-scores and log-normalised single-cell values get limma's
    ordinary moderated t.
    """
    if log2.get("scale") == "log2-CPM":
        return {"method": "limma-trend", "trend": True,
                "reason": "log-CPM of RNA-seq counts: prior variance follows the mean (eBayes(trend=TRUE))"}
    if log2.get("scale") == "zscore":
        return {"method": "limma", "trend": False,
                "reason": "per-gene z-scores: ordinary moderated t (eBayes); every gene has mean 0, so AveExpr "
                          "says nothing about expression level (no noise floor applies)"}
    return {"method": "limma", "trend": False,
            "reason": f"{data_type} values on a log scale: ordinary moderated t (eBayes)"}


def _check_platform(sm, platform: str | None, dataset: str, path: str, notes: list[str]) -> pd.Index:
    """Samples of the configured platform; other platforms' samples of a mixed matrix are set aside."""
    from ..errors import InputFormatError

    if not platform or "platform_id" not in sm.samples.columns:
        return sm.samples.index
    ids = sm.samples["platform_id"].fillna("").astype(str)
    other = ids[(ids != platform) & (ids != "")]
    if len(other) == len(sm.samples):
        raise InputFormatError(
            f"data set {dataset}: {path} holds samples of platform "
            f"{sorted(set(other))} but config says platform: {platform}"
        )
    if len(other):
        notes.append(
            f"{len(other)} sample(s) of other platform(s) {', '.join(sorted(set(other)))} in this matrix set "
            f"aside (config platform: {platform}): {', '.join(other.index[:10])}"
        )
    return ids.index[~ids.index.isin(other.index)]


def prepare_dataset(
    series_matrix_path: str,
    annotation: pd.DataFrame,
    dataset: str,
    settings: dict,
    sources: dict[str, str] | None = None,
    rename=None,
    preferred: pd.Series | None = None,
    preferred_source: str = "",
) -> PreparedDataset:
    """Parse, log2, collapse probes and assign groups for one GEO data set.

    `settings` is the data set's config entry (groups, log2, platform, drug, model, ...).
    `preferred`: gene -> probe (Jetset's choice for the platform, `probes.read_jetset_choice`),
    used before the highest-mean rule (`collapse_probes`). The noise floor comes from the
    never-spiked AFFX control probes when the matrix has them (`noise.affx_floor`), else
    from the lower mode of the gene means.
    When the matrix mixes platforms (samples of several GPLs in one file), only the
    samples of the configured platform are analysed; the others are listed as excluded.
    Raises the library's errors with the data set and field named.
    """
    from ..errors import InputFormatError
    from ..io.series_matrix import read_series_matrix

    sm = read_series_matrix(series_matrix_path)
    if sm.expression.shape[0] == 0:
        raise InputFormatError(
            f"data set {dataset}: {series_matrix_path} has an empty data table; this is usually an "
            "RNA-seq series whose counts are not in the series matrix. Use GEO's NCBI-computed counts with "
            f"`type: geo_rnaseq` for {dataset} (sample metadata still come from this series matrix), or "
            "give your own table as a local data set (`type: matrix`, with `values: counts` for raw counts)"
        )
    platform = settings.get("platform")
    notes = list(sm.notes)
    on_platform = _check_platform(sm, platform, dataset, series_matrix_path, notes)
    samples = sm.samples
    channels = samples.get("channel_count")
    if channels is not None and (channels.astype(str) == "2").any():
        notes.append("two-channel array: values are usually log ratios of channel 1 over channel 2 "
                     "(the _ch2 fields, suffixed ' (ch2)', describe the reference channel)")
    if has_design(settings):
        # the design's terms are characteristics keys or sample fields: columns named as the config names them
        samples = series_design_sheet(dataset, samples, settings["design"], sm.characteristics, series_matrix_path)
        grouping = design_grouping(dataset, samples.loc[on_platform], settings["design"], settings["contrasts"],
                                   where=series_matrix_path)
    else:
        grouping = group_samples(samples.loc[on_platform], settings["groups"], dataset)
    groups = grouping.groups.reindex(samples.index).fillna(EXCLUDED)
    if grouping.response is not None:
        grouping.response = grouping.response.reindex(samples.index)
    grouping.groups = groups

    log_expr, decision = apply_log2(sm.expression[list(on_platform)], settings.get("log2", "auto"))
    from .noise import affx_floor

    fitted = [RESISTANT, SENSITIVE] + ([INTERMEDIATE] if has_design(settings) else [])  # a design fits every level
    floor = affx_floor(log_expr, samples=groups.index[groups.isin(fitted)])
    genes, probe_table, record = collapse_probes(log_expr, annotation, rename, preferred=preferred,
                                                 preferred_source=preferred_source)
    if record["n_genes"] == 0:
        from ..errors import AnnotationError

        raise AnnotationError(
            f"data set {dataset}: no probe of {series_matrix_path} has a gene symbol in the "
            f"annotation of platform {platform or '?'}; is platform_annotation the right table?"
        )
    log2 = {**decision.as_dict(), "scale": "log2" if decision.transformed else "as submitted (log scale)"}
    return assemble(
        dataset, settings, genes, samples, grouping, probe_table, data_type="microarray", log2=log2,
        probe_collapse=record, sources=sources, series_title=(sm.series.get("title") or [""])[0],
        platform=platform or "", notes=notes, noise_floor=floor,
    )
