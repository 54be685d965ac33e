"""log2 decision (GEO2R's rule), probe collapsing and group assignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.errors import ConfigError, GroupingError
from igf1r_resistance.pp.groups import assign_groups
from igf1r_resistance.pp.log_scale import apply_log2, geo2r_needs_log2
from igf1r_resistance.pp.prepare import collapse_probes, split_symbols


def frame(values, probes=None, samples=None):
    values = np.asarray(values, dtype=float)
    return pd.DataFrame(values, index=probes or [f"p{i}" for i in range(values.shape[0])],
                        columns=samples or [f"s{j}" for j in range(values.shape[1])])


# --------------------------------------------------------------------------- log2


def test_geo2r_rule_on_linear_intensities():
    needs, q = geo2r_needs_log2(np.linspace(1, 20000, 1000))
    assert needs and q["q99"] > 100


def test_geo2r_rule_on_log_values():
    needs, _ = geo2r_needs_log2(np.linspace(2, 14, 1000))
    assert not needs


def test_geo2r_rule_range_branch():
    # q99 <= 100 but max - min > 50 and q25 > 0: still linear
    values = np.concatenate([np.linspace(1, 90, 995), [200, 300, 400, 500, 600]])
    needs, q = geo2r_needs_log2(values)
    assert q["q99"] <= 100 and needs
    # a q25 of 0 (many zeros) with the same small range keeps the data as they are
    values = np.concatenate([np.zeros(500), np.linspace(1, 60, 500)])
    assert geo2r_needs_log2(values)[0] is False


def test_quantiles_match_r_type7():
    x = np.array([0.2, 1, 5, 10, 40, 100, 2000])
    _, q = geo2r_needs_log2(x)
    # R: quantile(c(0.2,1,5,10,40,100,2000), c(.25,.99)) -> 3, 1886 (checked with Rscript)
    assert q["q25"] == pytest.approx(3.0) and q["q99"] == pytest.approx(1886.0)


def test_apply_log2_sets_nonpositive_missing_and_records():
    x = frame([[0, 1024, 2048], [-5, 300, 20000]])
    out, decision = apply_log2(x, "auto")
    assert decision.transformed and decision.n_nonpositive_set_missing == 2
    assert np.isnan(out.iloc[0, 0]) and out.iloc[0, 1] == 10.0
    assert "GEO2R" in decision.reason


def test_apply_log2_override_and_bad_value():
    x = frame([[1, 1024], [3, 5000]])
    out, decision = apply_log2(x, "no")
    assert not decision.transformed and out.equals(x) and "would have said yes" in decision.reason
    with pytest.raises(ConfigError, match="auto, yes, no"):
        apply_log2(x, "maybe")


# --------------------------------------------------------------------------- probes


def test_split_symbols():
    assert split_symbols("IGF2 /// INS-IGF2") == ["IGF2", "INS-IGF2"]
    assert split_symbols("") == [] and split_symbols(None) == [] and split_symbols(float("nan")) == []
    assert split_symbols("---") == []


def test_collapse_keeps_highest_mean_and_multi_gene_fallback():
    expr = frame(
        [[5, 5], [9, 9], [7, 7], [8, 8], [6, 6], [3, 3]],
        probes=["a1", "a2", "igf2_1", "igf2_2", "ddr1_multi", "nosym"],
    )
    ann = pd.DataFrame({
        "probe": ["a1", "a2", "igf2_1", "igf2_2", "ddr1_multi", "nosym"],
        "symbol": ["GENEA", "GENEA", "IGF2 /// INS-IGF2", "IGF2 /// INS-IGF2", "GENEA /// MIRX", ""],
    })
    genes, table, record = collapse_probes(expr, ann)
    chosen = table.set_index("gene")["probe"].to_dict()
    assert chosen["GENEA"] == "a2"  # highest mean of the two single-gene probes
    assert chosen["IGF2"] == "igf2_2"  # no single-gene probe: the multi-gene probe stands in
    assert chosen["MIRX"] == "ddr1_multi"  # MIRX has no single-gene probe either
    assert table.set_index("gene").loc["IGF2", "rule"] == "multi_gene_probe"
    assert "nosym" not in set(table["probe"])
    assert record["n_probes_without_symbol"] == 1 and record["n_genes"] == len(genes)
    assert genes.loc["GENEA"].tolist() == [9, 9]


def test_collapse_renames_to_current_symbols():
    expr = frame([[1, 2], [3, 4]], probes=["p1", "p2"])
    ann = pd.DataFrame({"probe": ["p1", "p2"], "symbol": ["MIR143HG", "TP53"]})
    rename = {"MIR143HG": "CARMN"}.get
    genes, _, record = collapse_probes(expr, ann, rename=lambda s: rename(s) or s)
    assert set(genes.index) == {"CARMN", "TP53"}
    assert record["n_probe_symbols_updated_to_current_hgnc"] == 1


def test_collapse_on_real_gpl570_keeps_igf2():
    import gzip
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / ".test/geo/platforms/GPLnnn/GPL570/soft/GPL570_probe2symbol_idmap2.tsv.gz"
    with gzip.open(path, "rt") as fh:
        ann = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False)
    ann = ann.rename(columns={"ID": "probe", "Gene Symbol": "symbol"})
    subset = ann[ann["symbol"].str.contains(r"\bIGF2\b|IGF1R|ABCB1", regex=True)]
    expr = frame(np.arange(len(subset) * 2).reshape(-1, 2), probes=list(subset["probe"]))
    genes, _, _ = collapse_probes(expr, subset)
    assert {"IGF2", "IGF1R", "ABCB1"} <= set(genes.index)


# --------------------------------------------------------------------------- groups


SAMPLES = pd.DataFrame(
    {"title": ["R1", "R2", "S1", "S2", "other"],
     "cell line": ["Round5 A2780", "Round5 A2780", "parental A2780", "parental A2780", "mix"],
     "source_name_ch1": ["a", "a", "b", "b", "c"]},
    index=pd.Index(["G1", "G2", "G3", "G4", "G5"], name="sample"),
)


def test_assign_groups_case_insensitive_with_exclusion():
    g = assign_groups(SAMPLES, {"by": "cell line", "resistant": "round5", "sensitive": "PARENTAL"}, "D")
    assert g.tolist() == ["resistant", "resistant", "sensitive", "sensitive", "excluded"]


def test_assign_groups_alias_field():
    g = assign_groups(SAMPLES, {"by": "source_name", "resistant": "^a$", "sensitive": "^b$"}, "D")
    assert (g == "resistant").sum() == 2


@pytest.mark.parametrize("rule, message", [
    ({"by": "cell line", "resistant": "A2780", "sensitive": "parental"}, "match both"),
    ({"by": "cell line", "resistant": "zzz", "sensitive": "yyy"}, "neither"),
    ({"by": "cell line", "resistant": "zzz", "sensitive": "parental"}, "matches 0 sample"),
    ({"by": "cell line", "resistant": "mix", "sensitive": "parental"}, "matches 1 sample"),
    ({"by": "tissue", "resistant": "a", "sensitive": "b"}, "not a sample field"),
    ({"by": "title", "resistant": "(", "sensitive": "S"}, "not a valid regex"),
])
def test_assign_groups_errors_name_dataset(rule, message):
    with pytest.raises(GroupingError, match=message) as err:
        assign_groups(SAMPLES, rule, "GSE42")
    assert "GSE42" in str(err.value)
