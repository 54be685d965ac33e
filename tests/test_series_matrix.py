"""Series matrix parser: GEO's format and its edge cases, on small hand-made files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from igf1r_resistance.errors import InputFormatError
from igf1r_resistance.series_matrix import MISSING_TOKENS, read_series_matrix

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
