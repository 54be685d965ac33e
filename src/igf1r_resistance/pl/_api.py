"""Public plots on AnnData (``ir.pl``): the results stored by ``ir.tl`` drawn as SVG.

Each function reads what an ``ir.tl`` function stored and draws it with the report's own
SVG primitives (:mod:`igf1r_resistance.pl.plots`), returning an SVG string that Jupyter
shows as a figure (``.save(path)`` writes it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from .._anndata import RESISTANT, SENSITIVE, SVG, two_groups

if TYPE_CHECKING:
    from anndata import AnnData


def volcano(adata: AnnData, key: str = "limma", *, genes: Iterable[str] = (), fdr: float = 0.05) -> SVG:
    """Volcano plot of :func:`igf1r_resistance.tl.limma`'s table (``adata.varm[key]``).

    Parameters
    ----------
    adata
        With ``adata.varm[key]`` (columns ``logFC``, ``P.Value``, ``adj.P.Val``).
    key
        ``varm`` key of the limma table.
    genes
        Genes drawn as labelled points over the grey density of all genes.
    fdr
        A dashed line marks the largest p-value with BH-adjusted p below `fdr`.

    Returns
    -------
    SVG
        The figure (a ``str``).
    """
    from .plots import VolcanoGene
    from .plots import volcano as draw

    if key not in adata.varm:
        raise KeyError(f"adata.varm has no {key!r}: run ir.tl.limma(adata, ...) first")
    table = adata.varm[key]
    logfc = table["logFC"].to_numpy(float)
    y = -np.log10(np.clip(table["P.Value"].to_numpy(float), 1e-300, None))
    names = adata.var_names.astype(str)
    position = {g: i for i, g in enumerate(names)}
    marked = [VolcanoGene(g, float(logfc[position[g]]), float(y[position[g]]),
                          f"{g}: logFC {logfc[position[g]]:.3g}, p {table['P.Value'].iloc[position[g]]:.3g}",
                          label=True) for g in genes if g in position]
    significant = table.loc[table["adj.P.Val"].to_numpy(float) < fdr, "P.Value"]
    line = float(-np.log10(significant.max())) if len(significant) else None
    return SVG(draw(logfc, y, marked, fdr_line=line))


def scores(adata: AnnData, gene_sets: Iterable[str], method: str = "singscore", groupby: str = "group", *,
           resistant: str = RESISTANT, sensitive: str = SENSITIVE, key: str | None = None) -> SVG:
    """Strip and box plots of set scores by group, one panel per set.

    Parameters
    ----------
    adata
        With ``adata.obsm[key]`` from :func:`igf1r_resistance.tl.score`.
    gene_sets
        Set names (columns of the score table) to draw.
    method
        Scoring method; the table is ``adata.obsm["score_{method}"]`` unless `key` is given.
    groupby, resistant, sensitive
        ``obs`` column and the two levels drawn.

    Returns
    -------
    SVG
        The figure (a ``str``).
    """
    from .plots import GroupValues, Panel, strip_box

    key = key or f"score_{method}"
    if key not in adata.obsm:
        raise KeyError(f"adata.obsm has no {key!r}: run ir.tl.score(adata, gene_sets, method={method!r}) first")
    table = adata.obsm[key]
    groups = two_groups(adata, groupby, resistant, sensitive).to_numpy()
    samples = adata.obs_names.astype(str).to_numpy()
    panels = []
    for name in gene_sets:
        if name not in table.columns:
            raise KeyError(f"adata.obsm[{key!r}] has no set {name!r} (too few measured genes, or not scored)")
        values = table[name].to_numpy(float)
        panels.append(Panel(name, [GroupValues(g, values[groups == g].tolist(), samples[groups == g].tolist())
                                   for g in (RESISTANT, SENSITIVE)]))
    return SVG(strip_box(panels, f"{method} score"))
