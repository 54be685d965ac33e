"""Series matrix parser: GEO's format and its edge cases, on small hand-made files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from igf1r_resistance.errors import InputFormatError
from igf1r_resistance.io.series_matrix import MISSING_TOKENS, read_series_matrix

DATA = Path(__file__).parent / "data" / "series_matrix"


@pytest.mark.parametrize("name", ["tiny_series_matrix.txt", "tiny_series_matrix.txt.gz",
                                  "tiny_crlf_series_matrix.txt"])
def test_reads_fields_characteristics_and_values(name):
    sm = read_series_matrix(DATA / name)
    assert sm.accession == "GSE1"
    s = sm.samples
    assert list(s.index) == ["GSM1", "GSM2", "GSM3"]  # GSM9 of the header has no column: ignored
    assert s.loc["GSM1", "title"] == "res 1"
    assert s.loc["GSM3", "status"] == "sensitive"
    assert s.loc["GSM1", "treatment"] == "x; z"  # repeated key joined, nothing lost
    assert s.loc["GSM2", "dose"] == "1" and s.loc["GSM1", "dose"] is None
    assert s.loc["GSM3", "characteristics_ch1"] == "no key here"
    assert s.loc["GSM1", "label (ch2)"] == "cy5"  # second channel kept apart
    assert s.loc["GSM1", "data_processing"] == "MAS5; scaled"
    x = sm.expression
    assert x.shape == (3, 3)
    assert x.loc["p1", "GSM1"] == 1.5
    assert np.isnan(x.loc["p2", "GSM1"]) and x.loc["p2", "GSM3"] == 500.0  # null -> NaN
    assert x.loc["p3", "GSM1"] == -1 and np.isnan(x.loc["p3", "GSM2"])  # unquoted id, empty cell


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x_series_matrix.txt"
    path.write_text(text)
    return path


def _base() -> str:
    return (DATA / "tiny_series_matrix.txt").read_text()


def test_truncated_table_is_an_error(tmp_path):
    text = _base().replace("!series_matrix_table_end\n", "")
    with pytest.raises(InputFormatError, match="truncated"):
        read_series_matrix(_write(tmp_path, text))


def test_truncated_gzip_is_an_error(tmp_path):
    raw = gzip.compress(_base().encode())
    path = tmp_path / "cut_series_matrix.txt.gz"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputFormatError, match="corrupt or truncated"):
        read_series_matrix(path)


def test_non_numeric_cell_names_probe_and_sample(tmp_path):
    text = _base().replace('"p1"\t1.5', '"p1"\tabc')
    with pytest.raises(InputFormatError, match=r"'abc' for probe 'p1', sample 'GSM1'"):
        read_series_matrix(_write(tmp_path, text))


def test_ragged_row_is_an_error(tmp_path):
    text = _base().replace('"p1"\t1.5\t2\t3', '"p1"\t1.5\t2')
    with pytest.raises(InputFormatError, match="probe 'p1'"):
        read_series_matrix(_write(tmp_path, text))


def test_empty_table_is_reported_not_fatal(tmp_path):
    head = _base().split("!series_matrix_table_begin")[0]
    sm = read_series_matrix(_write(tmp_path, head + "!series_matrix_table_begin\n!series_matrix_table_end\n"))
    assert sm.expression.shape[0] == 0
    assert any("RNA-seq" in n for n in sm.notes)


def test_not_a_series_matrix(tmp_path):
    with pytest.raises(InputFormatError, match="not a GEO series matrix"):
        read_series_matrix(_write(tmp_path, "^SERIES = GSE1\n!Series_title = x\n"))


def test_duplicate_titles_are_fine(tmp_path):
    text = _base().replace('"res 2"', '"res 1"')
    sm = read_series_matrix(_write(tmp_path, text))
    assert list(sm.samples["title"]) == ["res 1", "res 1", "sen 1"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32), st.none()),
                min_size=3, max_size=3),
       st.text(alphabet=st.characters(blacklist_characters='\t\r\n"', blacklist_categories=("Cs",)),
               min_size=1, max_size=20))
def test_values_and_titles_round_trip(tmp_path_factory, values, title):
    cells = ["null" if v is None else repr(float(v)) for v in values]
    text = _base().replace('"res 1"', f'"{title}"').replace('"p1"\t1.5\t2\t3', '"p1"\t' + "\t".join(cells))
    path = tmp_path_factory.mktemp("rt") / "p_series_matrix.txt"
    path.write_text(text, encoding="utf-8")
    sm = read_series_matrix(path)
    got = sm.expression.loc["p1"].to_numpy()
    for g, v in zip(got, values):
        assert (np.isnan(g) and v is None) or g == pytest.approx(float(v))
    if title not in MISSING_TOKENS:
        assert sm.samples.loc["GSM1", "title"] == title  # quoted text kept verbatim


# --------------------------------------------------------------------------- platforms, channels, RNA-seq


STATUS = ["resistant", "resistant", "sensitive", "resistant", "sensitive"]


def _five_samples(platforms: list[str], channels: int = 1) -> str:
    """A series matrix of 5 samples (GSM1..GSM5) on the given platforms."""
    ids = [f"GSM{i}" for i in range(1, 6)]
    q = lambda values: "\t".join(f'"{v}"' for v in values)  # noqa: E731
    lines = [
        '!Series_title\t"mixed"', '!Series_geo_accession\t"GSE1"',
        *(f'!Series_platform_id\t"{p}"' for p in dict.fromkeys(platforms)),
        "!Sample_title\t" + q([f"t{i}" for i in range(5)]),
        "!Sample_geo_accession\t" + q(ids),
        "!Sample_characteristics_ch1\t" + q([f"status: {s}" for s in STATUS]),
        "!Sample_platform_id\t" + q(platforms),
        "!Sample_channel_count\t" + q([channels] * 5),
        "!series_matrix_table_begin",
        '"ID_REF"\t' + q(ids),
        '"p1"\t1\tnull\t3\t4\t5',
        '"p2"\t2\tnull\t4\t6\t8',
        "!series_matrix_table_end",
    ]
    return "\n".join(lines) + "\n"


ANNOTATION = {"probe": ["p1", "p2"], "symbol": ["A", "B"]}
GROUPS = {"by": "status", "resistant": "^resistant$", "sensitive": "^sensitive$"}


def test_mixed_platform_matrix_is_restricted_to_the_configured_platform(tmp_path):
    import pandas as pd

    from igf1r_resistance.pp.prepare import prepare_dataset

    path = _write(tmp_path, _five_samples(["GPL570", "GPL96", "GPL570", "GPL570", "GPL570"]))
    assert read_series_matrix(path).samples["platform_id"].tolist()[:2] == ["GPL570", "GPL96"]
    settings = {"platform": "GPL570", "log2": "no", "groups": GROUPS}
    p = prepare_dataset(str(path), pd.DataFrame(ANNOTATION), "GSE1", settings)
    assert set(p.adata.obs_names) == {"GSM1", "GSM3", "GSM4", "GSM5"}  # the GPL96 sample is set aside
    assert p.samples.set_index("sample").loc["GSM2", "group"] == "excluded"
    assert "1 sample(s) of other platform(s) GPL96" in p.adata.uns["series_matrix_notes"]
    with pytest.raises(InputFormatError, match="holds samples of platform"):
        prepare_dataset(str(path), pd.DataFrame(ANNOTATION), "GSE1", {**settings, "platform": "GPL1"})


def test_two_channel_fields_are_kept_apart(tmp_path):
    text = _base().replace(
        '!Sample_characteristics_ch2\t"label: cy5"\t"label: cy5"\t"label: cy5"',
        '!Sample_channel_count\t"2"\t"2"\t"2"\n'
        '!Sample_source_name_ch2\t"reference RNA"\t"reference RNA"\t"reference RNA"\n'
        '!Sample_characteristics_ch2\t"cell line: Universal"\t"cell line: Universal"\t"cell line: Universal"\n'
        '!Sample_label_ch1\t"Cy5"\t"Cy5"\t"Cy5"\n!Sample_label_ch2\t"Cy3"\t"Cy3"\t"Cy3"')
    sm = read_series_matrix(_write(tmp_path, text))
    s = sm.samples
    assert s.loc["GSM1", "cell line"] == "A"  # channel 1 keeps the plain key
    assert s.loc["GSM1", "cell line (ch2)"] == "Universal"  # channel 2 cannot shadow it
    assert s.loc["GSM1", "source_name_ch2"] == "reference RNA" and s.loc["GSM1", "label_ch2"] == "Cy3"


def test_two_channel_series_is_noted_in_prepare(tmp_path):
    import pandas as pd

    from igf1r_resistance.pp.prepare import prepare_dataset

    text = _five_samples(["GPL6480"] * 5, channels=2).replace("null", "2")
    p = prepare_dataset(str(_write(tmp_path, text)), pd.DataFrame(ANNOTATION), "GSE1", {"log2": "no", "groups": GROUPS})
    assert "two-channel array" in p.adata.uns["series_matrix_notes"]
    assert p.adata.n_obs == 5


def test_empty_table_points_to_the_rnaseq_counts_input(tmp_path):
    import pandas as pd

    from igf1r_resistance.pp.prepare import prepare_dataset

    head = _base().split("!series_matrix_table_begin")[0]
    path = _write(tmp_path, head + '!series_matrix_table_begin\n"ID_REF"\t"GSM1"\t"GSM2"\t"GSM3"\n!series_matrix_table_end\n')
    with pytest.raises(InputFormatError) as err:
        prepare_dataset(str(path), pd.DataFrame({"probe": [], "symbol": []}), "GSE1",
                        {"groups": {"by": "status", "resistant": "resistant", "sensitive": "sensitive"}})
    assert "data set GSE1" in str(err.value) and "empty data table" in str(err.value)
    assert "type: geo_rnaseq" in str(err.value) and "type: matrix" in str(err.value)


_MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(["delete_line", "duplicate_line", "truncate", "insert_text", "replace_char", "drop_tab"]),
        st.integers(min_value=0, max_value=10_000),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(_MUTATIONS, st.booleans())
def test_mutated_files_parse_or_raise_our_error(tmp_path_factory, mutations, gzipped):
    """Whatever the damage, the parser returns a result or raises InputFormatError with a message."""
    text = _base()
    for kind, pos, extra in mutations:
        lines = text.split("\n")
        i = pos % max(len(lines), 1)
        if kind == "delete_line" and lines:
            del lines[i]
        elif kind == "duplicate_line" and lines:
            lines.insert(i, lines[i])
        elif kind == "insert_text":
            lines.insert(i, extra)
        elif kind == "drop_tab" and lines:
            lines[i] = lines[i].replace("\t", " ", 1)
        text = "\n".join(lines)
        if kind == "truncate":
            text = text[: pos % max(len(text), 1)]
        elif kind == "replace_char" and text:
            j = pos % len(text)
            text = text[:j] + (extra[:1] or "x") + text[j + 1:]
    folder = tmp_path_factory.mktemp("mut")
    raw = text.encode("utf-8", errors="surrogatepass")
    if gzipped:
        path = folder / "m_series_matrix.txt.gz"
        blob = gzip.compress(raw)
        path.write_bytes(blob[: len(blob) - (mutations[0][1] % 3)])  # sometimes a cut gzip stream
    else:
        path = folder / "m_series_matrix.txt"
        path.write_bytes(raw)
    try:
        sm = read_series_matrix(path)
    except InputFormatError as exc:
        assert str(exc) and str(path) in str(exc)
    else:
        assert set(sm.expression.columns) <= set(sm.samples.index)
