"""The report on models (issue 15, contracts 2 and 3): data sets with several contrasts, each a
model `{ds}/{contrast}` with its files in results/{ds}/{contrast}/, and a regulator comparison
(the NCI-60 P53 panel, comparison TP53_status) with its p53 control and the IGF1R hypotheses
worded as regulation claims. Small made-up tables in the contract shape; a plain data set in the
same run renders as before.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from test_report import parse, synthetic_dataset, synthetic_report

from igf1r_resistance import report as rep
from igf1r_resistance.report import sentences as S
from igf1r_resistance.report.tables import (
    Model,
    for_model,
    model_ids,
    model_order,
    models_of,
    split_model,
)

P53 = "P53_NCI60"
P53_MODEL = "P53_NCI60/mutant_vs_wild_type"
ARMS = ["ARMS/R_vs_C", "ARMS/O_vs_C"]
# hypotheses the made-up TP53_status comparison tests (contract 3: applies_to [TP53_status])
REGULATION = ["igf1r_gene_up", "igf1r_axis_up", "p53_targets_down"]
# controls.tsv as controls.py writes it, with the NCI-60 panel's numbers (docs/panels.md of i15panel):
# all four lower in mutant lines, none at genome-wide adj.P < 0.05, MDM2 under the noise floor
CONTROLS = pd.DataFrame({
    "gene": ["CDKN1A", "MDM2", "BAX", "DDB2"], "expected": ["down"] * 4, "source": ["canonical p53 target"] * 4,
    "observed": ["no_significant_change", "not_measurable", "no_significant_change", "no_significant_change"],
    "logFC": [-1.469, -0.444, -0.975, -0.658], "ci_low": [-2.134, -0.722, -1.422, -1.034],
    "ci_high": [-0.804, -0.166, -0.529, -0.281], "adj_p_value": [0.209, 0.618, 0.209, 0.614],
    "passed": [np.nan] * 4, "measurable": [True, False, True, True],
})


def design_config(config: dict) -> dict:
    """The synthetic config plus a two-contrast design data set and the P53 panel (contract 1 spelling)."""
    config = dict(config)
    datasets = dict(config["datasets"])
    datasets["ARMS"] = {"type": "matrix", "matrix": "expr.tsv", "samples": "samples.tsv", "model_type": "chemo",
                        "model": "OVCAR8 ovarian", "design": {"factor": "arm", "covariates": ["batch"]},
                        "contrasts": {"R_vs_C": {"resistant": "R", "sensitive": "C", "drug": "olaparib"},
                                      "O_vs_C": {"resistant": "O", "sensitive": "C"}}}
    datasets[P53] = {"type": "matrix", "matrix": "p53.tsv", "samples": "p53_samples.tsv",
                     "model": "NCI-60 cell-line panel",
                     "design": {"factor": "TP53_status", "covariates": ["tissue"]},
                     "contrasts": {"mutant_vs_wild_type": {"test": "mutant", "reference": "wild_type",
                                                           "comparison": "TP53_status"}}}
    config["datasets"] = datasets
    return config


def as_levels(t: rep.DatasetTables, factor: str, test: str, reference: str) -> rep.DatasetTables:
    """A data set with a design as the contract writes it: samples and QC groups are the factor's levels."""
    levels = {"resistant": test, "sensitive": reference}
    samples = t.samples.rename(columns={"group": factor})
    samples[factor] = samples[factor].map(lambda g: levels.get(g, "other"))
    qc = {k: (v.assign(group=v["group"].map(lambda g: levels.get(g, g))) if "group" in v.columns else v)
          for k, v in t.qc.items()}
    return rep.DatasetTables(t.uns, samples, t.de, t.gsea, t.scores, qc)


def as_design(t: rep.DatasetTables, factor: str, levels: dict[str, str]) -> rep.DatasetTables:
    """A data set with a design as prepare writes it (designs.design_grouping of i15design): the
    factor's levels in their own column, `group` the first contrast's roles, other fitted levels
    `intermediate`; QC groups are the first contrast's roles."""
    samples = t.samples.copy()
    samples[factor] = samples["group"].map(levels)
    samples["group"] = samples["group"].replace("excluded", "intermediate")
    return rep.DatasetTables(t.uns, samples, t.de, t.gsea, t.scores, t.qc)


def models_report(hostile: str | None = None) -> tuple[dict, list[str], rep.ReportData]:
    """GSE1, GSE2 (plain), ARMS (two resistance contrasts) and the P53 panel (TP53_status)."""
    config, datasets, data = synthetic_report(seed=5, hostile=hostile)
    config = design_config(config)
    rng = np.random.default_rng(6)
    hyps = [data.hypotheses]
    per_model = dict(data.models)
    for ds, contrasts, levels in [("ARMS", ["R_vs_C", "O_vs_C"], ("R", "C")),
                                  (P53, ["mutant_vs_wild_type"], ("mutant", "wild_type"))]:
        tables, _ = synthetic_dataset(ds, 8, 300, rng)
        factor = "arm" if ds == "ARMS" else "TP53_status"
        data.datasets[ds] = (as_design(tables, factor, {"resistant": "R", "sensitive": "C", "excluded": "O"})
                             if ds == "ARMS" else as_levels(tables, factor, *levels))
        for c in contrasts:
            m = f"{ds}/{c}"
            _, rows = synthetic_dataset(ds, 8, 300, rng)
            rows["model"], rows["contrast"] = m, c
            rows["comparison"] = "TP53_status" if ds == P53 else "resistance"
            if ds == P53:
                rows = rows[rows["hypothesis"].isin(REGULATION)]
                rows.loc[rows["hypothesis"] == "igf1r_gene_up", ["effect", "ci_low", "ci_high", "fdr", "verdict"]] = \
                    [0.42, 0.15, 0.69, 0.012, "supported"]
            hyps.append(rows)
            model = models_of(config, [m])[m]
            own = tables if ds == "ARMS" else data.datasets[ds]
            per_model[m] = for_model(data.datasets[ds], model, factor, de=own.de, gsea=own.gsea,
                                     controls=CONTROLS if ds == P53 else None)
    data.hypotheses = rep.tables.normalise_hypotheses(pd.concat(hyps, ignore_index=True))
    data.models = per_model
    return config, [*datasets, "ARMS", P53], data


@pytest.fixture(scope="module")
def page() -> str:
    return rep.build_report(*models_report())


def matrix_of(page: str) -> str:
    m = page[page.index('id="verdict-matrix"'):]
    return m[: m.index("</table>")]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", "".join(parse(html).text))


def test_model_ids_from_config_and_tables():
    config = design_config(synthetic_report()[0])
    assert model_ids(config) == ["GSE1", "GSE2", *ARMS, P53_MODEL]
    assert split_model(P53_MODEL, config) == (P53, "mutant_vs_wild_type") and split_model("GSE1", config) == ("GSE1", "")
    models = models_of(config, model_ids(config))
    assert models["GSE1"] == Model("GSE1", "A2780-cisplatin", "chemotherapy", "mt-chemotherapy", "cisplatin", "A2780")
    assert models["ARMS/R_vs_C"].label == "OVCAR8-olaparib" and models["ARMS/O_vs_C"].label == "ARMS O_vs_C"
    p53 = models[P53_MODEL]
    assert (p53.regulator, p53.model_type, p53.test_group, p53.reference_group) == (
        True, "regulator comparison", "TP53-mutant", "TP53-wild type")
    # the hypotheses table decides the models; regulator comparisons after the resistance models
    hyps = pd.DataFrame({"model": [P53_MODEL, "GSE2", "ARMS/O_vs_C", "GSE1"],
                         "comparison": ["TP53_status", "resistance", "resistance", "resistance"]})
    assert model_order(config, ["GSE1", "GSE2", "ARMS", P53], hyps) == ["GSE1", "GSE2", *ARMS, P53_MODEL]


def test_contrast_groups_become_roles():
    """A contrast's test level plays the resistant role in the figures, the reference the sensitive one."""
    _, _, data = models_report()
    t = data.models[P53_MODEL]
    assert set(t.qc["pca"]["group"]) == {"resistant", "sensitive"}
    assert set(data.datasets[P53].qc["pca"]["group"]) == {"mutant", "wild_type"}  # the data set keeps its levels
    assert set(t.samples["group"]) <= {"resistant", "sensitive", "excluded"}


def test_second_contrast_takes_its_groups_from_the_factor():
    """samples.tsv's `group` holds the first contrast's roles; O_vs_C's groups come from `arm`."""
    _, _, data = models_report()
    first, second = data.models["ARMS/R_vs_C"], data.models["ARMS/O_vs_C"]
    arm = dict(zip(data.datasets["ARMS"].samples["sample"], data.datasets["ARMS"].samples["arm"]))
    roles = dict(zip(second.samples["sample"], second.samples["group"]))
    assert {roles[s] for s, a in arm.items() if a == "O"} == {"resistant"}
    assert {roles[s] for s, a in arm.items() if a == "R"} == {"excluded"}
    assert {roles[s] for s, a in arm.items() if a == "C"} == {"sensitive"}
    pca = second.qc["pca"]
    assert set(pca.loc[pca["sample"].map(arm) == "R", "group"]) == {"excluded"}
    assert set(first.qc["pca"]["group"]) == {"resistant", "sensitive"}


def test_matrix_has_one_column_per_model_grouped_by_comparison(page: str):
    matrix = matrix_of(page)
    heads = re.findall(r'<th class="mt (mt-\w+)">(.*?)</th>', matrix, flags=re.S)
    assert len(heads) == 5
    names = [text_of(h) for _, h in heads]
    assert [c for c, _ in heads] == ["mt-chemotherapy"] * 4 + ["mt-regulator"]
    assert "R_vs_C" in names[2] and "ARMS" in names[2] and "O_vs_C" in names[3] and "mutant_vs_wild_type" in names[4]
    groups = re.findall(r'<th class="comparison" colspan="(\d)">(.*?)</th>', matrix, flags=re.S)
    assert [(n, text_of(t)) for n, t in groups] == [("4", "resistant vs sensitive"),
                                                    ("1", "TP53_status: TP53-mutant vs TP53-wild type")]
    links = set(re.findall(r'href="#(res-[^"]+)"', matrix))
    assert "res-ARMS_R_vs_C-igf1r_gene_up" in links and "res-P53_NCI60_mutant_vs_wild_type-igf1r_gene_up" in links
    ids = {a["id"] for _, a in parse(page).tags if "id" in a}
    assert links <= ids, sorted(links - ids)
    # the P53 column has cells only for the hypotheses of its comparison
    rows = re.findall(r"<tr><td class=\"id\">.*?</tr>", matrix, flags=re.S)
    p53_cells = [r for r in rows if "P53_NCI60_mutant_vs_wild_type" in r]
    assert len(p53_cells) == len(REGULATION)


def test_each_contrast_has_its_genes_section_and_data_lists_contrasts(page: str):
    for m in ["ARMS_R_vs_C", "ARMS_O_vs_C", "P53_NCI60_mutant_vs_wild_type", "GSE1"]:
        assert f'id="genes-{m}"' in page, m
    data = page[page.index('id="data-ARMS"'):]
    data = text_of(data[: data.index("</section>")])
    assert "factor arm; covariates batch" in data
    assert "R_vs_C (chemotherapy): R (4) vs C (4); drug olaparib" in data
    assert "O_vs_C (chemotherapy): O (4) vs C (4)" in data  # sizes from the contrast's hypotheses rows
    assert 'id="qc-ARMS"' in page and page.count('id="qc-ARMS') == 1  # QC once per data set


def test_regulator_section_in_words_with_numbers(page: str):
    summary = page[page.index('id="summary"'):page.index('id="data"')]
    reg = text_of(summary[summary.index('id="regulators"'):summary.index('id="models"')])
    assert ("Control of P53_NCI60 mutant_vs_wild_type (TP53_status): CDKN1A, MDM2, BAX and DDB2, expected lower "
            "in TP53-mutant than in TP53-wild type lines: 4 of 4 lower, 95% CI excluding 0 for 4, 0 of 4 at adj.P < "
            "0.05 (CDKN1A -1.47 log2 (95% CI -2.13 to -0.80, adj.P 0.209); MDM2 -0.44 log2 (95% CI -0.72 to -0.17, "
            "adj.P 0.618, below the noise floor); BAX -0.97 log2") in reg
    assert "DDB2 -0.66 log2 (95% CI -1.03 to -0.28, adj.P 0.614)); status inconclusive." in reg
    assert ("IGF1R mRNA is higher in TP53-mutant than in TP53-wild type lines (+0.42 log2, 95% CI +0.15 to +0.69, "
            "1.34-fold; FDR 0.012): supported.") in reg
    assert "IGF1R_AXIS set" in reg
    # regulation claims, not resistance: the resistance sentences leave the panel out
    families = summary[summary.index('id="bottom-lines"'):summary.index('id="regulators"')]
    assert "P53_NCI60" not in families and "resistant" not in reg.split("Genes:")[1]
    assert "IGF1R mRNA is higher in resistant cells" not in reg  # the resistance statement is not quoted
    assert 'data-model="P53_NCI60/mutant_vs_wild_type"' in summary


def test_resistance_sentences_name_contrasts_as_models(page: str):
    sentences = [text_of(s) for s in re.findall(r'<li class="bottom-line" data-hypothesis="igf1r_gene_up"[^>]*>(.*?)</li>',
                                                page, flags=re.S)]
    assert sentences[0].startswith("IGF1R mRNA ") and "OVCAR8-olaparib" in sentences[0] and "ARMS O_vs_C" in sentences[0]
    assert "P53" not in sentences[0]
    assert sentences[1].startswith("IGF1R mRNA is higher in TP53-mutant than in TP53-wild type lines")


def test_failed_regulator_control_is_said_first():
    model = Model(P53, "P53 panel", "regulator comparison", "mt-regulator", "", "NCI-60 cell-line panel",
                  id=P53_MODEL, contrast="mutant_vs_wild_type", comparison="TP53_status", test="mutant",
                  reference="wild_type")
    failed = CONTROLS.assign(passed=[False, True, True, np.nan])
    assert S.control_sentence(model, failed, 0.05).startswith("The control FAILED of P53 panel (TP53_status)")
    assert S.control_sentence(model, failed, 0.05).endswith("; status failed.")
    passed = CONTROLS.assign(passed=["True"] * 4, adj_p_value=[1e-5, 2e-4, 0.001, 0.004])
    text = S.control_sentence(model, passed, 0.05)
    assert "4 of 4 at adj.P < 0.05 (CDKN1A -1.47 log2 (95% CI -2.13 to -0.80, adj.P 1.0e-05)" in text
    assert text.startswith("Control of") and text.endswith("; status passed.")
    assert S.control_sentence(model, None, 0.05) == "Controls of P53 panel: not available in this run."
    assert "none known" in S.control_sentence(model, CONTROLS.iloc[0:0], 0.05)


def test_hostile_contrast_strings_are_escaped():
    config, datasets, data = models_report()
    hostile = "<img src=x onerror=alert(1)>"
    config["datasets"]["ARMS"]["contrasts"]["R_vs_C"]["drug"] = hostile
    config["datasets"]["ARMS"]["model"] = hostile
    page = rep.build_report(config, datasets, data)
    tags = [t for t, _ in parse(page).tags]
    assert "img" not in tags and "&lt;img" in page


def test_plain_data_sets_unchanged_by_the_model_code():
    """A run of plain data sets: no comparison header row, no regulator block, no contrast column."""
    page = rep.build_report(*synthetic_report(seed=7))
    assert 'class="comparisons"' not in page and 'id="regulators"' not in page
    table = page[page.index('id="all-hypotheses"'):]
    assert "<th class=\"id\">contrast</th>" not in table[: table.index("</table>")]


def test_a_model_without_tables_is_named():
    """A model id in hypotheses.tsv that the report has no files for (a contract mismatch) is an
    error naming the file, the field and the model, not a silently missing column."""
    from igf1r_resistance.errors import InputFormatError

    config, datasets, data = models_report()
    data.hypotheses.loc[data.hypotheses["model"] == P53_MODEL, "model"] = "P53_NCI60:mutant_vs_wild_type"
    with pytest.raises(InputFormatError, match=r"hypotheses.tsv, field `model`: model\(s\) P53_NCI60:mutant_vs_wild"):
        rep.build_report(config, datasets, data)


def test_regulation_wording_in_cards_and_methods(page: str):
    card = page[page.index('id="res-P53_NCI60_mutant_vs_wild_type-igf1r_gene_up"'):]
    assert re.search(r"n = 4 mutant vs 4 wild_type", card[: card.index("</h4>")])
    assert "In a regulator comparison the null is" in page and "And, where a data set compares" in page


def test_report_reads_the_per_model_file_layout(tmp_path):
    """run_report on files in the contract layout: per data set results/{ds}/ (expression.h5ad,
    samples.tsv, scores.tsv, qc/), per model results/{model}/ (de, gsea, camera, controls; a
    contrast's model id holds a '/'), the summary tables with `model`, `dataset`, `contrast`,
    `comparison`, and the inputs named and ordered as workflow/rules/report.smk declares them."""
    import logging

    import anndata as ad

    config, datasets, data = models_report()
    models = model_ids(config)
    res = tmp_path / "results"

    def tsv(frame: pd.DataFrame, path) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, sep="\t", index=False)
        return str(path)

    inputs: dict = {f"qc_{n}": [] for n in rep.QC_NAMES}
    inputs.update(adata=[], samples=[], scores=[], de=[], gsea=[], camera=[], controls=[])
    for d in datasets:
        t = data.datasets[d]
        h5 = res / d / "expression.h5ad"
        h5.parent.mkdir(parents=True, exist_ok=True)
        ad.AnnData(np.zeros((len(t.samples), 1)), uns=t.uns).write_h5ad(h5)
        inputs["adata"].append(str(h5))
        inputs["samples"].append(tsv(t.samples, res / d / "samples.tsv"))
        inputs["scores"].append(tsv(t.scores, res / d / "scores.tsv"))
        for n in rep.QC_NAMES:
            inputs[f"qc_{n}"].append(tsv(t.qc[n], res / d / "qc" / f"{n}.tsv"))
    for m in models:
        t = data.models[m]
        inputs["de"].append(tsv(t.de, res / m / "de.tsv"))
        inputs["gsea"].append(tsv(t.gsea, res / m / "gsea.tsv"))
        inputs["camera"].append(tsv(pd.DataFrame(columns=["gene_set", "direction", "p_value", "fdr"]),
                                    res / m / "camera.tsv"))
        controls = t.controls if t.controls is not None else pd.DataFrame(columns=list(CONTROLS.columns))
        inputs["controls"].append(tsv(controls, res / m / "controls.tsv"))
    hyps = data.hypotheses.copy()
    hyps.loc[hyps["contrast"] == "", "contrast"] = np.nan  # as a TSV writes an empty field
    inputs["hypotheses"] = tsv(hyps, res / "summary" / "hypotheses.tsv")
    inputs["meta"] = tsv(data.meta, res / "summary" / "meta.tsv")
    inputs["catalogue"] = config["gene_sets"]["catalogue"]
    out = tmp_path / "report.html"
    rep.run_report(inputs, config, datasets, str(out), logging.getLogger("test"), qc_settings=data.qc_settings,
                   forest_out=str(tmp_path / "forest.svg"), models=models)
    page = out.read_text(encoding="utf-8")
    assert len(re.findall(r'<th class="mt ', matrix_of(page))) == len(models) == 5
    assert "0 of 4 at adj.P &lt; 0.05" in page and "status inconclusive" in page  # `passed` read back (empty)
    assert 'id="genes-P53_NCI60_mutant_vs_wild_type"' in page and 'id="genes-ARMS_O_vs_C"' in page
    assert (res / "P53_NCI60" / "mutant_vs_wild_type" / "de.tsv").exists()


def test_regulation_sentences_of_the_panel_numbers():
    """The NCI-60 panel's IGF1R (below the noise floor) and direct p53 targets (a context row: the
    comparison's own set-level check) give their numbers without a verdict word they do not carry."""
    model = models_of(design_config(synthetic_report()[0]), [P53_MODEL])[P53_MODEL]
    igf1r = pd.Series({"effect": -0.193, "ci_low": -0.534, "ci_high": 0.149, "fdr": 0.95, "verdict": "not_measurable"})
    text = S.regulation_sentence({"test": "gene", "gene": "IGF1R", "predicted": "up"}, igf1r, model)
    assert text == ("IGF1R mRNA is below the platform's noise floor in P53_NCI60 mutant_vs_wild_type, so not "
                    "measurable (observed -0.19 log2, 95% CI -0.53 to +0.15, 0.87-fold).")
    targets = pd.Series({"effect": -0.0147, "hedges_g": -0.95, "g_ci_low": -1.55, "g_ci_high": -0.35, "fdr": 0.01,
                         "random_percentile": 3.0, "verdict": "context"})
    text = S.regulation_sentence({"test": "group", "gene_set": "FISCHER_DIRECT_P53_TARGETS_META_ANALYSIS",
                                  "predicted": "down"}, targets, model)
    assert text == ("The FISCHER_DIRECT_P53_TARGETS_META_ANALYSIS set is lower in TP53-mutant than in TP53-wild type "
                    "lines (g -0.95, 95% CI -1.55 to -0.35, random-set percentile 3; FDR 0.010): a context row, "
                    "no verdict.")


def test_models_table_says_why_a_control_has_no_verdict(page: str):
    table = page[page.index('id="models"'):]
    rows = [text_of(r) for r in re.findall(r"<tr>.*?</tr>", table[: table.index("</table>")], flags=re.S)]
    p53 = next(r for r in rows if "mutant_vs_wild_type" in r)
    assert "inconclusive" in p53 and "CDKN1A down: no significant change" in p53
    assert "MDM2 down: not measurable" in p53
