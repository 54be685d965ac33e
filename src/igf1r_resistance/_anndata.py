"""AnnData <-> the kernels' genes x samples frames (the public API's one adapter).

The public functions of :mod:`igf1r_resistance.pp`, :mod:`igf1r_resistance.tl` and
:mod:`igf1r_resistance.pl` take an :class:`anndata.AnnData` in scverse orientation
(``obs`` = samples, ``var`` = genes, ``X`` = log2 expression) and call the array kernels,
which take genes x samples :class:`pandas.DataFrame` objects. This module holds the only
conversion between the two, and the mapping of a user's group labels to the kernels'
``resistant`` / ``sensitive``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import GroupingError

if TYPE_CHECKING:
    from anndata import AnnData

RESISTANT = "resistant"
SENSITIVE = "sensitive"


def expression_frame(adata: AnnData, layer: str | None = None) -> pd.DataFrame:
    """Genes x samples float frame of ``adata.X`` (or ``adata.layers[layer]``).

    A transposed view of a dense float64 matrix (no copy); sparse matrices are densified.
    """
    values = adata.X if layer is None else adata.layers[layer]
    if hasattr(values, "toarray"):
        values = values.toarray()
    return pd.DataFrame(np.asarray(values, dtype=float).T, index=adata.var_names.astype(str),
                        columns=adata.obs_names.astype(str), copy=False)


def two_groups(adata: AnnData, groupby: str, resistant: str, sensitive: str) -> pd.Series:
    """``resistant`` / ``sensitive`` per sample from ``adata.obs[groupby]`` (other labels: ``other``).

    Raises :class:`~igf1r_resistance.errors.GroupingError` naming the column and the levels
    when the column is missing or a level has no sample.
    """
    if groupby not in adata.obs.columns:
        raise GroupingError(f"adata.obs has no column {groupby!r} (columns: {list(adata.obs.columns)}); "
                            "pass groupby= the column that holds the groups")
    labels = adata.obs[groupby].astype(str)
    labels.index = adata.obs_names.astype(str)
    for level in (resistant, sensitive):
        if not labels.eq(str(level)).any():
            raise GroupingError(f"adata.obs[{groupby!r}] has no sample labelled {level!r} "
                                f"(levels: {sorted(labels.unique())})")
    return labels.map({str(resistant): RESISTANT, str(sensitive): SENSITIVE}).fillna("other")


def sets_from(gene_sets) -> list:
    """A list of :class:`~igf1r_resistance.genesets.catalogue.GeneSet` from a list of them, a
    mapping ``name -> genes`` or the path of a GMT file (one up set per line)."""
    from pathlib import Path

    from .genesets.catalogue import GeneSet, read_gmt
    from .tl.scoring import _as_gene_sets

    if isinstance(gene_sets, str | Path):
        return read_gmt(gene_sets)
    if isinstance(gene_sets, GeneSet):
        return [gene_sets]
    return _as_gene_sets(gene_sets)


class SVG(str):
    """An SVG document (a ``str``) that Jupyter displays as a figure."""

    def _repr_svg_(self) -> str:
        return str(self)

    def save(self, path) -> None:
        """Write the SVG to `path` (atomically)."""
        from .io.files import write_text

        write_text(str(self), path)
