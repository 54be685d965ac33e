"""Turn a parsed series matrix into the analysis matrix: log2 scale, genes, groups.

Three decisions are made here and each is recorded, because every later number depends
on them: whether to log2-transform (GEO2R's rule), which probe represents each gene,
and which samples are resistant or sensitive (a regex on one metadata field).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ConfigError, GroupingError

MULTI_GENE_SEPARATOR = "///"
RESISTANT, SENSITIVE, EXCLUDED = "resistant", "sensitive", "excluded"
#: numeric groups: samples between the resistant and sensitive fractions (kept for the
#: continuous test, ignored by the group tests)
INTERMEDIATE = "intermediate"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

# Short names users write in `groups.by`, mapped to the series-matrix field names.
FIELD_ALIASES = {
    "source_name": "source_name_ch1",
    "characteristics": "characteristics_ch1",
    "sample": "geo_accession",
    "gsm": "geo_accession",
    "organism": "organism_ch1",
}


# --------------------------------------------------------------------------- log2


@dataclass(frozen=True)
class Log2Decision:
    """The outcome of the log2 rule and the numbers that drove it."""

    transformed: bool
    mode: str  # auto | yes | no (the config value)
    reason: str
    quantiles: dict[str, float]  # q0, q25, q50, q75, q99, q100 of the raw values
    n_nonpositive_set_missing: int

    def as_dict(self) -> dict:
        return {
            "transformed": self.transformed,
            "mode": self.mode,
            "reason": self.reason,
            "n_nonpositive_set_missing": self.n_nonpositive_set_missing,
            **{f"quantile_{k}": v for k, v in self.quantiles.items()},
        }


def geo2r_needs_log2(values: np.ndarray) -> tuple[bool, dict[str, float]]:
    """GEO2R's rule: log-transform when q99 > 100, or when max - min > 50 and q25 > 0.

    Quantiles as R's `quantile(ex, c(0, .25, .5, .75, .99, 1), na.rm=TRUE)` (type 7,
    numpy's default linear interpolation).
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("no finite expression values")
    q = np.quantile(finite, [0.0, 0.25, 0.5, 0.75, 0.99, 1.0])
    names = ["q0", "q25", "q50", "q75", "q99", "q100"]
    quantiles = {n: float(v) for n, v in zip(names, q)}
    needs = bool(q[4] > 100 or (q[5] - q[0] > 50 and q[1] > 0))
    return needs, quantiles


def apply_log2(expr: pd.DataFrame, mode: str = "auto") -> tuple[pd.DataFrame, Log2Decision]:
    """Apply the log2 decision (`mode`: auto = GEO2R rule, yes = always, no = never).

    As GEO2R does, values <= 0 become missing before the log is taken.
    """
    if mode not in {"auto", "yes", "no"}:
        raise ConfigError(f"log2 must be one of auto, yes, no (got {mode!r})")
    needs, quantiles = geo2r_needs_log2(expr.to_numpy(dtype=float))
    if mode == "auto":
        transform = needs
        reason = (
            f"GEO2R rule: q99 = {quantiles['q99']:.4g}, max - min = "
            f"{quantiles['q100'] - quantiles['q0']:.4g}, q25 = {quantiles['q25']:.4g} -> "
            + ("values look linear, log2 applied" if needs else "values look log-scaled, kept")
        )
    else:
        transform = mode == "yes"
        reason = f"set in config (log2: {mode}); the GEO2R rule would have said {'yes' if needs else 'no'}"
    n_nonpositive = 0
    if transform:
        values = expr.to_numpy(dtype=float).copy()
        nonpositive = values <= 0
        n_nonpositive = int(nonpositive.sum())
        values[nonpositive] = np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.log2(values)
        expr = pd.DataFrame(values, index=expr.index, columns=expr.columns)
    return expr, Log2Decision(transform, mode, reason, quantiles, n_nonpositive)


# --------------------------------------------------------------------------- probes -> genes


def split_symbols(symbol: object) -> list[str]:
    """Gene symbols named by one annotation cell ('A /// B' -> ['A', 'B'])."""
    if symbol is None or (isinstance(symbol, float) and np.isnan(symbol)):
        return []
    parts = [p.strip() for p in str(symbol).split(MULTI_GENE_SEPARATOR)]
    return list(dict.fromkeys(p for p in parts if p and p not in {"---", "-", "NA"}))


def collapse_probes(
    expr: pd.DataFrame, annotation: pd.DataFrame, rename=None
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Map probes to genes and keep one probe per gene.

    Rules, in order:
    1. probes without a symbol, or absent from the annotation, are dropped;
    2. probes naming several genes are dropped, except for a gene that has no
       single-gene probe at all: then its multi-gene probes stand for it (on GPL570
       every IGF2 probe reads "IGF2 /// INS-IGF2"; dropping them would lose IGF2);
    3. among a gene's candidate probes the one with the highest mean log2 expression
       is kept (missing values ignored in the mean).

    `annotation` has columns `probe` and `symbol`; `rename` (optional) maps a platform
    symbol to its current HGNC symbol before the rules apply. Returns the gene x sample matrix,
    a table with one row per gene (`gene, probe, n_candidates, rule, mean_expression`)
    and counts for the record.
    """
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

    pairs = [(p, g, "single_gene_probe") for p, g in single.items()]
    for p, genes in multi.items():
        pairs += [(p, g, "multi_gene_probe_only_option") for g in genes if g not in genes_with_single]
    if not pairs:
        return (
            pd.DataFrame(columns=expr.columns, dtype=float),
            pd.DataFrame(columns=["gene", "probe", "n_candidates", "rule", "mean_expression"]),
            {"n_probes": int(len(expr.index)), "n_genes": 0},
        )
    cand = pd.DataFrame(pairs, columns=["probe", "gene", "rule"])
    means = expr.mean(axis=1, skipna=True)
    cand["mean_expression"] = means.reindex(cand["probe"]).to_numpy()
    cand["n_candidates"] = cand.groupby("gene")["probe"].transform("size")
    # highest mean wins; ties and all-missing probes resolved by probe id for determinism
    cand = cand.sort_values(["gene", "mean_expression", "probe"], ascending=[True, False, True], na_position="last")
    chosen = cand.drop_duplicates("gene", keep="first").reset_index(drop=True)
    genes = expr.loc[chosen["probe"]].copy()
    genes.index = pd.Index(chosen["gene"].to_numpy(), name="gene")
    used_multi = sorted(set(chosen.loc[chosen["rule"] != "single_gene_probe", "gene"]))
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
        "rule": "highest mean log2 expression per gene; multi-gene probes only for genes without a single-gene probe",
    }
    table = chosen[["gene", "probe", "n_candidates", "rule", "mean_expression"]]
    return genes, table, record


# --------------------------------------------------------------------------- groups


def resolve_field(samples: pd.DataFrame, by: str, dataset: str) -> str:
    """The sample-table column that `groups.by` names (exact, alias, or case-insensitive)."""
    if by in samples.columns:
        return by
    alias = FIELD_ALIASES.get(by.lower())
    if alias and alias in samples.columns:
        return alias
    lowered = {c.lower(): c for c in samples.columns}
    if by.lower() in lowered:
        return lowered[by.lower()]
    raise GroupingError(
        f"data set {dataset}: groups.by = {by!r} is not a sample field. Fields found: "
        + ", ".join(repr(c) for c in samples.columns if not c.startswith("contact_"))
    )


def assign_groups(samples: pd.DataFrame, rule: dict, dataset: str, min_per_group: int = 2) -> pd.Series:
    """Resistant / sensitive / excluded per sample from a regex rule on one field.

    `rule` = {by, resistant, sensitive}; patterns are case-insensitive regexes searched in
    the field. A sample matching both is an error (ambiguous rule); a sample matching
    neither is excluded. Each group needs `min_per_group` samples.
    """
    field = resolve_field(samples, rule["by"], dataset)
    values = samples[field].fillna("").astype(str)
    patterns = {}
    for group in (RESISTANT, SENSITIVE):
        try:
            patterns[group] = re.compile(str(rule[group]), re.IGNORECASE)
        except re.error as exc:
            raise GroupingError(
                f"data set {dataset}: groups.{group} = {rule[group]!r} is not a valid regex ({exc})"
            ) from None
    is_res = values.map(lambda v: bool(patterns[RESISTANT].search(v)))
    is_sen = values.map(lambda v: bool(patterns[SENSITIVE].search(v)))
    both = values.index[is_res & is_sen]
    if len(both):
        raise GroupingError(
            f"data set {dataset}: samples {', '.join(both[:5])} match both groups.resistant "
            f"({rule[RESISTANT]!r}) and groups.sensitive ({rule[SENSITIVE]!r}) in field {field!r} "
            f"(value {values[both[0]]!r}); make the patterns exclusive, e.g. anchor them with ^ and $"
        )
    seen = ", ".join(repr(v) for v in sorted(set(values))[:8])
    if not is_res.any() and not is_sen.any():
        raise GroupingError(
            f"data set {dataset}: neither groups.resistant ({rule[RESISTANT]!r}) nor groups.sensitive "
            f"({rule[SENSITIVE]!r}) matches any sample in field {field!r}; values there: {seen}"
        )
    for group, hits in ((RESISTANT, is_res), (SENSITIVE, is_sen)):
        if hits.sum() < min_per_group:
            raise GroupingError(
                f"data set {dataset}: groups.{group} ({rule[group]!r}) matches {int(hits.sum())} "
                f"sample(s) in field {field!r}, at least {min_per_group} are needed; values there: {seen}"
            )
    groups = pd.Series(EXCLUDED, index=samples.index, name="group")
    groups[is_res] = RESISTANT
    groups[is_sen] = SENSITIVE
    return groups


def parse_numbers(values: pd.Series) -> pd.Series:
    """The first number in each cell ('3.2 uM' -> 3.2, 'IC50: 1e-3' -> 0.001); NaN when there is none."""

    def first(v: object) -> float:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return np.nan
        if isinstance(v, (int, float, np.number)):
            return float(v)
        m = _NUMBER.search(str(v))
        return float(m.group(0)) if m else np.nan

    return values.map(first).astype(float)


def _fraction_count(fraction: float, n: int) -> int:
    """Samples in a fraction of n: round half up (0.33 of 9 -> 3, of 10 -> 3)."""
    return int(np.floor(fraction * n + 0.5))


def assign_numeric_groups(samples: pd.DataFrame, rule: dict, dataset: str,
                          min_per_group: int = 2) -> tuple[pd.Series, pd.Series, dict]:
    """Resistant / sensitive / intermediate / excluded from a numeric field (IC50, AUC, ...).

    `rule` = {by, numeric: true, resistant_fraction, sensitive_fraction, higher_is}. Of the
    n samples with a number in the field, the k = round(fraction * n) at the resistant end
    (the highest values when higher_is = resistant, the default) are resistant and the k at
    the other end sensitive; samples tied with the k-th value join its group, and a sample
    that would be in both is an error. The others are `intermediate`; samples without a
    number are `excluded`. Returns (groups, response, record) where response is the parsed
    number (NaN where missing) and record describes the cut-offs.
    """
    field = resolve_field(samples, rule["by"], dataset)
    response = parse_numbers(samples[field])
    response.name = "response"
    have = response.dropna()
    n = len(have)
    higher_is = rule.get("higher_is", RESISTANT)
    k_res = _fraction_count(float(rule["resistant_fraction"]), n)
    k_sen = _fraction_count(float(rule["sensitive_fraction"]), n)
    if n == 0:
        shown = ", ".join(repr(v) for v in samples[field].astype(str).unique()[:8])
        raise GroupingError(f"data set {dataset}: groups.by = {field!r} holds no number in any sample "
                            f"(numeric: true); values there: {shown}")
    for group, k, frac in ((RESISTANT, k_res, rule["resistant_fraction"]),
                           (SENSITIVE, k_sen, rule["sensitive_fraction"])):
        if k < min_per_group:
            raise GroupingError(
                f"data set {dataset}: groups.{group}_fraction = {frac} of the {n} samples with a number in "
                f"{field!r} is {k} sample(s); at least {min_per_group} are needed (raise the fraction)"
            )
    ordered = np.sort(have.to_numpy())
    if higher_is == RESISTANT:
        high_cut, low_cut = ordered[n - k_res], ordered[k_sen - 1]
        is_res, is_sen = response >= high_cut, response <= low_cut
    else:
        high_cut, low_cut = ordered[n - k_sen], ordered[k_res - 1]
        is_res, is_sen = response <= low_cut, response >= high_cut
    both = response.index[is_res & is_sen]
    if len(both):
        raise GroupingError(
            f"data set {dataset}: with resistant_fraction {rule['resistant_fraction']} and sensitive_fraction "
            f"{rule['sensitive_fraction']} of {n} samples the groups overlap (ties at {field} = "
            f"{response[both[0]]:g}, samples {', '.join(map(str, both[:5]))}); lower the fractions"
        )
    groups = pd.Series(EXCLUDED, index=samples.index, name="group")
    groups[response.notna()] = INTERMEDIATE
    groups[is_res] = RESISTANT
    groups[is_sen] = SENSITIVE
    res_cut = high_cut if higher_is == RESISTANT else low_cut
    sen_cut = low_cut if higher_is == RESISTANT else high_cut
    op_res, op_sen = (">=", "<=") if higher_is == RESISTANT else ("<=", ">=")
    record = {
        "group_rule": "numeric",
        "group_field": field,
        "response_field": field,
        "higher_is": higher_is,
        "resistant_fraction": float(rule["resistant_fraction"]),
        "sensitive_fraction": float(rule["sensitive_fraction"]),
        "resistant_cutoff": float(res_cut),
        "sensitive_cutoff": float(sen_cut),
        "n_with_response": int(n),
        "n_intermediate": int((groups == INTERMEDIATE).sum()),
        "group_resistant_regex": f"{field} {op_res} {res_cut:g} (top {rule['resistant_fraction']:g})",
        "group_sensitive_regex": f"{field} {op_sen} {sen_cut:g} (bottom {rule['sensitive_fraction']:g})",
    }
    return groups, response, record


@dataclass
class Grouping:
    """How the samples of a data set were split, for the outputs and the record."""

    groups: pd.Series  # per sample: resistant / sensitive / [intermediate] / excluded
    field: str
    response: pd.Series | None  # numeric response per sample (numeric groups only)
    record: dict  # group_rule, group_field, group_*_regex, cut-offs ...


def group_samples(samples: pd.DataFrame, rule: dict, dataset: str, min_per_group: int = 2) -> Grouping:
    """Split samples by the data set's `groups` rule: a regex on a field, or numeric fractions."""
    if rule.get("numeric"):
        groups, response, record = assign_numeric_groups(samples, rule, dataset, min_per_group)
        return Grouping(groups, record["group_field"], response, record)
    groups = assign_groups(samples, rule, dataset, min_per_group)
    field = resolve_field(samples, rule["by"], dataset)
    record = {
        "group_rule": "regex",
        "group_field": field,
        "group_resistant_regex": str(rule[RESISTANT]),
        "group_sensitive_regex": str(rule[SENSITIVE]),
    }
    return Grouping(groups, field, None, record)


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
             notes: list[str] | None = None, extra_uns: dict | None = None, caveat: str = "") -> PreparedDataset:
    """Build the prepare step's outputs from a gene x sample matrix and the sample table.

    `genes`: genes x samples on the analysis scale (log2, log-CPM, ...); `samples`: one row
    per sample (index = sample id), all metadata; `grouping`: from `group_samples`. The
    AnnData keeps resistant and sensitive samples (and, for numeric groups, the
    intermediate ones, for the continuous test; obs['response'] holds the number).
    """
    import anndata as ad

    groups = grouping.groups.reindex(samples.index).fillna(EXCLUDED)
    field = grouping.field
    if grouping.response is not None:
        grouping.response = grouping.response.reindex(samples.index)
    front = pd.DataFrame(
        {
            "group": groups,
            "title": samples["title"] if "title" in samples else pd.Series("", index=samples.index),
            "group_field": field,
            "group_value": samples[field].fillna("").astype(str) if field in samples else "",
        },
        index=samples.index,
    )
    if grouping.response is not None:
        front["response"] = grouping.response
    # metadata columns named like the front columns are kept under another name (title is the front's)
    clash = {c: f"{c} (metadata)" for c in front.columns if c in samples.columns and c != "title"}
    table = pd.concat([front, samples.drop(columns=["title"], errors="ignore").rename(columns=clash)], axis=1)
    table.index.name = "sample"
    table = table.reset_index()
    kept = groups[groups.isin([RESISTANT, SENSITIVE, INTERMEDIATE])]
    kept = kept[kept.index.isin(genes.columns)]
    matrix = genes[kept.index]
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
    probe_of = probe_table.set_index("gene")["probe"] if len(probe_table) else pd.Series(dtype=str)
    var = pd.DataFrame(
        {"probe": probe_of.reindex(matrix.index).fillna("").astype(str).to_numpy()},
        index=pd.Index(matrix.index.astype(str), name="gene"),
    )
    adata = ad.AnnData(X=matrix.T.to_numpy(dtype=np.float64), obs=obs, var=var)
    record = {k: v for k, v in grouping.record.items()}
    adata.uns["dataset"] = {
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
    adata.uns["log2"] = log2
    adata.uns["probe_collapse"] = probe_collapse
    adata.uns["sources"] = {k: str(v) for k, v in (sources or {}).items()}
    adata.uns["series_matrix_notes"] = "; ".join(notes or []) or "none"
    adata.uns["de"] = de_method(data_type, log2)
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


def de_method(data_type: str, log2: dict) -> dict:
    """Which limma variant the de step should run, decided by what the values are.

    Counts (log-CPM) get limma-trend (Law et al. 2014: the mean-variance trend of log-CPM
    is strong); intensities, z-scores and log-normalised single-cell values get limma's
    ordinary moderated t.
    """
    if log2.get("scale") == "log2-CPM":
        return {"method": "limma-trend", "trend": True, "low_expression_flag": True,
                "reason": "log-CPM of RNA-seq counts: prior variance follows the mean (eBayes(trend=TRUE))"}
    if log2.get("scale") == "zscore":
        return {"method": "limma", "trend": False, "low_expression_flag": False,
                "reason": "per-gene z-scores: ordinary moderated t (eBayes); every gene has mean 0, so AveExpr "
                          "says nothing about expression level and no gene is flagged low_expression"}
    return {"method": "limma", "trend": False, "low_expression_flag": True,
            "reason": f"{data_type} values on a log scale: ordinary moderated t (eBayes)"}


def _check_platform(sm, platform: str | None, dataset: str, path: str, notes: list[str]) -> pd.Index:
    """Samples of the configured platform; other platforms' samples of a mixed matrix are set aside."""
    from .errors import InputFormatError

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
) -> PreparedDataset:
    """Parse, log2, collapse probes and assign groups for one GEO data set.

    `settings` is the data set's config entry (groups, log2, platform, drug, model, ...).
    When the matrix mixes platforms (samples of several GPLs in one file), only the
    samples of the configured platform are analysed; the others are listed as excluded.
    Raises the library's errors with the data set and field named.
    """
    from .errors import InputFormatError
    from .series_matrix import read_series_matrix

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
    grouping = group_samples(samples.loc[on_platform], settings["groups"], dataset)
    groups = grouping.groups.reindex(samples.index).fillna(EXCLUDED)
    if grouping.response is not None:
        grouping.response = grouping.response.reindex(samples.index)
    grouping.groups = groups

    log_expr, decision = apply_log2(sm.expression[list(on_platform)], settings.get("log2", "auto"))
    genes, probe_table, record = collapse_probes(log_expr, annotation, rename)
    if record["n_genes"] == 0:
        from .errors import AnnotationError

        raise AnnotationError(
            f"data set {dataset}: no probe of {series_matrix_path} has a gene symbol in the "
            f"annotation of platform {platform or '?'}; is platform_annotation the right table?"
        )
    log2 = {**decision.as_dict(), "scale": "log2" if decision.transformed else "as submitted (log scale)"}
    return assemble(
        dataset, settings, genes, samples, grouping, probe_table, data_type="microarray", log2=log2,
        probe_collapse=record, sources=sources, series_title=(sm.series.get("title") or [""])[0],
        platform=platform or "", notes=notes,
    )
