"""Public tools on AnnData (``ir.tl``): thin wrappers that store the kernels' results in place.

Conventions (scverse): ``adata.obs`` = samples, ``adata.var`` = genes, ``adata.X`` = log2
expression (as the workflow's ``expression.h5ad``). Each function computes with the
array kernels of this package (the same code the workflow runs, equal to the R references)
and stores its result in ``adata``: per sample in ``obsm``, per gene in ``varm``, per set or
hypothesis in ``uns``, with the parameters in ``uns[key]["params"]`` style keys. Pass
``copy=True`` to get a modified copy instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pandas as pd

from .._anndata import RESISTANT, SENSITIVE, expression_frame, sets_from, two_groups

if TYPE_CHECKING:
    from anndata import AnnData

    from ..genesets.catalogue import GeneSet

    #: GeneSet objects, a mapping name -> genes, or the path of a GMT file
    GeneSets = Iterable[GeneSet] | Mapping[str, Iterable[str]] | str


def _target(adata: AnnData, copy: bool) -> AnnData:
    return adata.copy() if copy else adata


def score(
    adata: AnnData,
    gene_sets: GeneSets,
    method: str = "singscore",
    *,
    min_size: int = 5,
    seed: int = 0,
    layer: str | None = None,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Score gene sets in every sample.

    Parameters
    ----------
    adata
        Samples x genes log2 expression (``var_names`` = gene symbols).
    gene_sets
        :class:`~igf1r_resistance.genesets.catalogue.GeneSet` objects (up and down parts),
        a mapping ``name -> genes``, or the path of a GMT file.
    method
        One of ``singscore`` (Foroutan et al. 2018, BMC Bioinformatics 19:404), ``ssgsea``
        (Barbie et al. 2009, Nature 462:108; normalised as GSVA ``ssgsea.norm``), ``gsva``
        (Haenzelmann et al. 2013, BMC Bioinformatics 14:7; equal to R GSVA 1.46), ``zscore``
        and ``plage`` (Lee et al. 2008; Tomfohr et al. 2005), ``score_genes`` (scanpy's
        ``tl.score_genes``, Satija et al. 2015).
    min_size
        A set with fewer measured up genes is not scored (no column).
    seed
        ``random_state`` of ``score_genes``.
    layer
        Score ``adata.layers[layer]`` instead of ``adata.X``.
    key_added
        ``obsm`` key; default ``score_{method}``.
    copy
        Return a modified copy instead of writing into `adata`.

    Returns
    -------
    ``None`` (or the copy): ``adata.obsm[key_added]`` is a samples x sets
    :class:`pandas.DataFrame` (index = ``obs_names``); only genes measured in every sample are
    used (:func:`igf1r_resistance.tl.scoring.score_gene_sets`).
    """
    from .scoring import score_gene_sets

    adata = _target(adata, copy)
    expr = expression_frame(adata, layer)
    long = score_gene_sets(expr, sets_from(gene_sets), [method], min_size=min_size, seed=seed)
    table = long.pivot(index="sample", columns="gene_set", values="score")
    table = table.reindex(index=adata.obs_names.astype(str))
    table.columns.name = None
    table.index = adata.obs_names
    adata.obsm[key_added or f"score_{method}"] = table
    return adata if copy else None


def limma(
    adata: AnnData,
    groupby: str = "group",
    *,
    resistant: str = RESISTANT,
    sensitive: str = SENSITIVE,
    trend: bool | None = None,
    robust: bool = False,
    confint: float | None = 0.95,
    layer: str | None = None,
    key_added: str = "limma",
    copy: bool = False,
) -> AnnData | None:
    """limma moderated t-test of `resistant` versus `sensitive` samples, per gene.

    Equal to R limma 3.54 ``lmFit`` + ``contrasts.fit`` + ``eBayes`` + ``topTable(sort.by =
    "none")`` (Smyth 2004, Stat Appl Genet Mol Biol 3:3; robust: Phipson et al. 2016, Ann
    Appl Stat 10:946) via :func:`igf1r_resistance.tl._limma.moderated_t`.

    Parameters
    ----------
    adata
        Samples x genes log2 expression; NaN marks a missing value.
    groupby
        ``obs`` column with the groups.
    resistant, sensitive
        The two levels of ``obs[groupby]`` compared (logFC = resistant - sensitive); samples
        with other labels are left out.
    trend
        limma-trend; default: what preparation chose for the data type
        (``adata.uns["de"]["trend"]``: True for log-CPM of counts), else False.
    robust
        Robust empirical Bayes.
    confint
        Level of the logFC confidence interval (``CI.L``, ``CI.R``), or None for none.
    layer
        Test ``adata.layers[layer]`` instead of ``adata.X``.
    key_added
        ``varm`` / ``uns`` key.
    copy
        Return a modified copy instead of writing into `adata`.

    Returns
    -------
    ``None`` (or the copy): ``adata.varm[key_added]`` is topTable as a genes x columns
    DataFrame (index = ``var_names``; ``logFC, CI.L, CI.R, AveExpr, t, P.Value, adj.P.Val,
    B``); ``adata.uns[key_added]`` holds the parameters.
    """
    from ._limma import moderated_t

    adata = _target(adata, copy)
    if trend is None:
        trend = bool(dict(adata.uns.get("de", {})).get("trend", False))
    groups = two_groups(adata, groupby, resistant, sensitive)
    table = moderated_t(expression_frame(adata, layer), groups, trend=trend, robust=robust, confint=confint)
    table = table.set_index(table.pop("gene").astype(str))
    table.index = adata.var_names
    adata.varm[key_added] = table
    adata.uns[key_added] = {"groupby": groupby, "resistant": str(resistant), "sensitive": str(sensitive),
                            "trend": bool(trend), "robust": bool(robust),
                            "confint": float(confint) if confint is not None else None}
    return adata if copy else None


def _complete_sets(adata: AnnData, gene_sets, layer: str | None, min_size: int):
    """Expression of genes measured in every sample, and the sets restricted to them that keep
    at least `min_size` up genes (the workflow's rule for scoring, camera and GSEA)."""
    from ..genesets.catalogue import restrict

    expr = expression_frame(adata, layer)
    expr = expr[expr.notna().all(axis=1).to_numpy()]
    sets = [restrict(s, expr.index) for s in sets_from(gene_sets)]
    return expr, [s for s in sets if len(s.up) >= max(1, min_size)]


def camera(
    adata: AnnData,
    gene_sets: GeneSets,
    groupby: str = "group",
    *,
    resistant: str = RESISTANT,
    sensitive: str = SENSITIVE,
    inter_gene_cor: float | None = 0.01,
    min_size: int = 5,
    layer: str | None = None,
    key_added: str = "camera",
    copy: bool = False,
) -> AnnData | None:
    """Competitive gene-set test (limma's ``camera``) of `resistant` versus `sensitive`.

    Wu & Smyth 2012, Nucleic Acids Res 40:e133; equal to R limma 3.54 via
    :func:`igf1r_resistance.tl._camera.camera`. Genes with a missing value are left out; a set
    with a down part is tested as ``NAME_UP`` and ``NAME_DN``.

    Parameters
    ----------
    adata
        Samples x genes log2 expression.
    gene_sets
        GeneSet objects, a mapping ``name -> genes`` or a GMT path.
    groupby, resistant, sensitive
        As :func:`limma`.
    inter_gene_cor
        Fixed inter-gene correlation (limma's default 0.01), or None to estimate it per set.
    min_size
        Sets with fewer measured genes are not tested.
    layer, key_added, copy
        As :func:`limma`.

    Returns
    -------
    ``None`` (or the copy): ``adata.uns[key_added]`` is camera's table (``gene_set, n_genes,
    correlation, direction, p_value, fdr``), one row per set part.
    """
    from ._camera import camera as camera_kernel
    from ._gsea import set_parts

    adata = _target(adata, copy)
    expr, sets = _complete_sets(adata, gene_sets, layer, min_size)
    parts = {part: genes for _, part, genes in set_parts(sets) if len(set(genes)) >= max(1, min_size)}
    groups = two_groups(adata, groupby, resistant, sensitive)
    adata.uns[key_added] = camera_kernel(expr, groups, parts, inter_gene_cor=inter_gene_cor)
    return adata if copy else None


def gsea(
    adata: AnnData,
    gene_sets: GeneSets,
    *,
    key: str = "limma",
    permutations: int = 1000,
    seed: int = 0,
    min_size: int = 5,
    key_added: str = "gsea",
    copy: bool = False,
) -> AnnData | None:
    """Preranked GSEA on the moderated t of :func:`limma` (``adata.varm[key]["t"]``).

    Subramanian et al. 2005, PNAS 102:15545, with gseapy's ``prerank`` (Fang et al. 2023,
    Bioinformatics 39:btac757) via :func:`igf1r_resistance.tl._gsea.preranked`: genes ranked
    by decreasing t (ties by name), gene-set permutations with `seed`.

    Parameters
    ----------
    adata
        With ``adata.varm[key]`` from :func:`limma`.
    gene_sets
        GeneSet objects, a mapping ``name -> genes`` or a GMT path.
    key
        ``varm`` key of the limma table.
    permutations, seed
        Gene-set permutations and their seed.
    min_size
        Smallest number of ranked genes a set needs.
    key_added, copy
        As :func:`limma`.

    Returns
    -------
    ``None`` (or the copy): ``adata.uns[key_added]`` is the GSEA table (``gene_set, n_genes,
    es, nes, p_value, fdr, leading_edge, note``).
    """
    from ._gsea import preranked

    if key not in adata.varm:
        raise KeyError(f"adata.varm has no {key!r}: run ir.tl.limma(adata, ...) first")
    adata = _target(adata, copy)
    de = pd.DataFrame({"gene": adata.var_names.astype(str), "t": adata.varm[key]["t"].to_numpy(float)})
    adata.uns[key_added] = preranked(de, sets_from(gene_sets), permutations=permutations, seed=seed,
                                     min_size=min_size)
    return adata if copy else None


def _long_set_scores(adata: AnnData, sets: list, methods: tuple[str, ...], *, seed: int) -> pd.DataFrame:
    """`sample, gene_set, method, score` of every method, from ``adata.obsm["score_{method}"]``
    (scored first, as :func:`score`, when absent)."""
    long = []
    for method in methods:
        key = f"score_{method}"
        if key not in adata.obsm:
            score(adata, sets, method, min_size=1, seed=seed)
        wide = adata.obsm[key]
        frame = wide.rename_axis(index="sample", columns="gene_set").stack().rename("score").reset_index()
        frame["sample"] = frame["sample"].astype(str)
        long.append(frame.assign(method=method)[["sample", "gene_set", "method", "score"]])
    return pd.concat(long, ignore_index=True)


def _limma_table(adata: AnnData) -> pd.DataFrame | None:
    """``adata.varm["limma"]`` as a de.tsv table (a `gene` column of strings), or None."""
    if "limma" not in adata.varm:
        return None
    de = adata.varm["limma"].rename_axis("gene").reset_index()
    de["gene"] = de["gene"].astype(str)
    return de


def hypotheses(
    adata: AnnData,
    catalogue: str,
    groupby: str = "group",
    *,
    resistant: str = RESISTANT,
    sensitive: str = SENSITIVE,
    methods: Iterable[str] = ("singscore",),
    primary: str | None = None,
    dataset: str = "adata",
    drug_class: str = "",
    gmt: Iterable[str] = (),
    settings: Mapping | None = None,
    key_added: str = "hypotheses",
    copy: bool = False,
) -> AnnData | None:
    """Test the catalogue's hypotheses (Yuan et al. 2018's mechanisms) on resistant vs sensitive.

    Each hypothesis says how a gene set or gene should differ between resistant and
    sensitive samples; its verdict (supported / contradicted / inconclusive / ...) comes from
    :func:`igf1r_resistance.tl.stats.verdict` as in the workflow (docs/verdicts.md), via
    :func:`igf1r_resistance.tl._hypotheses.evaluate`. Set scores are taken from
    ``adata.obsm["score_{method}"]`` when present (computed otherwise, as :func:`score`), the
    gene rows from ``adata.varm["limma"]`` when present and camera p-values from
    ``adata.uns["camera"]``.

    Parameters
    ----------
    adata
        Samples x genes log2 expression.
    catalogue
        Path of the mechanism catalogue (``workflow/resources/mechanisms.yaml``).
    groupby, resistant, sensitive
        As :func:`limma`.
    methods
        Scoring methods tested; the first is the primary one unless `primary` is given.
    dataset
        Name written in the table's ``dataset`` column.
    drug_class
        Keeps the hypotheses of that drug class (catalogue ``drug_classes``).
    gmt
        Extra GMT files whose sets hypotheses may name.
    settings
        Fields of :class:`igf1r_resistance.tl._hypotheses.HypothesisSettings` (``alpha``,
        ``n_permutations``, ``seed``, margins, ...).
    key_added, copy
        As :func:`limma`.

    Returns
    -------
    ``None`` (or the copy): ``adata.uns[key_added]`` is the hypotheses table (the columns of
    the workflow's ``hypotheses.tsv``).
    """
    from ..genesets import catalogue as gs
    from ..genesets.universe import GeneSetsUsed, gene_sets_for
    from ._hypotheses import HypothesisSettings, evaluate

    adata = _target(adata, copy)
    methods = tuple(methods)
    options = dict(settings or {})
    options.setdefault("min_size", 5)
    hs = HypothesisSettings(methods=methods, primary=primary or methods[0], **options)
    _, _, hyps = gs.collect(catalogue, list(gmt), [])
    hyps = gs.applicable(hyps, drug_class)
    expr = expression_frame(adata)
    # the sets as the workflow uses them (one home): restricted to the genes measured in
    # every sample and above the noise floor (var["measurable"], when the data carry it)
    sets = GeneSetsUsed.from_table(gene_sets_for(adata, catalogue, list(gmt), [], hs.min_size)[0])
    used = sets.used
    scores = _long_set_scores(adata, list(used.values()), methods, seed=hs.seed)
    de = _limma_table(adata)
    measurable = None
    if "measurable" in adata.var.columns:
        measurable = pd.Series(adata.var["measurable"].astype(bool).to_numpy(), index=expr.index)
    groups = two_groups(adata, groupby, resistant, sensitive)
    adata.uns[key_added] = evaluate(dataset, scores, expr, groups, used, sets, hyps, hs,
                                    de=de, camera=adata.uns.get("camera"), measurable=measurable)
    return adata if copy else None
