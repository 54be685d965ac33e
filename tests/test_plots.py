"""SVG plots: well-formed, escaped, thinned where dense, robust to missing values."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from igf1r_resistance.pl import plots as P

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<img src=x onerror=alert(1)> & \"quotes\" 'single'"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0
    return root


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter() if el.tag in (f"{NS}text", f"{NS}title")]


def no_foreign_elements(root: ET.Element) -> None:
    for el in root.iter():
        assert el.tag.startswith(NS), el.tag
        assert el.tag not in (f"{NS}script", f"{NS}foreignObject", f"{NS}image")
        assert not any(k.startswith("on") for k in el.attrib), el.attrib


def all_plots(label: str = HOSTILE) -> dict[str, str]:
    rng = np.random.default_rng(0)
    groups = [P.GroupValues("resistant", rng.normal(1, 1, 8), [f"{label} {i}" for i in range(8)]),
              P.GroupValues("sensitive", rng.normal(0, 1, 7), [f"s{i}" for i in range(7)])]
    values = rng.normal(size=(4, 5))
    hovers = [[f"{label} {i},{j}" for j in range(5)] for i in range(4)]
    return {
        "strip_box": P.strip_box([P.Panel(label, groups, label, "#1b7837", label)], label),
        "forest": P.forest([P.ForestRow(label, 0.5, 0.1, 0.9, weight=40, note=label),
                            P.ForestRow("b", -0.2, -3.0, 25.0)], label,
                           pooled=P.Pooled(label, 0.3, 0.0, 0.6, note=label), title=label),
        "scatter": P.scatter([P.Point(1, 2, "resistant", label), P.Point(2, 1, "sensitive", "x"),
                              P.Point(np.nan, 1, label, "nan")], label, label, title=label,
                             highlight=[True, False, False]),
        "heatmap": P.heatmap(values, [label, "b", "c", "d"], [label, "2", "3", "4", "5"],
                             ["resistant"] * 3 + ["sensitive"] * 2, hovers, P.diverging, label,
                             row_marks=["up", "up", "down", label], title=label),
        "colour_bar": P.colour_bar(P.diverging, -2, 2, label),
        "sample_boxes": P.sample_boxes([label, "b"], ["resistant", "sensitive"],
                                       {k: [1.0, 2.0] for k in ("q05", "q25", "median", "q75", "q95")},
                                       [label, "b"], ylabel=label, flagged=[True, False]),
        "volcano": P.volcano(rng.normal(0, 1, 3000), np.abs(rng.normal(0, 2, 3000)),
                             [P.VolcanoGene(label, 1.0, 3.0, label, label=True),
                              P.VolcanoGene("IGF1R", -1.0, 2.0, "IGF1R", label=True)],
                             fdr_line=2.0, legend_items=[(label, "#000")]),
        "running_sum": P.running_sum_plot([0, 9, 10, 100], [0.0, -0.1, 0.4, 0.0], [10], [label], 100,
                                          title=label, note=label),
    }


@pytest.mark.parametrize("name", list(all_plots()))
def test_plot_is_well_formed_and_escaped(name: str):
    svg = all_plots()[name]
    root = parse(svg)
    no_foreign_elements(root)
    assert "<img" not in svg
    assert any(HOSTILE in t for t in texts(root)) or root.get("aria-label") == HOSTILE, name


def test_hover_titles_sit_on_the_marks():
    root = parse(all_plots("x")["scatter"])
    circles = list(root.iter(f"{NS}circle"))
    assert any(c.find(f"{NS}title") is not None and c.find(f"{NS}title").text == "x" for c in circles)
    # the NaN point is not drawn
    assert all(c.find(f"{NS}title") is None or c.find(f"{NS}title").text != "nan" for c in circles)


def test_strip_box_thins_points_and_says_so():
    values = np.arange(1000, dtype=float)
    svg = P.strip_box([P.Panel("m", [P.GroupValues("resistant", values, [str(v) for v in values])])],
                      max_points=50)
    root = parse(svg)
    assert len(list(root.iter(f"{NS}circle"))) == 50
    assert any("at most 50 per group" in t for t in texts(root))
    shown = {float(c.find(f"{NS}title").text) for c in root.iter(f"{NS}circle")}
    assert {0.0, 999.0} <= shown  # both extremes kept


def test_thin_keeps_extremes_and_order():
    v = np.array([5.0, 1.0, 9.0, 3.0, 7.0, 2.0])
    idx = P.thin(v, 3)
    assert list(idx) == sorted(idx) and {1, 2} <= set(idx)
    assert list(P.thin(v, 10)) == list(range(6))


def test_volcano_background_is_counted_not_drawn_per_gene():
    rng = np.random.default_rng(1)
    svg = P.volcano(rng.normal(0, 1, 50_000), np.abs(rng.normal(0, 2, 50_000)), [], grid=(40, 30))
    root = parse(svg)
    rects = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert 0 < len(rects) <= 40 * 30
    counts = [int(r.find(f"{NS}title").text.split()[0]) for r in rects]
    assert sum(counts) == 50_000
    assert len(svg) < 200_000


def test_forest_keeps_estimates_in_view_and_cuts_long_intervals():
    svg = P.forest([P.ForestRow("a", 0.5, 0.1, 0.9), P.ForestRow("b", 1.0, -50, 60)], "g")
    root = parse(svg)
    arrows = [p for p in root.iter(f"{NS}path") if p.get("d", "").startswith("M") and " z" in p.get("d", "")]
    assert len(arrows) == 2  # both ends of b's interval are cut


def test_colour_scales():
    assert P.diverging(0) == "#f7f7f7"
    assert P.diverging(10) == P.diverging(2.5) == "#b2182b"
    assert P.diverging(-10) == "#2166ac"
    assert P.diverging(float("nan")) == "#ffffff"
    assert P.sequential(0, 0, 1) == "#ffffd9" and P.sequential(1, 0, 1) == "#081d58"


def test_nice_ticks():
    assert P.nice_ticks(0, 10, 5) == [0, 2, 4, 6, 8, 10]
    assert P.nice_ticks(-0.13, 0.27, 4) == [-0.1, 0, 0.1, 0.2]
    assert P.nice_ticks(1, 1) == [1]
    assert P.nice_ticks(float("nan"), 1) == []


def test_scatter_with_per_point_colours_drops_the_group_legend():
    import xml.etree.ElementTree as ET

    from igf1r_resistance.pl import plots as P

    pts = [P.Point(0.0, 1.0, "resistant", "cell <1>"), P.Point(1.0, 0.0, "sensitive", "cell 2")]
    svg = P.scatter(pts, "PC1", "PC2", colours=["#111111", "#eeeeee"])
    ET.fromstring(svg)
    assert 'fill="#111111"' in svg and 'fill="#eeeeee"' in svg and "cell &lt;1&gt;" in svg
    assert ">resistant<" not in svg  # no group legend when points carry their own colour
