"""One function per workflow step: read the step's inputs, call the library, write outputs.

These are the I/O edge of the library; `scripts/*.py` only pass Snakemake's paths and
params in. Every output is written atomically (temporary name, then rename).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFormatError
from ..genesets import catalogue as gs
from ..genesets.universe import GeneSetsUsed, complete, set_min_sizes, universe  # noqa: F401 (set_min_sizes: benchmarks)
from ..genesets.universe import complete_genes as finite_rows
from ..io.files import read_tsv, write_h5ad, write_text, write_tsv

# --------------------------------------------------------------------------- helpers


def load_expression(adata_path: str | Path, model: dict | None = None):
    """AnnData, genes x samples DataFrame and the sample groups of a prepared data set.

    `model` (designs.model_spec) of a contrast: the groups are the contrast's (test level
    resistant, reference level sensitive, other levels excluded); else obs['group'].
    """
    import anndata as ad

    adata = ad.read_h5ad(adata_path)
    # a view of adata.X (samples x genes, float64 as prepare writes it): no copy of the
    # matrix, which is 1.6 GB for 10,000 samples x 20,000 genes
    expr = pd.DataFrame(np.asarray(adata.X, dtype=float).T, index=adata.var_names.astype(str),
                        columns=adata.obs_names.astype(str), copy=False)
    groups = adata.obs["group"].astype(str)
    if model and model.get("response"):  # no two groups: every sample "excluded" from two-group tests
        groups = pd.Series("excluded", index=adata.obs_names.astype(str), dtype=object)
    elif model and model.get("contrast"):
        from ..pp.designs import contrast_groups, design_samples

        terms = design_samples(adata.obs, model["design"])
        groups = contrast_groups(terms, model["design"], model["test"], model["reference"])
        groups = groups.reindex(adata.obs_names.astype(str)).fillna("excluded")
    return adata, expr, groups


def scorable_genes(expr: pd.DataFrame) -> pd.DataFrame:
    """Genes measured in every sample (gene_universe.complete_genes) of a genes x samples frame.

    Returns `expr` itself (no copy) when every gene is complete, so callers must not
    modify the result in place.
    """
    keep = finite_rows(expr.to_numpy())
    return expr if keep.all() else expr[keep]


def complete_expression(adata_path: str | Path, model: dict | None = None):
    """(adata, genes x samples DataFrame of the genes measured in every sample, groups).

    `var["complete"]` (gene_universe.complete): the rank background of scoring and the
    matrix of camera. No copy when every gene is complete. `model`: as in load_expression.
    """
    adata, expr, groups = load_expression(adata_path, model)
    keep = complete(adata).reindex(expr.index).fillna(False).to_numpy(bool)
    return adata, (expr if keep.all() else expr[keep]), groups


# --------------------------------------------------------------------------- steps


def run_prepare(dataset: str, settings: dict, inputs: dict[str, str], outputs: dict[str, str],
                log: logging.Logger, sample_schema: str = "workflow/schemas/samples.schema.yaml",
                workflow_dir: str | None = None) -> None:
    """The prepare step of any data-set type: `inputs` are the rule's named inputs (by type).

    `workflow_dir`: the workflow's folder; paths of its own files (HGNC table, Jetset choice,
    demo data) are recorded relative to it (config.shown_paths).

    geo: series, annotation, hgnc; geo_rnaseq: series, counts, gene_annotation, hgnc;
    matrix: matrix, samples, hgnc; h5ad: data, hgnc; single_cell: data, hgnc.
    `outputs`: adata, samples, probes (and cells for single_cell).
    """
    from ..pp.gene_ids import describe_unmapped
    from ..pp.symbols import SymbolMapper
    from .config import dataset_type

    kind = dataset_type(dataset, settings)
    mapper = SymbolMapper.from_file(inputs["hgnc"])
    if kind == "geo":
        from ..pp.prepare import prepare_dataset

        table = read_tsv(inputs["annotation"])
        table["symbol"] = table["symbol"].fillna("").astype(str)
        table["probe"] = table["probe"].astype(str)
        sources = {
            "series_matrix": inputs["series"],
            "annotation": str(table["source"].iloc[0]) if "source" in table and len(table) else inputs["annotation"],
            "platform": str(table["platform"].iloc[0]) if "platform" in table and len(table) else "",
            "hgnc": inputs["hgnc"],
        }
        preferred, preferred_source = None, ""
        platform = str(settings.get("platform") or sources["platform"] or "")
        choice = probe_choice_file(platform, inputs.get("jetset"))
        if choice is not None:
            from ..pp.probes import read_jetset_choice

            preferred, preferred_source = read_jetset_choice(choice), f"Jetset choice for {platform}: {choice}"
            sources["probe_choice"] = choice
        else:
            log.info("platform %s has no Jetset scores: per gene the probe with the highest mean (recorded)",
                     platform or "?")
        prepared = prepare_dataset(inputs["series"], table, dataset, settings, sources=sources,
                                   rename=mapper.current, preferred=preferred, preferred_source=preferred_source)
    elif kind == "geo_rnaseq":
        from ..pp.rnaseq import prepare_geo_rnaseq

        prepared = prepare_geo_rnaseq(dataset, settings, inputs["series"], inputs["counts"],
                                      inputs["gene_annotation"], mapper, sources={"hgnc": inputs["hgnc"]})
    elif kind == "matrix":
        from ..io.local_data import prepare_matrix

        prepared = prepare_matrix(dataset, settings, inputs["matrix"], inputs["samples"], sample_schema, mapper,
                                  sources={"hgnc": inputs["hgnc"]})
    elif kind == "h5ad":
        from ..io.local_data import prepare_h5ad

        prepared = prepare_h5ad(dataset, settings, inputs["data"], mapper, sources={"hgnc": inputs["hgnc"]})
    elif kind == "single_cell":
        from ..pp.singlecell import prepare_single_cell

        prepared = prepare_single_cell(dataset, settings, inputs["data"], mapper, sources={"hgnc": inputs["hgnc"]})
    else:
        raise InputFormatError(f"data set {dataset}: unknown type {kind!r}")
    a = prepared.adata
    if workflow_dir:
        from .config import shown_paths

        for key in list(a.uns):
            a.uns[key] = shown_paths(a.uns[key], workflow_dir)
    info = a.uns["dataset"]
    log.info("type %s (%s data)", kind, info["data_type"])
    log.info("scale: %s", a.uns["log2"]["reason"])
    log.info("genes: %s", a.uns["probe_collapse"])
    if "gene_ids" in a.uns:
        log.info("gene ids: %s", describe_unmapped(a.uns["gene_ids"]))
    if "single_cell" in a.uns:
        log.info("single cell: %s", {k: v for k, v in a.uns["single_cell"].items() if k != "caveat"})
    if info.get("caveat"):
        log.warning("caveat: %s", info["caveat"])
    log.info("groups from field %r (%s rule): %d resistant, %d sensitive, %d excluded%s", info["group_field"],
             info.get("group_rule", "regex"), info["n_resistant"], info["n_sensitive"], info["n_excluded"],
             f", {info['n_intermediate']} intermediate (continuous test only)" if info.get("n_intermediate") else "")
    log.info("differential expression: %s", a.uns["de"]["method"])
    floor = a.uns["noise_floor"]
    log.info("noise floor: %s (%s) - %d of %d genes measurable; %s", floor["value"], floor["method"],
             floor["n_measurable"], floor["n_genes"], floor["detail"])
    write_tsv(prepared.probes, outputs["probes"])
    write_tsv(prepared.samples, outputs["samples"])
    if prepared.cells is not None and outputs.get("cells"):
        write_h5ad(prepared.cells, outputs["cells"])
    write_h5ad(a, outputs["adata"])


def probe_choice_file(platform: str, files) -> str | None:
    """The Jetset choice table of `platform` among the prepare rule's `jetset` input (or None)."""
    from ..pp.probes import choice_file_for

    if files is None:
        return None
    return choice_file_for(platform, [files] if isinstance(files, str) else list(files))


def de_options(adata) -> dict:
    """Arguments for `limma.moderated_t` chosen by prepare from the data type (`.uns['de']`).

    limma-trend (trend=True) for log-CPM of counts; the ordinary moderated t otherwise
    (and for data prepared before `.uns['de']` existed).
    """
    de = dict(adata.uns.get("de", {})) if hasattr(adata, "uns") else {}
    return {"trend": bool(de.get("trend", False))}


def run_gene_sets(dataset: str, adata_path: str, catalogue: str, gmt_paths: list[str], set_uses: list[dict],
                  min_size: int, out_table: str, out_gmt: str, log: logging.Logger) -> None:
    """results/{ds}/gene_sets.tsv and gene_sets.gmt: the gene sets as used for one data set
    (gene_universe.sets_as_used), the one source every later step reads them from.

    `set_uses`: gene_universe.set_uses(hypotheses.extra) - which sets the user's hypotheses
    name and their `min_genes` (their statements do not change the sets).
    """
    import anndata as ad

    from ..genesets.universe import gene_sets_for, gmt_text

    adata = ad.read_h5ad(adata_path)
    table, sources = gene_sets_for(adata, catalogue, gmt_paths, set_uses, min_size)
    used = GeneSetsUsed.from_table(table)
    summary = used.summary()
    counts = summary["status"].value_counts().to_dict()
    in_universe = universe(adata)
    log.info("data set %s: universe of %d genes (of %d measured in every sample, those above the noise floor)",
             dataset, int(in_universe.sum()), int(complete(adata).sum()))
    log.info("gene sets: %d used, %d not measurable (under the noise floor), %d too small", counts.get("used", 0),
             counts.get("not_measurable", 0), counts.get("too_small", 0))
    left = table[table["complete"].astype(bool) & ~table["measurable"].astype(bool)]
    if len(left):
        log.info("genes under the noise floor left the sets: %s", "; ".join(
            f"{k}: {','.join(v)}" for k, v in left.groupby("gene_set", sort=False)["gene"]))
    write_tsv(table, out_table)
    write_text(gmt_text(used, sources), out_gmt)


def _scoring_inputs(adata_path: str, gene_sets_path: str, log: logging.Logger):
    """The universe's expression (genes x samples) and the sets to score (gene_sets.tsv)."""
    _, expr, _ = complete_expression(adata_path)
    log.info("%d genes measured in every sample are used for scoring", len(expr))
    used = GeneSetsUsed.read(gene_sets_path)
    skipped = sorted(n for n, st in used.status.items() if st != "used")
    if skipped:
        log.info("sets with too few genes in the universe, not scored: %s", ", ".join(skipped))
    return expr, used.sets()


def run_scoring(adata_path: str, gene_sets_path: str, scoring: dict, out_scores: str, log: logging.Logger) -> None:
    from ..tl.scoring import score_gene_sets

    expr, usable = _scoring_inputs(adata_path, gene_sets_path, log)
    scores = score_gene_sets(expr, usable, list(scoring["methods"]), min_size=1, seed=scoring["seed"],
                             gsva_approx=bool(scoring.get("gsva_approx", False)))
    log.info("scored %d sets x %d samples with %s", len(usable), expr.shape[1], ", ".join(scoring["methods"]))
    write_tsv(scores, out_scores)


def run_scoring_chunk(adata_path: str, gene_sets_path: str, scoring: dict, k: int,
                      out_chunk: str, log: logging.Logger) -> None:
    """Chunk k of scoring.chunks (chunks.score_chunk): sample block k for the sample-wise
    methods, gene-set block k for the cohort-wide ones; full-precision TSV."""
    from ..io.files import atomic_path
    from .chunks import SET_WISE, block, score_chunk, write_chunk

    n = int(scoring["chunks"])
    expr, usable = _scoring_inputs(adata_path, gene_sets_path, log)
    methods = list(scoring["methods"])
    table = score_chunk(expr, usable, methods, k, n, seed=scoring["seed"],
                        gsva_approx=bool(scoring.get("gsva_approx", False)))
    samples, sets = block(expr.shape[1], k, n), block(len(usable), k, n)
    log.info("chunk %d of %d: samples %d-%d of %d (sample-wise methods), sets %d-%d of %d (%s)",
             k, n, samples.start, samples.stop, expr.shape[1], sets.start, sets.stop, len(usable),
             ", ".join(m for m in methods if m in SET_WISE) or "none")
    with atomic_path(out_chunk) as tmp:
        write_chunk(table, tmp)


def run_scoring_gather(chunk_paths: list[str], scoring: dict, out_scores: str, log: logging.Logger) -> None:
    """scores.tsv from the chunks 0..N-1, identical to an unsplit run."""
    from .chunks import gather, read_chunk

    scores = gather([read_chunk(p) for p in chunk_paths], list(scoring["methods"]))
    log.info("gathered %d scoring chunks: %d rows", len(chunk_paths), len(scores))
    write_tsv(scores, out_scores)


def run_de(adata_path: str, de_config: dict, out: str, log: logging.Logger, model: dict | None = None) -> None:
    """limma's moderated t, resistant - sensitive, with topTable's confidence interval
    (CI.L, CI.R at `de_config['confint']`, default 0.95) and whether the gene clears the data set's noise floor (`measurable`, from
    prepare's var['measurable']; True for data prepared before the floor existed).

    `model` of a contrast (designs.model_spec): lmFit of the data set's design on every
    fitted sample, contrasts.fit of test - reference, eBayes, topTable (linear_model); a
    plain two-group data set keeps the closed-form two-group fit (limma.moderated_t: the
    same numbers as that design, byte for byte as before, and lighter on large cohorts).
    A response contrast (`model["response"]`): panels.gene_associations, limma with the
    oriented response as a numeric term after the design's terms (logFC per unit of response).
    """
    from ..tl._limma import moderated_t

    adata, expr, groups = load_expression(adata_path, model)
    options = de_options(adata)
    level = float(de_config.get("confint", 0.95))
    if model and model.get("response"):
        from ..pp.designs import adjusting_terms, response_samples
        from ..tl.panels import gene_associations

        samples = response_samples(adata.obs, model)
        terms = adjusting_terms(model["design"])
        table = gene_associations(expr, samples, model["response"], terms, higher_is=model["higher_is"],
                                  trend=options["trend"], confidence=level,
                                  where=f"datasets.{model['dataset']}.contrasts.{model['contrast']}")
        log.info("limma lmFit ~ %s + %s (numeric, higher = more resistant: higher_is %s) on %d lines with a "
                 "response, %s; logFC = log2 change per unit of response", " + ".join(terms), model["response"],
                 model["higher_is"], int(samples[model["response"]].notna().sum()),
                 "limma-trend" if options["trend"] else "eBayes")
    elif model and model.get("contrast"):
        from ..pp.designs import fitted_design
        from ..tl.linear_model import linear_model

        contrast = model["contrast"]
        design, weights = fitted_design(model["dataset"], adata.obs, model["design"],
                                        {contrast: {"test": model["test"], "reference": model["reference"]}})
        table = linear_model(expr, design, {contrast: weights[contrast]}, trend=options["trend"],
                             confidence=level)[contrast]
        log.info("limma lmFit on %d samples x %d coefficients (%s), contrasts.fit %s, %s", design.shape[0],
                 design.shape[1], ", ".join(design.columns),
                 " ".join(f"{w:+g} {c}" for c, w in weights[contrast].items()),
                 "limma-trend" if options["trend"] else "eBayes")
    else:
        table = moderated_t(expr, groups, confint=level, **options)
        log.info("limma moderated t, resistant - sensitive, %s", "limma-trend" if options["trend"] else "eBayes")
    if "measurable" in adata.var:
        table["measurable"] = adata.var["measurable"].reindex(table["gene"].astype(str)).fillna(False).to_numpy(bool)
    else:
        table["measurable"] = True
    floor = dict(adata.uns.get("noise_floor", {}))
    log.info("limma: %d genes, %d with adj.P.Val < 0.05; %d not measurable (noise floor %s, %s)", len(table),
             int((table["adj.P.Val"] < 0.05).sum()), int((~table["measurable"]).sum()), floor.get("value"),
             floor.get("method", "none recorded"))
    table = table.sort_values(["P.Value", "gene"], na_position="last")
    write_tsv(table, out)


def run_controls(dataset: str, de_path: str, controls: dict, fdr: float, out_table: str, out_status: str,
                 log: logging.Logger) -> None:
    """controls.tsv and controls_status.tsv of a data set from its de.tsv (see `controls`)."""
    from ..tl.controls import STATUS_COLUMNS, evaluate_controls

    de = read_tsv(de_path)
    table, status = evaluate_controls(de, controls, fdr, dataset)
    for row in table.itertuples(index=False):
        log.info("control %s: expected %s, observed %s (logFC %.3g, adj.P.Val %.3g) -> passed %s", row.gene,
                 row.expected, row.observed, row.logFC, row.adj_p_value, row.passed)
    if status["flag"]:
        log.warning("data set %s: controls %s (%s): %s", dataset, status["status"], status["flag"], status["message"])
    else:
        log.info("data set %s: controls %s: %s", dataset, status["status"], status["message"])
    write_tsv(table, out_table)
    write_tsv(pd.DataFrame([status], columns=STATUS_COLUMNS), out_status)


def run_gsea(dataset: str, de_path: str, adata_path: str, gene_sets_path: str,
             gsea_config: dict, out_gsea: str, out_camera: str, log: logging.Logger,
             model: dict | None = None) -> None:
    """Competitive tests of every catalogue and user GMT set: preranked GSEA and camera.

    The sets are the data set's gene sets as used (results/{ds}/gene_sets.tsv: catalogue +
    GMT sets restricted to the universe - measured in every sample, above the noise floor -
    so the GSEA running sums of the QC step match), each part tested against its set's
    minimum size (`gene_sets.min_size`, or a hypothesis' `min_genes`). Up/down sets are
    tested as NAME_UP and NAME_DN. Every set gets a row in both tables; sets too small to
    test carry NaN and a `note`. `model` of a contrast: GSEA ranks the contrast's de.tsv;
    camera compares the contrast's two levels.
    """
    from ..tl._camera import CAMERA_COLUMNS, camera
    from ..tl._gsea import preranked, set_parts

    de = read_tsv(de_path)
    de["gene"] = de["gene"].astype(str)
    adata, complete_expr, groups = complete_expression(adata_path, model)  # no copy when every gene is complete
    used = GeneSetsUsed.read(gene_sets_path)
    mins = used.min_size
    sets = list(used.restricted.values())

    testable: dict[str, list[str]] = {}
    small = []
    for set_name, part, genes in set_parts(sets):
        n, need = len(set(genes)), max(1, mins[set_name])
        if n >= need:
            testable[part] = genes
        else:
            small.append({"gene_set": part, "n_genes": n, "direction": "",
                          "note": f"{n} genes measured and above the noise floor, at least {need} needed"})
    inter_gene_cor = gsea_config.get("camera_inter_gene_cor", 0.01)
    trend = de_options(adata)["trend"]  # log-CPM: variances squeezed towards a trend, as in de
    camera_note = ""
    if model and model.get("response"):
        # camera here compares two groups; a response contrast has none (GSEA ranks its association t)
        camera_note = (f"response contrast ({model['response']}): camera compares two groups and is not run; "
                       "see GSEA on the association t")
        cam = pd.DataFrame({"gene_set": list(testable), "n_genes": [len(set(g)) for g in testable.values()],
                            "correlation": np.nan, "direction": "", "p_value": np.nan, "fdr": np.nan,
                            "correlation_estimated": np.nan, "p_value_estimated_cor": np.nan})
    else:
        cam = camera(complete_expr, groups, testable, inter_gene_cor=inter_gene_cor, trend_var=trend)
        # beside it, camera with the inter-gene correlation estimated per set (hypotheses.tsv
        # shows both: the fixed 0.01 is anti-conservative for correlated sets)
        estimated = camera(complete_expr, groups, testable, inter_gene_cor=None, trend_var=trend)
        cam["correlation_estimated"] = estimated["correlation"].to_numpy()
        cam["p_value_estimated_cor"] = estimated["p_value"].to_numpy()
    # camera is the only use of the matrix: free it before GSEA's permutations allocate
    del adata, complete_expr

    table = preranked(de, sets, permutations=gsea_config["permutations"], seed=gsea_config["seed"],
                      min_size=mins)
    n_tested = int(table["p_value"].notna().sum())
    log.info("data set %s: preranked GSEA (%d permutations, seed %d): %d of %d sets tested, %d with FDR < 0.25",
             dataset, gsea_config["permutations"], gsea_config["seed"], n_tested, len(table),
             int((table["fdr"] < 0.25).sum()))

    cam["note"] = camera_note
    cam = cam.sort_values(["p_value", "gene_set"], na_position="last")
    if small:
        cam = pd.concat([cam, pd.DataFrame(small)], ignore_index=True)
    cam = cam.reset_index(drop=True)[[*CAMERA_COLUMNS, "correlation_estimated", "p_value_estimated_cor", "note"]]
    log.info("data set %s: camera (inter-gene correlation %s%s): %d of %d sets tested, %d with FDR < 0.05",
             dataset, inter_gene_cor, ", trend.var" if trend else "", len(testable), len(cam),
             int((cam["fdr"] < 0.05).sum()))
    write_tsv(table, out_gsea)
    write_tsv(cam, out_camera)


def _hypothesis_inputs(dataset: str, adata_path: str, scores_path: str, gene_sets_path: str, gene_set_config: dict,
                       hyp_config: dict, scoring: dict, log: logging.Logger, drug_class: str = "",
                       model: dict | None = None):
    """What :func:`hypotheses.evaluate` needs for one data set: (adata, args, response).

    The sets come from gene_sets.tsv (the sets as used and as defined); the hypotheses from
    the catalogue, the GMT files and `hyp_config["extra"]`. Hypotheses with `drug_classes`
    are kept only when `drug_class` is one of them.
    """
    from ..tl._hypotheses import HypothesisSettings

    adata, expr, groups = load_expression(adata_path, model)
    scores = read_tsv(scores_path)
    if scores.empty:
        raise InputFormatError(f"data set {dataset}: {scores_path} holds no scores")
    scores["sample"] = scores["sample"].astype(str)
    _, _, hyps = gs.collect(gene_set_config["catalogue"], gene_set_config["gmt"], hyp_config["extra"])
    hyps = gs.applicable(hyps, drug_class, _comparison(model))
    sets = GeneSetsUsed.read(gene_sets_path)
    used, full = sets.used, sets
    settings = HypothesisSettings(
        methods=tuple(scoring["methods"]), primary=scoring["primary"], min_size=gene_set_config["min_size"],
        alpha=hyp_config["fdr"], p_value=hyp_config["p_value"], max_exact=hyp_config["max_exact"],
        n_permutations=hyp_config["permutations"], seed=hyp_config["seed"],
        n_random_sets=hyp_config.get("random_sets", 2000), expression_bins=hyp_config.get("expression_bins", 10),
        gene_margin=hyp_config.get("gene_margin", 0.5), set_margin=hyp_config.get("set_margin", 0.5),
    )
    response = None
    if "response" in adata.obs.columns and "response" in adata.uns:
        sign = 1.0 if adata.uns["response"].get("higher_is", "resistant") == "resistant" else -1.0
        response = adata.obs["response"].astype(float) * sign
        response.index = response.index.astype(str)
        log.info("continuous test: Spearman of scores vs %s over %d samples (higher = more resistant)",
                 adata.uns["response"].get("field"), int(response.notna().sum()))
    return adata, (dataset, scores, expr, groups, used, full, hyps, settings), response


def _comparison(model: dict | None) -> str:
    """What the model compares: its contrast's `comparison`, else resistance (plain data sets)."""
    return (model or {}).get("comparison") or "resistance"


def run_permutation_chunk(dataset: str, adata_path: str, scores_path: str, gene_sets_path: str, gene_set_config: dict,
                          hyp_config: dict, scoring: dict, k: int, out: str, log: logging.Logger,
                          drug_class: str = "", model: dict | None = None) -> None:
    """Chunk k of hypotheses.permutation_chunks: permutation counts of every group test."""
    from ..tl._hypotheses import PERMUTATION_COLUMNS, count_permutations

    n_chunks = hyp_config["permutation_chunks"]
    if model and model.get("response"):
        # a response model has no labels to permute (its rank test permutes within strata in
        # the hypotheses step): the chunk holds no test
        log.info("model %s: response contrast, no label-permutation tests", model["id"])
        write_tsv(pd.DataFrame(columns=PERMUTATION_COLUMNS), out)
        return
    _, args, _ = _hypothesis_inputs(dataset, adata_path, scores_path, gene_sets_path, gene_set_config, hyp_config,
                                    scoring, log, drug_class, model)
    table = count_permutations(*args, chunk=k, n_chunks=n_chunks, comparison=_comparison(model))
    log.info("data set %s: permutation chunk %d of %d: %d tests, %d relabellings each (of %s)", dataset, k + 1,
             n_chunks, len(table), int(table["n_done"].max()) if len(table) else 0,
             ", ".join(map(str, sorted(set(table["n_total"]))[:3])))
    write_tsv(table[PERMUTATION_COLUMNS], out)


def run_hypotheses(dataset: str, adata_path: str, scores_path: str, gene_sets_path: str, gene_set_config: dict,
                   hyp_config: dict, scoring: dict, out: str, log: logging.Logger,
                   permutation_chunks: list[str] | None = None, de_path: str | None = None,
                   camera_path: str | None = None, footprints_path: str | None = None,
                   drug_class: str = "", model: dict | None = None) -> None:
    """Test every hypothesis of one model; with `permutation_chunks`, gather their counts.

    `model` (designs.model_spec; None = the plain data set `dataset`): a contrast's set-score
    hypotheses take the design's estimate (score ~ design, designs.design_set_effects), a
    response contrast's the adjusted slope (panels.score_associations, :func:`_response_options`);
    its model, contrast, comparison, drug and model_type fill the table's columns.

    `de_path`: limma's de.tsv (gene hypotheses use its moderated t, p and CI);
    `camera_path`: camera.tsv (shown beside the competitive p); `footprints_path`
    (results/{ds}/footprints.tsv) gives the rows of the catalogue's footprint hypotheses
    (footprints.hypothesis_rows), which join the others before FDR and verdicts (contract 2).
    """
    from ..tl._hypotheses import evaluate, gather_permutations
    from ..tl.footprints import hypothesis_rows

    adata, args, response = _hypothesis_inputs(dataset, adata_path, scores_path, gene_sets_path, gene_set_config,
                                               hyp_config, scoring, log, drug_class, model)
    extra_rows = None
    if footprints_path:
        extra_rows = hypothesis_rows(dataset, read_tsv(footprints_path), args[6])
        log.info("data set %s (drug class %s): %d footprint / claim rows from %s", dataset, drug_class or "unknown",
                 len(extra_rows), footprints_path)
    permutations = None
    if permutation_chunks:
        permutations = gather_permutations([read_tsv(p) for p in permutation_chunks], dataset)
        log.info("data set %s: permutation counts of %d tests gathered from %d chunks", dataset,
                 len(permutations), len(permutation_chunks))
    de = read_tsv(de_path) if de_path else None
    camera = read_tsv(camera_path) if camera_path else None
    measurable = None
    if "measurable" in adata.var.columns:  # expression.h5ad var["measurable"] (noise floor, contract 4)
        measurable = pd.Series(adata.var["measurable"].astype(bool).to_numpy(), index=adata.var_names.astype(str))
    in_universe = universe(adata)  # competitive random sets: from the genes the sets were restricted to
    options = {}
    if model and model.get("response"):
        options.update(_response_options(args, adata, model, hyp_config, log))
    elif model and model.get("contrast"):
        from ..pp.designs import design_set_effects, design_terms

        options["design_effects"] = design_set_effects(args[1], adata.obs, model, args[7].methods)
        log.info("model %s: set scores fitted on the design (score ~ %s), contrast %s - %s", model["id"],
                 " + ".join(t for _, t in design_terms(model["design"])), model["test"], model["reference"])
    comparison = _comparison(model)
    options["comparison"] = comparison
    table = evaluate(*args, response=response, permutations=permutations, de=de, camera=camera,
                     measurable=measurable, extra_rows=extra_rows, universe=in_universe, **options)
    if hyp_config.get("quantile_sensitivity", True) and model and model.get("response"):
        log.info("quantile-normalisation sensitivity not run: it refits two groups, a response model has none")
    elif hyp_config.get("quantile_sensitivity", True):
        from ..tl._hypotheses import quantile_sensitivity

        table = quantile_sensitivity(table, *args[:1], args[2], args[3], args[4], args[5], args[6], args[7],
                                     measurable=measurable, trend=de_options(adata)["trend"], universe=in_universe)
        flips = table.loc[table["quantile_flip"].eq(True), "hypothesis"].tolist()
        log.info("quantile-normalisation sensitivity: %d confirmatory verdicts flip%s", len(flips),
                 f" ({', '.join(flips)})" if flips else "")
    info = adata.uns.get("dataset", {})
    # contract 2: each contrast is a model; a plain data set is the model `dataset`
    table["model"] = (model or {}).get("id") or dataset
    table["contrast"] = (model or {}).get("contrast", "")
    table["comparison"] = comparison
    table["model_type"] = str((model or {}).get("model_type") or info.get("model_type", ""))
    table["drug"] = str((model or {}).get("drug") or info.get("drug", ""))
    table["drug_class"] = drug_class or str(info.get("drug_class", ""))
    table["data_type"] = str(info.get("data_type", "microarray"))
    prim = table[table["primary"].astype(bool)]
    counts = prim["verdict"].value_counts().to_dict()
    log.info("verdicts (primary rows): %s", counts)
    write_tsv(table, out)


def _response_options(args: tuple, adata, model: dict, hyp_config: dict, log: logging.Logger) -> dict:
    """evaluate()'s inputs of a response model: the set scores' adjusted associations
    (panels.score_associations), the lines' strata and the slope's weights (competitive null)."""
    from ..pp.designs import adjusting_terms, response_samples
    from ..tl.panels import response_weights, score_associations

    samples = response_samples(adata.obs, model)
    terms = adjusting_terms(model["design"])
    where = f"datasets.{model['dataset']}.contrasts.{model['contrast']}"
    settings = args[7]
    scores = args[1][args[1]["method"].isin(settings.methods)]
    associations = score_associations(scores, samples, model["response"], terms, higher_is=model["higher_is"],
                                      n_permutations=hyp_config["permutations"], seed=hyp_config["seed"],
                                      where=where)
    weights = response_weights(samples, model["response"], terms, higher_is=model["higher_is"], where=where)
    numeric = [c for c in terms if pd.api.types.is_numeric_dtype(samples[c])]
    text = [c for c in terms if c not in numeric]
    kept = samples.loc[weights.index]
    strata = kept[text].astype(str).agg("|".join, axis=1) if text else pd.Series("all", index=kept.index)
    log.info("model %s: set scores ~ %s + %s (least squares) on %d lines, partial Spearman within %d strata "
             "(%d within-strata permutations)", model["id"], " + ".join(terms), model["response"], len(weights),
             strata.nunique(), hyp_config["permutations"])
    return {"associations": associations, "strata": strata, "weights": weights}


def run_meta(paths: list[str], fdr: float, out_hypotheses: str, out_meta: str, log: logging.Logger,
             models: dict | None = None, settings: dict | None = None) -> None:
    """Gather every data set's hypotheses.tsv and meta-analyse them (meta.meta_analyse).

    `models`: meta.model_metadata(config["datasets"]); `settings`: config["meta"].
    """
    from ..tl.meta import meta_analyse

    tables = [read_tsv(p) for p in paths]
    combined = pd.concat(tables, ignore_index=True)
    meta = meta_analyse(combined, models, alpha=fdr, settings=settings)
    log.info("meta-analysis: %d hypothesis x stratum rows, strata %s, verdicts %s", len(meta),
             sorted(meta["stratum"].unique()), meta["verdict"].value_counts().to_dict())
    descriptive = sorted({m for s in meta["descriptive_models"] for m in str(s).split(";") if m})
    if descriptive:
        log.info("shown descriptively, never pooled (pseudo-replicates): %s", ", ".join(descriptive))
    write_tsv(combined, out_hypotheses)
    write_tsv(meta, out_meta)


def run_footprints(dataset: str, de_path: str, adata_path: str, model_path: str, symbols_path: str | None,
                   hyp_config: dict, out: str, log: logging.Logger, model: dict | None = None) -> None:
    """PROGENy pathway activity of one data set: ulm on limma's t and per-sample ulm scores compared."""
    from ..tl.footprints import FOOTPRINT_COLUMNS, footprint_table, load_progeny

    _, expr, groups = load_expression(adata_path, model)
    de = read_tsv(de_path)
    network = load_progeny(model_path, symbols_path)
    no_groups = ""
    if model and model.get("response"):
        no_groups = (f"response contrast ({model['response']}): no two groups, so no per-sample Welch test; "
                     "the ulm score on limma's association t is shown")
    table = footprint_table(de, expr, groups, network, max_exact=hyp_config["max_exact"],
                            n_permutations=hyp_config["permutations"], seed=hyp_config["seed"],
                            no_groups=no_groups)
    for r in table.itertuples():
        log.info("%s %s: contrast ulm score %.3f (p %.3g), per-sample Welch p %.3g, %s/%s footprint genes",
                 dataset, r.pathway, r.score, r.p_value, r.welch_p, r.n_targets, r.n_model)
    write_tsv(table[FOOTPRINT_COLUMNS], out)
