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


# --------------------------------------------------------------------------- the whole step


@dataclass
class PreparedDataset:
    """Everything the prepare step writes for one data set."""

    adata: object  # anndata.AnnData: obs = grouped samples, var = genes, X = log2
    samples: pd.DataFrame  # every sample of the series with its group (or `excluded`)
    probes: pd.DataFrame  # one row per gene: the probe kept and why


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
    Raises the library's errors with the data set and field named.
    """
    import anndata as ad

    from .errors import InputFormatError
    from .series_matrix import read_series_matrix

    sm = read_series_matrix(series_matrix_path)
    if sm.expression.shape[0] == 0:
        raise InputFormatError(
            f"data set {dataset}: {series_matrix_path} has an empty data table; this is usually an "
            "RNA-seq series whose counts are in supplementary files. Declare it as a local data set "
            "(type: matrix) with a counts or log-CPM table instead"
        )
    platform = settings.get("platform")
    if platform and "platform_id" in sm.samples.columns:
        other = sm.samples["platform_id"].dropna()
        other = other[other != platform]
        if len(other) == len(sm.samples):
            raise InputFormatError(
                f"data set {dataset}: {series_matrix_path} holds samples of platform "
                f"{sorted(set(other))} but config says platform: {platform}"
            )
    groups = assign_groups(sm.samples, settings["groups"], dataset)
    field = resolve_field(sm.samples, settings["groups"]["by"], dataset)

    log_expr, decision = apply_log2(sm.expression, settings.get("log2", "auto"))
    genes, probe_table, record = collapse_probes(log_expr, annotation, rename)
    if record["n_genes"] == 0:
        from .errors import AnnotationError

        raise AnnotationError(
            f"data set {dataset}: no probe of {series_matrix_path} has a gene symbol in the "
            f"annotation of platform {platform or '?'}; is platform_annotation the right table?"
        )

    # contract: sample, group, title first; then how the group was decided; then all metadata
    samples = sm.samples.copy()
    front = pd.DataFrame(
        {
            "group": groups,
            "title": sm.samples["title"] if "title" in sm.samples else "",
            "group_field": field,
            "group_value": sm.samples[field].fillna("").astype(str),
        },
        index=sm.samples.index,
    )
    samples = pd.concat([front, samples.drop(columns=["title"], errors="ignore")], axis=1)
    samples = samples.reset_index()
    grouped = groups[groups != EXCLUDED]
    matrix = genes[grouped.index]
    obs = pd.DataFrame(
        {
            "group": pd.Categorical(grouped.to_numpy(), categories=[SENSITIVE, RESISTANT]),
            "title": sm.samples.loc[grouped.index, "title"].fillna("").astype(str).to_numpy(),
        },
        index=pd.Index(grouped.index.astype(str), name="sample"),
    )
    var = pd.DataFrame(
        {"probe": probe_table.set_index("gene").loc[matrix.index, "probe"].to_numpy()},
        index=pd.Index(matrix.index.astype(str), name="gene"),
    )
    adata = ad.AnnData(X=matrix.T.to_numpy(dtype=np.float64), obs=obs, var=var)
    adata.uns["dataset"] = {
        "id": dataset,
        "platform": str(platform or ""),
        "drug": str(settings.get("drug", "")),
        "model": str(settings.get("model", "")),
        "model_type": str(settings.get("model_type", "chemotherapy resistance")),
        "series_title": (sm.series.get("title") or [""])[0],
        "group_field": field,
        "group_resistant_regex": str(settings["groups"]["resistant"]),
        "group_sensitive_regex": str(settings["groups"]["sensitive"]),
        "n_resistant": int((grouped == RESISTANT).sum()),
        "n_sensitive": int((grouped == SENSITIVE).sum()),
        "n_excluded": int((groups == EXCLUDED).sum()),
    }
    adata.uns["log2"] = decision.as_dict()
    adata.uns["probe_collapse"] = record
    adata.uns["sources"] = {k: str(v) for k, v in (sources or {}).items()}
    adata.uns["series_matrix_notes"] = "; ".join(sm.notes) or "none"
    return PreparedDataset(adata=adata, samples=samples, probes=probe_table)
