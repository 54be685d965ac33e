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

from ..errors import ConfigError, GroupingError, InputFormatError
from ..io.local_data import numeric_frame, plain_columns, read_table
from .gene_ids import map_to_symbols
from .groups import EXCLUDED, INTERMEDIATE, RESISTANT, SENSITIVE, Grouping, group_samples
from .prepare import PreparedDataset, assemble

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
    """Put the cells on the analysis scale in place; returns the record of what was done.

    counts: scanpy's own `pp.normalize_total(target_sum=None)` (each cell to the median
    total count of the non-empty cells) and `pp.log1p`; normalised: `pp.log1p` only.
    """
    import scanpy as sc

    if values == "counts":
        cells.X = cells.X.astype(np.float64)
        totals = np.asarray(cells.X.sum(axis=1)).ravel()
        positive = totals[totals > 0]
        target = float(np.median(positive)) if positive.size else 1.0
        sc.pp.normalize_total(cells, target_sum=target)
        sc.pp.log1p(cells)
        return {"preprocessing": "normalise_total (each cell to the median total count, "
                f"{target:g}) + log1p: scanpy.pp.normalize_total(target_sum=None) + scanpy.pp.log1p",
                "target_sum": target}
    if values == "normalised":
        cells.X = cells.X.astype(np.float64)
        sc.pp.log1p(cells)
        return {"preprocessing": "log1p of the normalised values (scanpy.pp.log1p; no re-normalisation)"}
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
    grouped_cells = cells[grouped.index]
    grouped_cells.obs = pd.DataFrame({"replicate": pd.Categorical(rep.to_numpy(), categories=names)},
                                     index=grouped_cells.obs_names)
    # scanpy's own aggregation: one row per replicate (category order), mean over its cells
    import scanpy as sc

    means = sc.get.aggregate(grouped_cells, by="replicate", func="mean")
    matrix = pd.DataFrame(_dense(means.layers["mean"]).T, index=cells.var_names, columns=names)
    counts = rep.value_counts().reindex(names).to_numpy()
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


# --------------------------------------------------------------------------- per-cell scores at scale
#
# score_cells scores every cell of a cells x genes matrix (scipy CSR or dense) in chunks of
# cells, never densifying the matrix: singscore ranks are computed per cell from the cell's
# stored values (sorted) plus its count of implicit zeros, and the score_genes means are one
# sparse x sparse product per chunk. Each cell's scores depend only on that cell and on the
# per-gene means over all cells (used by score_genes to pick control genes), which are
# computed once, so the result does not depend on chunk_size.

CELL_METHODS = ("score_genes", "singscore")


def _cell_sets(gene_sets) -> list:
    from ..tl.scoring import _as_gene_sets

    return _as_gene_sets(gene_sets)


def gene_means(x, chunk_size: int = 10_000) -> np.ndarray:
    """Mean of every gene over all cells (float64), summed chunk by chunk for dense input."""
    n = x.shape[0]
    if sp.issparse(x):
        total = np.asarray(x.sum(axis=0, dtype=np.float64)).ravel()
    else:
        total = np.zeros(x.shape[1])
        for start in range(0, n, chunk_size):
            total += np.asarray(x[start:start + chunk_size], dtype=np.float64).sum(axis=0)
    return total / max(n, 1)


def control_genes(means: np.ndarray, genes, gene_list, *, seed: int = 0, ctrl_size: int = 50,
                  n_bins: int = 25) -> np.ndarray:
    """Positions of the control genes `scanpy.tl.score_genes` draws for `gene_list`.

    Re-implements scanpy 1.11's `_score_genes_bins` (defaults `ctrl_as_ref=True`,
    `gene_pool=None`) from the per-gene means over all cells: genes cut into expression bins
    by `rank(method="min") // round(n_genes / (n_bins - 1))`; for every bin holding a set
    gene, `ctrl_size` genes drawn from the bin (in var order) with `RandomState(seed)`
    (scanpy seeds NumPy's global RandomState and pandas' `Series.sample` calls its
    `choice(n, size, replace=False)`: the same stream), set genes removed, the union kept.
    """
    index = pd.Index(np.asarray(genes).astype(str))
    avg = pd.Series(np.asarray(means, dtype=np.float64), index=index)
    avg = avg[np.isfinite(avg.to_numpy())]
    wanted = pd.Index(pd.Index([str(g) for g in gene_list]).intersection(index))
    if len(wanted) == 0:
        return np.array([], dtype=np.intp)
    rs = np.random.RandomState(seed)
    n_items = int(np.round(len(avg) / (n_bins - 1)))
    cut = avg.rank(method="min") // n_items
    chosen = pd.Index([], dtype=object)
    for c in np.unique(cut.loc[wanted.intersection(avg.index)]):
        r_genes = cut.index[(cut == c).to_numpy()]
        if ctrl_size < len(r_genes):
            r_genes = r_genes[rs.choice(len(r_genes), size=ctrl_size, replace=False)]
        r_genes = r_genes.difference(wanted)
        chosen = chosen.union(r_genes)
    return np.sort(index.get_indexer(chosen)).astype(np.intp)


def _mean_weights(columns: list[np.ndarray], n_genes: int) -> sp.csc_matrix:
    """genes x parts matrix with 1/len(idx) at the rows of each part (x @ W = part means)."""
    rows, cols, vals = [], [], []
    for j, idx in enumerate(columns):
        if len(idx):
            rows.append(idx)
            cols.append(np.full(len(idx), j))
            vals.append(np.full(len(idx), 1.0 / len(idx)))
    if not rows:
        return sp.csc_matrix((n_genes, len(columns)))
    return sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n_genes, len(columns)))


def _min_ranks(chunk: sp.csr_matrix, genes: np.ndarray) -> np.ndarray:
    """cells x len(genes) ranks (`rankdata(method="min")` over all genes of each cell).

    rank(v) = 1 + #(stored values < v) + (#implicit zeros if v > 0): exact, from the
    cell's stored values only (2,000 of 20,000 genes in a typical cell).
    """
    n_genes = chunk.shape[1]
    vals = chunk[:, genes].toarray().astype(np.float64)
    out = np.empty_like(vals)
    indptr, data = chunk.indptr, chunk.data.astype(np.float64)
    for i in range(chunk.shape[0]):
        stored = np.sort(data[indptr[i]:indptr[i + 1]])
        v = vals[i]
        out[i] = 1 + np.searchsorted(stored, v, side="left") + (v > 0) * (n_genes - len(stored))
    return out


def _cells_by_genes(x, genes) -> tuple[object, pd.Index]:
    """`x` (cells x genes; sparse as CSR) and its genes as unique strings, checked."""
    genes = pd.Index(np.asarray(genes).astype(str))
    if not genes.is_unique:
        raise ValueError("genes must be unique; collapse duplicated genes first")
    if x.shape[1] != len(genes):
        raise ValueError(f"x has {x.shape[1]} columns but {len(genes)} genes were given")
    if sp.issparse(x) and not isinstance(x, (sp.csr_matrix, sp.csr_array)):
        x = sp.csr_matrix(x)
    return x, genes


def _set_positions(sets: list, genes: pd.Index) -> list[tuple[np.ndarray, np.ndarray]]:
    """(up, down) column positions of the measured genes of each set, sorted, deduplicated."""
    parts = []
    for s in sets:
        up = genes.get_indexer(pd.Index(list(dict.fromkeys(map(str, s.up)))))
        down = genes.get_indexer(pd.Index(list(dict.fromkeys(map(str, s.down)))))
        parts.append((np.sort(up[up >= 0]), np.sort(down[down >= 0])))
    return parts


def _score_genes_columns(parts: list[tuple[np.ndarray, np.ndarray]], means: np.ndarray, genes: pd.Index, *,
                         seed: int, ctrl_size: int, n_bins: int
                         ) -> tuple[list[np.ndarray], list[tuple[int, int, int, int] | None]]:
    """score_genes: one weight column per set part and per its control set (``control_genes``
    from the all-cell `means`), and per set the columns (up, up control, down, down control),
    -1 for a missing down part, None for a set without measured up genes."""
    sg_cols: list[np.ndarray] = []
    sg_where: list[tuple[int, int, int, int] | None] = []
    for up, down in parts:
        if len(up) == 0:
            sg_where.append(None)
            continue
        cols = []
        for part in (up, down):
            if len(part) == 0:
                cols += [-1, -1]
                continue
            ctrl = control_genes(means, genes, genes[part], seed=seed, ctrl_size=ctrl_size, n_bins=n_bins)
            cols += [len(sg_cols), len(sg_cols) + 1]
            sg_cols += [part, ctrl]
        sg_where.append(tuple(cols))
    return sg_cols, sg_where


def score_cells(
    x,
    genes,
    gene_sets,
    methods=CELL_METHODS,
    *,
    chunk_size: int = 10_000,
    seed: int = 0,
    ctrl_size: int = 50,
    n_bins: int = 25,
    means: np.ndarray | None = None,
    cells=None,
) -> pd.DataFrame:
    """Per-cell scores of every set: cells x (gene_set, method), one chunk of cells at a time.

    `x` is cells x genes (scipy sparse, converted to CSR once if it is not, or dense), on the
    analysis scale (e.g. normalise_total + log1p); `genes` its column names (unique).
    Methods (the definitions of :mod:`.scoring`, per cell instead of per sample):

    - ``singscore``: singscore simpleScore (centred), ranks of all genes within each cell
      (ties: min rank), up/down sets as `scoring.singscore`.
    - ``score_genes``: `scanpy.tl.score_genes(use_raw=False, random_state=seed)`: mean of the
      set genes minus the mean of control genes drawn from expression bins of the per-gene
      means over *all* cells (computed once: `means`, or `gene_means(x)`), as
      `scoring.score_genes` (score(up) - score(down), each part drawn with a fresh seed).
      Calling scanpy once per chunk would not be the same: its bins come from the chunk's
      means, so control genes (and scores) would depend on the chunking.

    Only one chunk (`chunk_size` cells) is ever held as a dense (cells x set genes) block;
    the full matrix is never densified. A set whose up part has no measured gene scores NaN
    (as in `scoring`). Values must be finite (no NaN handling, unlike scanpy's nanmean).
    """
    methods = tuple(methods)
    unknown = [m for m in methods if m not in CELL_METHODS]
    if unknown:
        raise ValueError(f"unknown per-cell method(s) {unknown}; choose from {', '.join(CELL_METHODS)}")
    x, genes = _cells_by_genes(x, genes)
    sets = _cell_sets(gene_sets)
    n_cells, n_genes = x.shape
    parts = _set_positions(sets, genes)
    sg_cols: list[np.ndarray] = []
    sg_where: list[tuple[int, int, int, int] | None] = []
    if "score_genes" in methods:
        if means is None:
            means = gene_means(x, chunk_size)
        sg_cols, sg_where = _score_genes_columns(parts, means, genes, seed=seed, ctrl_size=ctrl_size, n_bins=n_bins)
    weights = _mean_weights(sg_cols, n_genes) if sg_cols else None
    union = np.unique(np.concatenate([np.concatenate(p) for p in parts])) if parts else np.array([], int)
    local = {g: i for i, g in enumerate(union)}

    columns = pd.MultiIndex.from_product([[s.name for s in sets], list(methods)], names=["gene_set", "method"])
    out = np.full((n_cells, len(columns)), np.nan)
    col = {key: j for j, key in enumerate(columns)}
    for start in range(0, n_cells, chunk_size):
        stop = min(start + chunk_size, n_cells)
        block = x[start:stop]
        block = block if sp.issparse(block) else sp.csr_matrix(np.asarray(block, dtype=np.float64))
        block = block.astype(np.float64)
        if weights is not None:
            m = np.asarray((block @ weights).toarray())
            for s, where in zip(sets, sg_where):
                if where is None:
                    continue
                u_set, u_ctrl, d_set, d_ctrl = where
                score = m[:, u_set] - m[:, u_ctrl] if len(sg_cols[u_ctrl]) else np.full(stop - start, np.nan)
                if d_set >= 0:
                    score = score - (m[:, d_set] - m[:, d_ctrl] if len(sg_cols[d_ctrl]) else np.nan)
                out[start:stop, col[(s.name, "score_genes")]] = score
        if "singscore" in methods and len(union):
            ranks = _min_ranks(block, union)
            for s, (up, down) in zip(sets, parts):
                if len(up) == 0:
                    continue
                out[start:stop, col[(s.name, "singscore")]] = _singscore_from_ranks(
                    ranks, [local[g] for g in up], [local[g] for g in down], n_genes)
    index = pd.Index(cells) if cells is not None else pd.RangeIndex(n_cells, name="cell")
    return pd.DataFrame(out, index=index, columns=columns)


def _singscore_from_ranks(ranks: np.ndarray, up: list[int], down: list[int], n_genes: int) -> np.ndarray:
    """`scoring._singscore_parts` score with cells in rows."""
    def norm(idx: list[int]) -> np.ndarray:
        k = len(idx)
        low, high = (k + 1) / 2, (2 * n_genes - k + 1) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            return (ranks[:, idx].mean(axis=1) - low) / (high - low)

    up_score = norm(up)
    if not down:
        return up_score - 0.5
    return (up_score - 0.5) + ((1.0 - norm(down)) - 0.5)
