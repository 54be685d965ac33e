"""GEO layout, local-mirror-then-download acquisition and platform annotation readers."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from igf1r_resistance.errors import (
    AnnotationError,
    ConfigError,
    DownloadError,
    InputFormatError,
    NotFoundError,
)
from igf1r_resistance.io.geo import (
    locate_or_fetch,
    nnn_folder,
    platform_annotation_candidates,
    read_platform_annotation,
    series_matrix_candidates,
)

from geo_server import DEMO_MIRROR, serve_directory

FORMATS = Path(__file__).parent / "data" / "geo_formats"
QUIET = {"log": lambda m: None, "timeout": (1.0, 1.0), "backoff": 0.01}


@pytest.fixture
def server():
    with serve_directory(DEMO_MIRROR) as s:
        yield s


def fetch(candidates, tmp_path, *, mirrors=(), base_url=None, **kwargs):
    options = {**QUIET, "cache_dir": None, "offline": False, "what": "test file", **kwargs}
    return locate_or_fetch(
        candidates,
        local_mirrors=list(mirrors),
        base_url=base_url,
        dest=tmp_path / "out" / "file.gz",
        **options,
    )


# --- layout ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accession", "folder"),
    [
        ("GSE15709", "GSE15nnn"),
        ("GSE1234", "GSE1nnn"),
        ("GSE123", "GSEnnn"),
        ("GSE1", "GSEnnn"),
        ("GPL570", "GPLnnn"),
        ("GPL10558", "GPL10nnn"),
    ],
)
def test_nnn_folder(accession, folder):
    assert nnn_folder(accession) == folder


@pytest.mark.parametrize("bad", ["", "GSE", "gse15709", "GSE15709 ", "15709", "GSE15709-GPL570"])
def test_nnn_folder_rejects_non_accessions(bad):
    with pytest.raises(ConfigError):
        nnn_folder(bad)


def test_series_matrix_candidates():
    folder = "series/GSE15nnn/GSE15709/matrix"
    assert series_matrix_candidates("GSE15709", "GPL570") == [
        f"{folder}/GSE15709-GPL570_series_matrix.txt.gz",
        f"{folder}/GSE15709_series_matrix.txt.gz",
    ]
    assert series_matrix_candidates("GSE15709", None) == [f"{folder}/GSE15709_series_matrix.txt.gz"]


def test_platform_annotation_candidates():
    assert platform_annotation_candidates("GPL10558") == [
        "platforms/GPL10nnn/GPL10558/annot/GPL10558.annot.gz",
        "platforms/GPL10nnn/GPL10558/soft/GPL10558_family.soft.gz",
        "platforms/GPL10nnn/GPL10558/soft/GPL10558_probe2symbol_idmap2.tsv.gz",
    ]


# --- locate_or_fetch --------------------------------------------------------------------


def test_local_mirror_wins_over_url(server, tmp_path):
    candidates = series_matrix_candidates("GSE27473", None)
    dest, source = fetch(
        candidates, tmp_path, mirrors=[tmp_path / "empty", DEMO_MIRROR], base_url=server.url
    )
    assert source == str(DEMO_MIRROR / candidates[0])
    assert dest.read_bytes() == (DEMO_MIRROR / candidates[0]).read_bytes()
    assert server.requests == []
    assert [p.name for p in dest.parent.iterdir()] == ["file.gz"]


def test_superseries_candidate_order(server, tmp_path):
    # GSE15709 exists only as GSE15709-GPL570_...: the first candidate is used.
    dest, source = fetch(
        series_matrix_candidates("GSE15709", "GPL570"), tmp_path, base_url=server.url
    )
    assert source.endswith("/GSE15709/matrix/GSE15709-GPL570_series_matrix.txt.gz")
    assert len(server.requests) == 1
    # GSE27473 is single-platform: the platform name 404s, the plain name is used.
    dest, source = fetch(
        series_matrix_candidates("GSE27473", "GPL6244"), tmp_path, base_url=server.url
    )
    assert source.endswith("/GSE27473/matrix/GSE27473_series_matrix.txt.gz")
    assert [r.rsplit("/", 1)[1] for r in server.requests[1:]] == [
        "GSE27473-GPL6244_series_matrix.txt.gz",
        "GSE27473_series_matrix.txt.gz",
    ]
    assert_only_dest(dest)


def test_single_per_platform_matrix_is_used_without_platform(server, tmp_path):
    messages: list[str] = []
    _, source = fetch(
        series_matrix_candidates("GSE15709", None),
        tmp_path,
        base_url=server.url,
        log=messages.append,
    )
    assert source.endswith("GSE15709-GPL570_series_matrix.txt.gz")
    assert any("only series matrix" in m for m in messages)


def test_nothing_found_lists_every_location(server, tmp_path):
    candidates = series_matrix_candidates("GSE99999", "GPL570")
    with pytest.raises(NotFoundError) as info:
        fetch(
            candidates,
            tmp_path,
            mirrors=[DEMO_MIRROR],
            base_url=server.url,
            what="GSE99999 series matrix",
        )
    message = str(info.value)
    assert "GSE99999 series matrix was not found" in message
    for rel in candidates:
        assert str(DEMO_MIRROR / rel) in message
        assert f"{server.url}/{rel}" in message
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_other_download_faults_are_not_masked(server, tmp_path):
    server.faults.fail_first = 100
    with pytest.raises(DownloadError, match="HTTP 500") as info:
        fetch(
            series_matrix_candidates("GSE27473", "GPL570"), tmp_path, base_url=server.url, retries=1
        )
    assert not isinstance(info.value, NotFoundError)


def test_offline_uses_cache_and_moves_between_candidates(server, tmp_path):
    cache = tmp_path / "cache"
    candidates = series_matrix_candidates("GSE27473", "GPL570")
    fetch(candidates, tmp_path, base_url=server.url, cache_dir=cache)
    before = len(server.requests)
    _, source = fetch(candidates, tmp_path, base_url=server.url, cache_dir=cache, offline=True)
    assert source == f"{server.url}/{candidates[1]}"
    assert len(server.requests) == before
    with pytest.raises(DownloadError, match="GSE11440") as info:
        fetch(
            series_matrix_candidates("GSE11440", None),
            tmp_path,
            base_url=server.url,
            cache_dir=cache,
            offline=True,
        )
    assert "offline" in str(info.value) and str(cache) in str(info.value)
    assert len(server.requests) == before


def make_multiplatform_mirror(root: Path) -> Path:
    folder = root / "series" / "GSE99nnn" / "GSE99001" / "matrix"
    folder.mkdir(parents=True)
    for gpl in ("GPL570", "GPL96"):
        (folder / f"GSE99001-{gpl}_series_matrix.txt.gz").write_bytes(gzip.compress(b"x\n"))
    return root


def test_multiplatform_without_platform_names_platforms_local(tmp_path):
    mirror = make_multiplatform_mirror(tmp_path / "mirror")
    with pytest.raises(ConfigError, match="GSE99001.*GPL570, GPL96"):
        fetch(series_matrix_candidates("GSE99001", None), tmp_path, mirrors=[mirror])


def test_multiplatform_without_platform_names_platforms_http(tmp_path):
    mirror = make_multiplatform_mirror(tmp_path / "mirror")
    with serve_directory(mirror) as s:
        with pytest.raises(ConfigError, match="multi-platform.*GPL570, GPL96"):
            fetch(series_matrix_candidates("GSE99001", None), tmp_path, base_url=s.url)
        with pytest.raises(ConfigError, match="no series matrix for GPL6244.*GPL570, GPL96"):
            fetch(series_matrix_candidates("GSE99001", "GPL6244"), tmp_path, base_url=s.url)
        _, source = fetch(series_matrix_candidates("GSE99001", "GPL96"), tmp_path, base_url=s.url)
        assert source.endswith("GSE99001-GPL96_series_matrix.txt.gz")


def assert_only_dest(dest: Path) -> None:
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]


# --- platform annotation readers ----------------------------------------------------------


def as_dict(table):
    assert list(table.columns) == ["probe", "symbol"]
    return dict(zip(table["probe"], table["symbol"], strict=True))


@pytest.mark.parametrize("gzipped", [False, True])
def test_read_geo_annot(tmp_path, gzipped):
    path = FORMATS / "GPL570_small.annot"
    if gzipped:
        path = tmp_path / "GPL570.annot.gz"
        path.write_bytes(gzip.compress((FORMATS / "GPL570_small.annot").read_bytes()))
    assert as_dict(read_platform_annotation(path, "GPL570")) == {
        "1007_s_at": "DDR1 /// MIR4640",
        "1053_at": "RFC2",
        "203627_at": "IGF1R",
        "203628_at": "IGF1R",
        "209921_at": "SLC7A11",
        "AFFX-BioB-5_at": "",
    }


def test_read_soft_family_gene_symbol(tmp_path):
    path = tmp_path / "GPL570_family.soft.gz"
    path.write_bytes(gzip.compress((FORMATS / "GPL570_small_family.soft").read_bytes()))
    # the sample table after the platform table is not read
    assert as_dict(read_platform_annotation(path, "GPL570")) == {
        "1007_s_at": "DDR1 /// MIR4640",
        "1053_at": "RFC2",
        "203627_at": "IGF1R",
        "AFFX-BioB-5_at": "",
    }


def test_read_soft_family_gene_assignment():
    table = read_platform_annotation(FORMATS / "GPL6244_small_family.soft", "GPL6244")
    assert as_dict(table) == {
        "7896736": "",
        "7896738": "",
        "7896740": "OR4F17 /// OR4F4 /// OR4F5",
        "8036584": "IGF1R",
    }


def test_read_plain_tsv():
    demo = DEMO_MIRROR / "platforms/GPLnnn/GPL570/soft/GPL570_probe2symbol_idmap2.tsv.gz"
    table = as_dict(read_platform_annotation(demo, "GPL570"))
    assert table["1007_s_at"] == "DDR1 /// MIR4640"
    assert table["203627_at"] == "IGF1R"
    small = read_platform_annotation(FORMATS / "probe2symbol_small.tsv", "GPL570")
    assert as_dict(small) == {
        "203627_at": "IGF1R",
        "1007_s_at": "DDR1 /// MIR4640",
        "AFFX-BioB-5_at": "",
    }


def test_missing_symbol_column_is_an_annotation_error():
    path = FORMATS / "no_symbol_column.tsv"
    with pytest.raises(AnnotationError, match="no gene symbol column") as info:
        read_platform_annotation(path, "GPL570")
    assert str(path) in str(info.value) and "Description" in str(info.value)


def test_missing_id_column_is_an_annotation_error(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("probe_id\tGene Symbol\na\tB\n")
    with pytest.raises(AnnotationError, match="no 'ID' column"):
        read_platform_annotation(path, "GPL570")


def test_wrong_platform_is_an_annotation_error():
    with pytest.raises(AnnotationError, match="GPL6244, not of GPL570"):
        read_platform_annotation(FORMATS / "GPL6244_small_family.soft", "GPL570")


def test_truncated_platform_table(tmp_path):
    path = tmp_path / "GPL570.annot"
    text = (FORMATS / "GPL570_small.annot").read_text()
    path.write_text(text.replace("!platform_table_end\n", ""))
    with pytest.raises(InputFormatError, match="platform_table_end"):
        read_platform_annotation(path, "GPL570")


def test_annotation_fetched_from_mirror_then_read(tmp_path):
    served = tmp_path / "served"
    shutil.copytree(DEMO_MIRROR / "platforms", served / "platforms")
    annot = served / "platforms/GPLnnn/GPL570/annot/GPL570.annot.gz"
    annot.parent.mkdir(parents=True)
    annot.write_bytes(gzip.compress((FORMATS / "GPL570_small.annot").read_bytes()))
    with serve_directory(served) as s:
        dest, source = fetch(platform_annotation_candidates("GPL570"), tmp_path, base_url=s.url)
    assert source.endswith("/annot/GPL570.annot.gz")
    assert as_dict(read_platform_annotation(dest, "GPL570"))["203627_at"] == "IGF1R"
