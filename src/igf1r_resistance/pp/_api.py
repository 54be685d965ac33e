"""Public preprocessing on AnnData (``ir.pp``): the workflow's preparation rules, in place.

``adata``: ``obs`` = samples, ``var`` = genes, ``X`` = expression values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._anndata import RESISTANT, SENSITIVE, expression_frame, two_groups

if TYPE_CHECKING:
    from anndata import AnnData


def log2(adata: AnnData, mode: str = "auto", *, copy: bool = False) -> AnnData | None:
    """Put `adata.X` on the log2 scale by GEO2R's rule (Barrett et al. 2013, Nucleic Acids Res
    41:D991), as the workflow's preparation does (:func:`igf1r_resistance.pp.log_scale.apply_log2`).

    Parameters
    ----------
    adata
        Samples x genes values (linear or log scale).
    mode
        ``auto`` (GEO2R: log2 when the 99th percentile > 100, or the range > 50 with the first
        quartile > 0), ``yes`` (always) or ``no`` (never). Values <= 0 become missing first.
    copy
        Return a modified copy instead of writing into `adata`.

    Returns
    -------
    ``None`` (or the copy): ``adata.X`` transformed when the rule says so (float64) and the
    decision with its quantiles in ``adata.uns["log2"]``.
    """
    from .log_scale import apply_log2

    adata = adata.copy() if copy else adata
    expr, decision = apply_log2(expression_frame(adata), mode)
    adata.X = np.ascontiguousarray(expr.to_numpy(dtype=np.float64).T)
    adata.uns["log2"] = decision.as_dict()
    return adata if copy else None


def noise_floor(adata: AnnData, groupby: str = "group", *, resistant: str = RESISTANT,
                sensitive: str = SENSITIVE, floor: float | None = None, copy: bool = False) -> AnnData | None:
    """Flag genes whose mean clears the data set's noise floor in the resistant or sensitive group.

    Parameters
    ----------
    adata
        Samples x genes log2 expression.
    groupby, resistant, sensitive
        ``obs`` column and its two levels.
    floor
        The floor in log2 units; default: the lower mode of the per-gene means
        (:func:`igf1r_resistance.pp.noise.lower_mode_floor`, docs/preparation.md).
    copy
        Return a modified copy instead of writing into `adata`.

    Returns
    -------
    ``None`` (or the copy): ``adata.var["measurable"]`` (bool) and ``adata.uns["noise_floor"]``
    (``value``, ``method``, ``detail``).
    """
    from .noise import lower_mode_floor, measurable_genes

    adata = adata.copy() if copy else adata
    expr = expression_frame(adata)
    if floor is None:
        found = lower_mode_floor(np.asarray(expr.mean(axis=1, skipna=True), dtype=float))
    else:
        found = {"value": float(floor), "method": "given", "detail": "set by the caller"}
    groups = two_groups(adata, groupby, resistant, sensitive)
    adata.var["measurable"] = measurable_genes(expr, groups, float(found["value"])).to_numpy()
    adata.uns["noise_floor"] = {**found, "value": float(found["value"])}
    return adata if copy else None
