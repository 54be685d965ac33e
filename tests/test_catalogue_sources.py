"""Every citation of the mechanism catalogue checks out against the shipped source subsets.

HGNC gene groups: the id exists with that name in workflow/resources/hgnc_gene_groups.tsv and
the genes said to come from it are members (subgroups included). MSigDB: every set named exists
in workflow/resources/msigdb_v7.0_catalogue.gmt (verbatim v7.0 lines) and the genes said to come
from it are members. Both subsets are made by workflow/resources/make_catalogue_sources.py;
when the original files are on this machine (/work/shared/data) they are compared too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from igf1r_resistance.genesets.catalogue import catalogue_citations, load_catalogue, read_gmt

REPO = Path(__file__).resolve().parents[1]
RES = REPO / "workflow" / "resources"
CATALOGUE = RES / "mechanisms.yaml"
SHARED = Path("/work/shared/data")


@pytest.fixture(scope="module")
def hgnc() -> dict[int, tuple[str, set[str]]]:
    table = pd.read_csv(RES / "hgnc_gene_groups.tsv", sep="\t", dtype={"group_id": int})
    return {int(r.group_id): (r.name, set(str(r.members).split("|"))) for r in table.itertuples()}


@pytest.fixture(scope="module")
def msigdb() -> dict[str, set[str]]:
    return {s.name: set(s.up) for s in read_gmt(RES / "msigdb_v7.0_catalogue.gmt")}


@pytest.fixture(scope="module")
def citations(msigdb):
    return catalogue_citations(CATALOGUE)


def test_every_hgnc_citation_has_that_id_name_and_members(hgnc, citations):
    cited = [c for c in citations if c.hgnc is not None]
    assert len(cited) >= 10
    for c in cited:
        assert c.hgnc in hgnc, f"{c.where}: HGNC group {c.hgnc} is not in the shipped HGNC table"
        name, members = hgnc[c.hgnc]
        assert c.name == name, f"{c.where}: HGNC group {c.hgnc} is {name!r}, cited as {c.name!r}"
        outside = sorted(set(c.genes) - members)
        assert not outside, f"{c.where}: {outside} are not members of HGNC group {c.hgnc} {name!r}"


def test_every_msigdb_name_exists_and_genes_are_members(msigdb, citations):
    cited = [c for c in citations if c.msigdb]
    assert len(cited) >= 20
    for c in cited:
        assert c.msigdb in msigdb, f"{c.where}: MSigDB set {c.msigdb} is not in the shipped v7.0 subset"
        outside = sorted(set(c.genes) - msigdb[c.msigdb])
        assert not outside, f"{c.where}: {outside} are not members of MSigDB v7.0 {c.msigdb}"


def test_every_curated_gene_has_a_citation():
    """Each gene of a hand-made set comes from a cited source, and each cited gene is in the set."""
    data = yaml.safe_load(CATALOGUE.read_text())
    for name, spec in data["gene_sets"].items():
        if spec.get("msigdb"):
            assert not spec.get("up") and not spec.get("down"), f"{name}: an MSigDB set lists no genes of its own"
            continue
        genes = set(spec.get("up", [])) | set(spec.get("down", []))
        cited = {g for c in spec.get("citations", []) for g in c.get("genes", [])}
        assert genes == cited, f"{name}: genes without citation {sorted(genes - cited)}, cited but absent " \
                               f"{sorted(cited - genes)}"
        for c in spec["citations"]:
            assert sum(k in c for k in ("hgnc", "msigdb", "literature")) == 1, f"{name}: {c}"
            if "literature" in c:
                assert re.search(r"(19|20)\d\d", c["literature"]), f"{name}: a paper citation names its year"


def test_the_five_wrong_group_ids_are_gone(citations):
    """Issue 14: 1254 (NF-kappa B), 1062 (GOLD domain), 1934 (none), 1151 (PITPN) were cited
    for IRS, PI3K, AKT and IGFBPs; 1159 is integrin beta only."""
    ids = {c.hgnc for c in citations if c.hgnc is not None}
    assert not ids & {1254, 1062, 1934, 1151}
    text = CATALOGUE.read_text()
    for gid in ("1254", "1062", "1934", "1151"):
        assert f"group {gid}" not in text and f"hgnc: {gid}" not in text
    for c in citations:
        if c.hgnc == 1159:
            assert all(g.startswith("ITGB") for g in c.genes)


def test_catalogue_version_changelog_and_kept_ids():
    header, sets, hyps = load_catalogue(CATALOGUE)
    assert header["version"] == "2.1.0"
    changelog = (REPO / "docs" / "catalogue_changelog.md").read_text()
    assert "2.1.0" in changelog and "2.0.0" in changelog and "1.0.0" in changelog
    ids = {h.id for h in hyps}
    kept = {"igf1r_gene_up", "insr_changed", "igf1r_axis_up", "pi3k_akt_up", "mapk_up", "proliferation_up",
            "antiapoptosis_up", "abc_up", "abcb1_up", "abcc1_up", "abcg2_up", "igf1r_abc_coupled",
            "igf1r_ecm_coupled"}
    assert kept <= ids
    assert "ABC_CORE" not in {s.name for s in sets}
    for h in hyps:
        assert h.source, h.id
        assert h.role in ("primary", "supporting", "descriptive", "context")


def test_every_scored_set_can_be_scored():
    """ABC_CORE had 3 genes, below gene_sets.min_size (5), and was never scored."""
    _, sets, hyps = load_catalogue(CATALOGUE)
    size = {s.name: len(s.up) for s in sets}
    for h in hyps:
        for name in (h.gene_set, h.with_set):
            if name:
                assert size[name] >= (h.min_genes or 5), f"{h.id}: {name} has {size[name]} up genes"


def test_issue_gene_lists():
    _, sets, hyps = load_catalogue(CATALOGUE)
    by = {s.name: s for s in sets}
    assert set(by["DRUG_EFFLUX"].up) == {"ABCB1", "ABCC1", "ABCC2", "ABCC3", "ABCC4", "ABCC5", "ABCC6",
                                         "ABCC10", "ABCC11", "ABCG2", "ABCB11", "ABCB5"}
    assert not {"CCND1", "CDK4", "TYMS", "RRM2"} & set(by["PROLIFERATION"].genes)
    assert "BIRC5" not in by["ANTI_APOPTOSIS"].genes
    assert set(by["INTEGRIN_ADHESOME"].up) == {"ITGB1", "ITGAV", "ITGB3", "ITGA5", "ITGA2", "ITGA6", "PTK2", "ILK",
                                               "SRC", "PXN", "TLN1", "RACK1"}
    assert set(by["MPAS"].up) == {"PHLDA1", "SPRY2", "SPRY4", "DUSP4", "DUSP6", "CCND1", "EPHA2", "EPHA4",
                                  "ETV4", "ETV5"}
    h = {x.id: x for x in hyps}
    assert h["pi3k_akt_up"].readout == "progeny:PI3K" and h["pi3k_akt_up"].role == "primary"
    assert h["mapk_up"].readout == "progeny:MAPK"
    assert h["pi3k_akt_members"].role == "descriptive" and h["mapk_members"].role == "descriptive"
    assert h["proliferation_up"].role == "context"
    assert h["platinum_slc31a1_down"].drug_classes == ("platinum",)
    assert h["platinum_slc31a1_down"].predicted == "down"


@pytest.mark.skipif(not (SHARED / "genesets").is_dir(), reason="original MSigDB files not on this machine")
def test_shipped_msigdb_lines_are_verbatim():
    shipped = (RES / "msigdb_v7.0_catalogue.gmt").read_text().splitlines()
    originals = {}
    for path in (SHARED / "genesets").glob("*v7.0*.gmt"):
        for line in path.read_text().splitlines():
            originals.setdefault(line.split("\t", 1)[0], line)
    for line in shipped:
        assert line == originals[line.split("\t", 1)[0]]


@pytest.mark.skipif(not (SHARED / "hgnc").is_dir(), reason="original HGNC tables not on this machine")
def test_shipped_hgnc_groups_match_originals(hgnc):
    groups = pd.read_csv(SHARED / "hgnc" / "gene_groups.tsv.gz", sep="\t", dtype={"group_id": int})
    names = dict(zip(groups["group_id"], groups["name"]))
    for gid, (name, _) in hgnc.items():
        assert names[gid] == name
    nom = pd.read_csv(SHARED / "hgnc" / "hgnc_nomenclature.tsv.gz", sep="\t", dtype=str,
                      usecols=["symbol", "status", "gene_group_all_ids"])
    nom = nom[nom["status"] == "Approved"]
    ids = nom["gene_group_all_ids"].fillna("").str.split("|")
    for gid, (_, members) in hgnc.items():
        assert members == set(nom["symbol"][ids.apply(lambda x, g=str(gid): g in x)])


def test_every_hypothesis_has_a_family_page():
    """docs/hypotheses/: each catalogue hypothesis is documented on exactly one family page,
    which quotes the review and says what counts as support or contradiction."""
    _, _, hyps = load_catalogue(CATALOGUE)
    pages = {p.name: p.read_text() for p in (REPO / "docs" / "hypotheses").glob("*.md") if p.name != "README.md"}
    assert len(pages) >= 7
    for name, text in pages.items():
        assert "## Claim (review)" in text and "> " in text and "## Support / contradiction" in text, name
    for h in hyps:
        where = [n for n, t in pages.items() if f"`{h.id}`" in t]
        assert len(where) == 1, f"{h.id} is on {where or 'no'} family page"
