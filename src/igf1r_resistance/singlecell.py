"""Single-cell data sets: cells -> the per-sample matrix every later step uses.

    datasets:
      GSE108383:
        type: single_cell
        suppl_file: Target_expr_resp_z.PLX4720_tp4k.tsv.gz   # or path: data/cells.h5ad
        values: zscore            # counts | normalised | log_normalised | zscore (declared, not guessed)
        gene_ids: entrez          # auto | symbol | entrez | ensembl
        groups: {by: response, resistant: ^0$, sensitive: ^1$}
        replicate_column: sample  # optional: pseudobulk per replicate

Input: an .h5ad (obs = cells) or a cells x genes table (first column cell ids; the group,
replicate and `obs_columns` columns are metadata, every other column a gene).

Preprocessing follows what the values are (recorded in `.uns['single_cell']`):
counts -> normalise every cell to the median total count, then log1p (as
`scanpy.pp.normalize_total(target_sum=None)` + `scanpy.pp.log1p`); normalised (linear,
e.g. CPM/TPM) -> log1p; log_normalised and zscore -> used as they are (never log2).

Gene identifiers are mapped to current HGNC symbols (unmapped ones dropped, counted and
listed in `.uns['gene_ids']`).

The unit of analysis (the obs of results/{ds}/expression.h5ad): with `replicate_column`,
one pseudobulk sample per replicate (the mean of its cells on the analysis scale), so the
group test compares replicates; without it, every cell is a sample and the group test
treats cells as independent, which they are not (pseudo-replication: cells of one culture
share its history). That caveat is written to `.uns['dataset']['caveat']` and the report.
The per-cell matrix is kept as results/{ds}/cells.h5ad.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import ConfigError, GroupingError, InputFormatError
from .gene_ids import map_to_symbols
from .local_data import numeric_frame, plain_columns, read_table
from .prepare import (
    EXCLUDED,
    INTERMEDIATE,
    RESISTANT,
    SENSITIVE,
    Grouping,
    PreparedDataset,
    assemble,
    group_samples,
)

VALUE_TYPES = ("counts", "normalised", "log_normalised", "zscore")
PSEUDOREPLICATION = (
    "Pseudo-replication: the {n} cells are analysed as if they were independent samples, but the cells of "
    "each group come from one culture (no replicate column), so p values and confidence intervals of the group "
    "tests overstate the evidence. Read effect sizes and directions, not significance; the meta-analysis "
    "weight of this data set is inflated accordingly."
)


# --------------------------------------------------------------------------- reading


def metadata_columns(settings: dict) -> list[str]:
    """Columns of a cells x genes table that are not genes."""
    groups = settings.get("groups") or {}
    cols = [groups.get("by"), settings.get("group_column"), settings.get("replicate_column"),
            *settings.get("obs_columns", [])]
    return list(dict.fromkeys(c for c in cols if c))


def read_cells(path: str, settings: dict, dataset: str):
    """The cells as an AnnData (obs = cells with their metadata, var = the file's gene ids)."""
    import anndata as ad

    if str(path).endswith(".h5ad"):
        try:
            a = ad.read_h5ad(path)
        except (OSError, KeyError, ValueError) as exc:
            raise InputFormatError(f"data set {dataset}: cannot read {path} as .h5ad ({exc})") from exc
        layer = settings.get("layer")
        if layer:
            if layer not in a.layers:
                raise InputFormatError(f"data set {dataset}: {path} has no layer {layer!r}; "
                                       f"layers: {', '.join(a.layers) or 'none'}")
            a = ad.AnnData(X=a.layers[layer], obs=a.obs, var=a.var)
        a.obs_names = a.obs_names.astype(str)
        a.var_names = a.var_names.astype(str)
        return a
    meta = metadata_columns(settings)
    table = read_table(path, index_col=0, dtype={c: str for c in meta})
    table.index = table.index.astype(str)
    table.columns = table.columns.astype(str)
    absent = [c for c in meta if c not in table.columns]
    if absent:
        raise InputFormatError(f"data set {dataset}: {path} has no column {', '.join(map(repr, absent))}; "
                               f"its first columns are {', '.join(map(repr, table.columns[:6]))}")
    gene_cols = [c for c in table.columns if c not in set(meta)]
    values = numeric_frame(table[gene_cols], f"data set {dataset}: {path}", what="cell")
    if table.index.duplicated().any():
        raise InputFormatError(f"data set {dataset}: cell id {table.index[table.index.duplicated()][0]!r} "
                               f"appears twice in {path}")
    obs = table[meta].copy()
    obs.index.name = "cell"
    return ad.AnnData(X=values.to_numpy(dtype=np.float32), obs=obs, var=pd.DataFrame(index=pd.Index(gene_cols)))


# --------------------------------------------------------------------------- preprocessing


def _dense(x) -> np.ndarray:
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def check_values(x, values: str, dataset: str) -> dict:
    """Simple checks that the data look like what `values` declares; a record of the range."""
    if values not in VALUE_TYPES:
        raise ConfigError(f"data set {dataset}: values must be one of {', '.join(VALUE_TYPES)} (got {values!r})")
    data = x.data if sp.issparse(x) else np.asarray(x).ravel()
    finite = data[np.isfinite(data)]
    lo = float(finite.min()) if finite.size else float("nan")
    hi = float(finite.max()) if finite.size else float("nan")
    if finite.size != data.size:
        raise InputFormatError(f"data set {dataset}: the single-cell matrix has {data.size - finite.size} "
                               "missing or infinite values")
    if values in ("counts", "normalised") and lo < 0:
        raise InputFormatError(
            f"data set {dataset}: values: {values} but the matrix has negative values (min {lo:g}); "
            "z-scores or log ratios are `values: zscore` / `log_normalised`"
        )
    integer = bool(np.all(np.mod(finite, 1) == 0)) if finite.size else True
    if values == "counts" and not integer:
        raise InputFormatError(
            f"data set {dataset}: values: counts but the matrix has non-integer values (e.g. "
            f"{finite[np.mod(finite, 1) != 0][0]:g}); normalised values are `values: normalised` or `log_normalised`"
        )
    return {"min": lo, "max": hi, "all_integer": integer}


def preprocess(cells, values: str) -> dict:
    """Put the cells on the analysis scale in place; returns the record of what was done."""
    if values == "counts":
        x = cells.X.astype(np.float64)
        totals = np.asarray(x.sum(axis=1)).ravel()
        positive = totals[totals > 0]
        target = float(np.median(positive)) if positive.size else 1.0
        scale = np.divide(target, totals, out=np.zeros_like(totals), where=totals > 0)
        x = sp.diags(scale) @ x if sp.issparse(x) else x * scale[:, None]
        x = x.log1p() if sp.issparse(x) else np.log1p(x)
        cells.X = sp.csr_matrix(x) if sp.issparse(x) else x
        return {"preprocessing": "normalise_total (each cell to the median total count, "
                f"{target:g}) + log1p, as scanpy.pp.normalize_total(target_sum=None) + scanpy.pp.log1p",
                "target_sum": target}
    if values == "normalised":
        cells.X = cells.X.log1p() if sp.issparse(cells.X) else np.log1p(np.asarray(cells.X, dtype=np.float64))
        return {"preprocessing": "log1p of the normalised values (no re-normalisation)"}
    what = "per-gene z-scores" if values == "zscore" else "log-normalised values"
    return {"preprocessing": f"none: {what} used as they are (no normalisation, no log)"}


def collapse_to_symbols(cells, id_type: str, mapper) -> tuple[object, pd.DataFrame, dict, dict]:
    """Cells with var = HGNC symbols: unmapped ids dropped, per symbol the id with the highest mean kept."""
    symbols, id_record = map_to_symbols(list(cells.var_names), id_type, mapper)
    means = np.asarray(cells.X.mean(axis=0)).ravel()
    frame = pd.DataFrame({"probe": cells.var_names.astype(str), "gene": symbols, "mean_expression": means,
                          "pos": np.arange(len(symbols))})
    frame = frame[frame["gene"] != ""]
    frame["n_candidates"] = frame.groupby("gene")["probe"].transform("size")
    frame = frame.sort_values(["gene", "mean_expression", "probe"], ascending=[True, False, True])
    chosen = frame.drop_duplicates("gene").reset_index(drop=True)
    out = cells[:, chosen["pos"].to_numpy()].copy()
    out.var_names = pd.Index(chosen["gene"].to_numpy(), name="gene")
    out.var["gene_id"] = chosen["probe"].to_numpy()
    chosen["rule"] = f"{id_record['id_type']} id -> HGNC symbol"
    table = chosen[["gene", "probe", "n_candidates", "rule", "mean_expression"]]
    record = {
        "n_probes": int(len(symbols)),
        "n_probes_without_symbol": int(id_record["n_unmapped"]),
        "n_multi_gene_probes": 0,
        "n_genes_from_multi_gene_probes": 0,
        "n_probe_symbols_updated_to_current_hgnc": int(id_record.get("n_symbols_updated_to_current_hgnc", 0)),
        "n_ids_sharing_a_symbol_dropped": int(len(frame) - len(chosen)),
        "n_genes": int(len(chosen)),
        "rule": (f"{id_record['id_type']} ids mapped to current HGNC symbols with the HGNC table; ids without a "
                 "symbol dropped (listed in .uns['gene_ids']); per symbol the id with the highest mean kept"),
    }
    return out, table, record, id_record


# --------------------------------------------------------------------------- samples


def pseudobulk(cells, replicate_column: str, groups: pd.Series, dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean per replicate of the grouped cells: genes x replicates, and one row per replicate."""
    rep = cells.obs[replicate_column].astype(str)
    grouped = groups[groups.isin([RESISTANT, SENSITIVE, INTERMEDIATE])]
    rep = rep[grouped.index]
    mixed = [r for r, g in grouped.groupby(rep.to_numpy()) if g.nunique() > 1]
    if mixed:
        raise GroupingError(
            f"data set {dataset}: replicate(s) {', '.join(mixed[:5])} of column {replicate_column!r} hold cells of "
            "both groups; a replicate (biological sample) must be in one group"
        )
    names = sorted(rep.unique())
    index = {r: i for i, r in enumerate(names)}
    positions = cells.obs_names.get_indexer(grouped.index)
    member = sp.csr_matrix((np.ones(len(positions)), ([index[r] for r in rep.to_numpy()], positions)),
                           shape=(len(names), cells.n_obs))
    counts = np.asarray(member.sum(axis=1)).ravel()
    x = member @ cells.X
    means = _dense(x) / counts[:, None]
    matrix = pd.DataFrame(means.T, index=cells.var_names, columns=names)
    first = grouped.groupby(rep.to_numpy()).first()
    table = pd.DataFrame({"title": names, "n_cells": counts.astype(int),
                          "group": first.reindex(names).to_numpy()}, index=pd.Index(names, name="sample"))
    return matrix, table


def prepare_single_cell(dataset: str, settings: dict, path: str, mapper, sources: dict | None = None) -> PreparedDataset:
    """The prepare step of a `type: single_cell` data set (see the module docstring)."""
    values = settings.get("values")
    if values is None:
        raise ConfigError(f"data set {dataset}: single_cell data must declare values ({', '.join(VALUE_TYPES)})")
    cells = read_cells(path, settings, dataset)
    value_range = check_values(cells.X, values, dataset)
    rule = settings.get("groups") or {"by": settings["group_column"], "resistant": "^resistant$",
                                      "sensitive": "^sensitive$"}
    obs = plain_columns(cells.obs)
    cell_grouping = group_samples(obs, rule, dataset)
    n_total = cells.n_obs
    record = {"n_cells": int(n_total), "values": values, "value_range": value_range, **preprocess(cells, values)}
    cells, probe_table, collapse, id_record = collapse_to_symbols(cells, settings.get("gene_ids", "auto"), mapper)
    if collapse["n_genes"] == 0:
        raise InputFormatError(f"data set {dataset}: no gene identifier of {path} maps to an HGNC symbol "
                               f"(read as {id_record['id_type']}); set gene_ids")
    cells.obs["group"] = cell_grouping.groups.reindex(cells.obs_names).to_numpy()
    replicate = settings.get("replicate_column")
    log2 = {"transformed": False, "mode": "no", "scale": values,
            "reason": f"single-cell values declared as {values}: {record['preprocessing']}",
            "n_nonpositive_set_missing": 0}
    if replicate:
        matrix, samples = pseudobulk(cells, replicate, cell_grouping.groups, dataset)
        grouping = Grouping(samples["group"].rename("group"), "group", None,
                            {**cell_grouping.record, "group_field": f"{cell_grouping.field} (per replicate)"})
        samples = samples.drop(columns="group")
        samples["group_source"] = cell_grouping.field
        record.update(unit="replicate (pseudobulk: mean of its cells on the analysis scale)",
                      replicate_column=replicate, n_replicates=int(matrix.shape[1]),
                      n_cells_grouped=int(samples["n_cells"].sum()))
        caveat = ""
    else:
        matrix = pd.DataFrame(_dense(cells.X).T.astype(np.float64), index=cells.var_names, columns=cells.obs_names)
        samples = obs.copy()
        samples.index.name = "sample"
        samples.insert(0, "title", samples.index.astype(str))
        grouping = cell_grouping
        n_grouped = int(cell_grouping.groups.isin([RESISTANT, SENSITIVE]).sum())
        caveat = PSEUDOREPLICATION.format(n=n_grouped)
        record.update(unit="cell (no replicate column)", replicate_column="", n_replicates=0,
                      n_cells_grouped=n_grouped)
    record["caveat"] = caveat
    record["n_cells_excluded"] = int((cell_grouping.groups == EXCLUDED).sum())
    prepared = assemble(
        dataset, settings, matrix, samples, grouping, probe_table, data_type="single_cell", log2=log2,
        probe_collapse=collapse, sources={"cells": path, **(sources or {})}, caveat=caveat,
        extra_uns={"gene_ids": id_record, "single_cell": record},
    )
    cells.obs["group"] = cells.obs["group"].astype(str)
    cells.uns["dataset"] = {"id": dataset, "data_type": "single_cell"}
    cells.uns["single_cell"] = record
    cells.uns["gene_ids"] = id_record
    prepared.cells = cells
    return prepared
