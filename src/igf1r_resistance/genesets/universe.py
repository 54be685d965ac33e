"""A data set's gene universe and its gene sets as used: the one home of both decisions.

The universe is recorded once, by prepare, in the AnnData's ``var``:

* ``var["complete"]``: the gene has a finite value in every sample of the data set
  (:func:`complete_genes`). Scoring methods rank whole samples and need no gaps, limma's
  camera and the competitive null use the same genes.
* ``var["measurable"]``: the gene's mean clears the data set's absolute noise floor in at
  least one group (:mod:`noise`, issue 13 point 6).

A gene of the universe is complete and measurable (:func:`universe`). The gene sets as used
(:func:`sets_as_used`) are the catalogue's sets, the user's GMT sets and those named by
``hypotheses.extra``, restricted to the universe: genes under the noise floor leave the sets
(they are not measured, whatever the array reports), and each set gets its minimum size (the
smallest ``min_genes`` of the hypotheses that use it, else ``gene_sets.min_size``) and a status:

* ``used``: at least the minimum of its up genes are in the universe: it is scored, and its
  down part is kept when that, too, has at least the minimum (``parts`` up+down), else the set
  is scored on its up genes (``up_only``; Foroutan et al. 2018 define singscore's up/down
  score for two non-empty parts);
* ``not_measurable``: enough up genes are measured in every sample, but too few clear the
  noise floor (its hypotheses are ``not_measurable``);
* ``too_small``: too few up genes are measured at all (``not_testable``).

The workflow's rule ``gene_sets`` writes the long table (:data:`TABLE_COLUMNS`, one row per
gene of each set as defined) to ``results/{ds}/gene_sets.tsv`` and the sets restricted to the
universe to ``results/{ds}/gene_sets.gmt``; scoring, GSEA/camera, hypotheses, permutation
chunks, QC and the report's figures read them back with :class:`GeneSetsUsed`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .catalogue import GeneSet, Hypothesis

#: columns of results/{ds}/gene_sets.tsv: per gene of a set (gene_set .. in_set), then per set
TABLE_COLUMNS = ["gene_set", "origin", "part", "gene", "complete", "measurable", "in_set",
                 "n_genes_defined", "n_genes", "n_measurable", "n_up", "n_down", "min_size", "parts",
                 "status", "note"]
STATUSES = ("used", "not_measurable", "too_small")


def complete_genes(values: np.ndarray, block_cells: int = 2**24) -> np.ndarray:
    """Per row of a genes x samples array: every value finite (the gene is measured in every
    sample). Computed in row blocks, so the temporary mask stays small for any matrix.

    Parameters:
        values: 2-D array, genes in rows.
        block_cells: cells per block.

    Returns:
        Boolean array, one value per row.
    """
    n_rows, n_cols = values.shape
    step = max(1, block_cells // max(n_cols, 1))
    out = np.empty(n_rows, dtype=bool)
    for start in range(0, n_rows, step):
        out[start:start + step] = np.isfinite(values[start:start + step]).all(axis=1)
    return out


def complete(adata) -> pd.Series:
    """Gene -> measured in every sample (``var["complete"]``; computed from ``adata.X``,
    samples x genes, for data prepared before the column existed)."""
    genes = adata.var_names.astype(str)
    if "complete" in adata.var.columns:
        return pd.Series(adata.var["complete"].to_numpy(dtype=bool), index=genes, name="complete")
    return pd.Series(complete_genes(np.asarray(adata.X, dtype=float).T), index=genes, name="complete")


def measurable(adata) -> pd.Series:
    """Gene -> above the noise floor (``var["measurable"]``; all True when absent)."""
    genes = adata.var_names.astype(str)
    if "measurable" in adata.var.columns:
        return pd.Series(adata.var["measurable"].to_numpy(dtype=bool), index=genes, name="measurable")
    return pd.Series(True, index=genes, name="measurable")


def universe(adata) -> pd.Series:
    """Gene -> in the data set's universe: measured in every sample and above the noise
    floor. Gene sets are restricted to it and competitive random sets are drawn from it;
    scores are computed on the complete genes (the rank background of a sample)."""
    return (complete(adata) & measurable(adata)).rename("universe")


def set_min_sizes(sets: list[GeneSet], hypotheses: list[Hypothesis], default: int) -> dict[str, int]:
    """Per set, the smallest number of measured up genes any hypothesis using it accepts
    (a hypothesis' ``min_genes``), else `default` (``gene_sets.min_size``)."""
    sizes = {s.name: default for s in sets}
    for h in hypotheses:
        if h.min_genes is not None:
            for name in (h.gene_set, h.with_set):
                if name:
                    sizes[name] = min(sizes[name], h.min_genes)
    return sizes


def sets_as_used(sets: list[GeneSet], hypotheses: list[Hypothesis], is_complete: pd.Series,
                 is_measurable: pd.Series, default_min: int, gmt_names: set[str] | None = None) -> pd.DataFrame:
    """The long table of the gene sets as used for one data set (:data:`TABLE_COLUMNS`).

    Parameters:
        sets: every set as defined (``genesets.collect``: catalogue, GMT files).
        hypotheses: every hypothesis (their ``min_genes`` lower a set's minimum size).
        is_complete: gene -> measured in every sample (``var["complete"]``, :func:`complete`).
        is_measurable: gene -> above the noise floor (``var["measurable"]``, :func:`measurable`).
        default_min: ``gene_sets.min_size``.
        gmt_names: names of the sets read from user GMT files (origin ``gmt``).

    Returns:
        One row per gene of each set as defined (duplicates kept, order kept), with the
        gene's flags and the set's counts, minimum size, parts and status (module docstring).
    """
    gmt_names = gmt_names or set()
    comp = is_complete.astype(bool)
    meas = is_measurable.reindex(comp.index, fill_value=False).astype(bool)
    in_universe = comp & meas
    mins = set_min_sizes(sets, hypotheses, default_min)
    frames = []
    for s in sets:
        origin = "gmt" if s.name in gmt_names else (s.origin or "catalogue")
        parts = [("up", g) for g in s.up] + [("down", g) for g in s.down]
        genes = [g for _, g in parts]
        gene_complete = comp.reindex(genes, fill_value=False).to_numpy(bool)
        is_universe = in_universe.reindex(genes, fill_value=False).to_numpy(bool)
        is_up = np.array([p == "up" for p, _ in parts], dtype=bool)
        n_up_complete = int((gene_complete & is_up).sum())
        n_up, n_down = int((is_universe & is_up).sum()), int((is_universe & ~is_up).sum())
        need = max(1, int(mins[s.name]))
        note = ""
        if n_up >= need:
            status = "used"
            if not s.down:
                kind = "up"
            elif n_down >= need:
                kind = "up+down"
            else:
                kind = "up_only"
                note = (f"down part: {n_down} of {len(s.down)} genes measured and above the noise floor, fewer than {need}: "
                        "scored on the up genes only")
        elif n_up_complete >= need:
            status, kind = "not_measurable", ""
            note = (f"{n_up} of {n_up_complete} measured up genes clear the noise floor, at least {need} needed")
        else:
            status, kind = "too_small", ""
            note = f"{n_up_complete} of {len(s.up)} up genes measured, at least {need} needed"
        in_set = is_universe & (status == "used") & (is_up | (kind == "up+down"))
        frames.append(pd.DataFrame({
            "gene_set": s.name, "origin": origin, "part": [p for p, _ in parts], "gene": genes,
            "complete": gene_complete, "measurable": meas.reindex(genes, fill_value=False).to_numpy(bool),
            "in_set": in_set, "n_genes_defined": len(genes), "n_genes": int(gene_complete.sum()),
            "n_measurable": int(is_universe.sum()), "n_up": n_up, "n_down": n_down if kind == "up+down" else 0,
            "min_size": need, "parts": kind, "status": status, "note": note,
        }))
    if not frames:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[TABLE_COLUMNS]


def set_uses(extra: list[dict]) -> list[dict]:
    """What of ``hypotheses.extra`` decides the gene sets as used: per hypothesis its id, the
    sets it names and its ``min_genes``. The workflow passes this, not the whole block, to
    rule gene_sets, so editing a statement (or a prediction) re-runs no scoring."""
    keys = ("gene_set", "with_set")
    return [{"id": str(h.get("id", "")), **{k: str(h.get(k) or "") for k in keys},
             "min_genes": h.get("min_genes")} for h in extra]


def gene_sets_for(adata, catalogue: str, gmt_paths: list[str], uses: list[dict],
                  default_min: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """:func:`sets_as_used` for a prepared data set and the run's gene-set sources.

    Parameters:
        adata: the prepared AnnData (``var["complete"]``, ``var["measurable"]``).
        catalogue: the mechanism catalogue (YAML); gmt_paths: user GMT files.
        uses: :func:`set_uses` of ``hypotheses.extra`` (their sets and ``min_genes``).
        default_min: ``gene_sets.min_size``.

    Returns:
        The long table and name -> source of every set (GMT descriptions).

    Raises:
        ConfigError: a user hypothesis names a set that is in neither the catalogue nor a GMT file.
    """
    from ..errors import ConfigError
    from . import catalogue as gs

    _, sets, hyps = gs.collect(catalogue, gmt_paths, [])
    names = {s.name for s in sets}
    for u in uses:
        for ref in (u["gene_set"], u["with_set"]):
            if ref and ref not in names:
                raise ConfigError(f"config.yaml, hypotheses.extra: hypothesis {u['id']!r} names gene set {ref!r}, "
                                  "which is neither in the catalogue nor in gene_sets.gmt")
        if u.get("min_genes") is not None:
            hyps.append(Hypothesis(id=u["id"], statement="", test="group", predicted="up",
                                   gene_set=u["gene_set"], with_set=u["with_set"], min_genes=int(u["min_genes"])))
    gmt_names = {h.gene_set for h in hyps if h.exploratory and h.id == h.gene_set and h.statement.startswith(
        "exploratory: gene set")}
    table = sets_as_used(sets, hyps, complete(adata), measurable(adata), default_min, gmt_names)
    return table, {s.name: s.source for s in sets}


@dataclass(frozen=True)
class GeneSetsUsed:
    """The gene sets as used for one data set, read back from its long table.

    Attributes:
        table: the long table (:data:`TABLE_COLUMNS`).
        defined: name -> the set as defined (every gene).
        restricted: name -> the set restricted to the universe (both parts, any status):
            what GSEA and camera test, part by part, against `min_size`.
        used: name -> the set as scored (status ``used``; down part only for up+down).
        min_size: name -> the set's minimum number of up genes.
        status: name -> used | not_measurable | too_small.
        note: name -> why a set is not used, or why its down part is not.
    """

    table: pd.DataFrame
    defined: dict[str, GeneSet]
    restricted: dict[str, GeneSet]
    used: dict[str, GeneSet]
    min_size: dict[str, int]
    status: dict[str, str]
    note: dict[str, str]

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> GeneSetsUsed:
        table = table.copy()
        table["gene"] = table["gene"].astype(str)
        for col in ("complete", "measurable", "in_set"):
            table[col] = table[col].map(lambda v: v if isinstance(v, bool | np.bool_) else str(v) == "True")
        defined, restricted, used, mins, status, note = {}, {}, {}, {}, {}, {}
        for name, rows in table.groupby("gene_set", sort=False):
            name = str(name)
            up, down = rows["part"].eq("up"), rows["part"].eq("down")
            keep = rows["complete"].astype(bool) & rows["measurable"].astype(bool)
            defined[name] = GeneSet(name, tuple(rows.loc[up, "gene"]), tuple(rows.loc[down, "gene"]))
            restricted[name] = GeneSet(name, tuple(rows.loc[up & keep, "gene"]), tuple(rows.loc[down & keep, "gene"]))
            mins[name] = int(rows["min_size"].iloc[0])
            status[name] = str(rows["status"].iloc[0])
            note[name] = "" if pd.isna(rows["note"].iloc[0]) else str(rows["note"].iloc[0])
            if status[name] == "used":
                in_set = rows["in_set"].astype(bool)
                used[name] = GeneSet(name, tuple(rows.loc[up & in_set, "gene"]), tuple(rows.loc[down & in_set, "gene"]))
        return cls(table, defined, restricted, used, mins, status, note)

    @classmethod
    def read(cls, path: str) -> GeneSetsUsed:
        """Read results/{ds}/gene_sets.tsv."""
        from ..io.files import read_tsv

        return cls.from_table(read_tsv(path))

    def sets(self) -> list[GeneSet]:
        """The sets as scored, in table order."""
        return list(self.used.values())

    def summary(self) -> pd.DataFrame:
        """One row per set: gene_set, origin, n_genes_defined, n_genes, n_measurable, n_up,
        n_down, min_size, parts, status, note."""
        cols = ["gene_set", "origin", "n_genes_defined", "n_genes", "n_measurable", "n_up", "n_down",
                "min_size", "parts", "status", "note"]
        return self.table.drop_duplicates("gene_set")[cols].reset_index(drop=True)


def gmt_text(used: GeneSetsUsed, sources: dict[str, str] | None = None) -> str:
    """results/{ds}/gene_sets.gmt: every set restricted to the universe, with at least one
    gene (NAME_UP / NAME_DN lines for sets with down genes), descriptions from `sources`."""
    from .catalogue import format_gmt

    sources = sources or {}
    sets = [GeneSet(s.name, s.up, s.down, sources.get(s.name, "")) for s in used.restricted.values() if s.genes]
    return format_gmt(sets)


# --------------------------------------------------------------------------- Snakemake helpers
# (used by rule gene_sets in workflow/rules/score.smk; here so the rule file holds rules only)


def catalogue_set_files(catalogue: str) -> list[str]:
    """The files the catalogue's sets are read from besides itself (its ``msigdb_gmt`` and
    ``symbols`` headers, relative to the catalogue)."""
    from pathlib import Path

    import yaml

    with open(catalogue, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return [str(Path(catalogue).parent / data[k]) for k in ("msigdb_gmt", "symbols") if data.get(k)]


def catalogue_set_digest(catalogue: str) -> str:
    """SHA-256 of what in the catalogue decides the gene sets as used: its ``gene_sets``
    section, the ``msigdb_gmt``/``symbols`` headers and each hypothesis' sets and
    ``min_genes``. Rule gene_sets reads the catalogue as ``ancient`` input and this digest as a
    param, so editing a hypothesis' statement, prediction or role (which changes no set)
    re-runs the hypotheses but no scoring, GSEA or camera."""
    import hashlib
    import json

    import yaml

    with open(catalogue, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    view = {
        "gene_sets": data.get("gene_sets"),
        "headers": {k: data.get(k) for k in ("msigdb_gmt", "symbols")},
        "uses": [[str(h.get("id")), h.get("gene_set"), h.get("with_set"), h.get("min_genes")]
                 for h in data.get("hypotheses") or []],
    }
    return hashlib.sha256(json.dumps(view, sort_keys=True, default=str).encode()).hexdigest()
