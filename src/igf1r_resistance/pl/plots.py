"""Inline SVG plots for the report: pure functions from tables to SVG strings.

No JavaScript: hovering a mark shows its SVG `<title>` (sample, gene, values) as the
browser's native tooltip, so the report works offline and under a strict CSP. Every piece
of text passes through `esc` (GEO metadata and config are untrusted). Every function
returns one `<svg class="plot" xmlns=...>` element that is valid inline HTML and a valid
standalone `.svg` file.

The SVG primitives (escaping, scales, axes, legends, colour ramps) are in
:mod:`igf1r_resistance.pl.svg`. These functions draw; they compute no statistics beyond what drawing needs (axis ranges,
box-plot quartiles of the points drawn, counts of points per screen cell for the dense
background of a volcano plot). Dense plots are thinned: `strip_box` draws at most
`max_points` points per group (evenly spaced in value order; boxes use all values) and
says so on the plot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# the primitives live in .svg; the report reads some of them through this module (P.svg, P.f, ...)
from .svg import (
    CHAR_W,
    VERDICT_COLOURS,
    Scale,
    _jitter,
    colour_bar,
    diverging,
    esc,
    f,
    fmt,
    group_colour,
    legend,
    nice_ticks,
    padded,
    place_labels,
    sequential,
    svg,
    text,
    thin,
    tip,
    x_axis,
    y_axis,
)

# --------------------------------------------------------------------------- strip + box


@dataclass
class GroupValues:
    """The values of one group in one panel; `labels` are the hover texts, one per value."""

    group: str
    values: Sequence[float]
    labels: Sequence[str]


@dataclass
class Panel:
    title: str
    groups: list[GroupValues]
    subtitle: str = ""
    colour: str = "#fff"  # background tint (e.g. the verdict colour)
    note: str = ""


def strip_box(panels: list[Panel], ylabel: str = "", panel_width: float = 150, height: float = 230,
              max_points: int = 150) -> str:
    """Small multiples of strip + box plots (one panel per method, one column per group).

    Box: quartiles and median of all values; whiskers to the most extreme value within
    1.5 IQR (Tukey). Points: at most `max_points` per group, evenly spaced in value order.
    Each panel has its own y axis (scores of different methods have different scales).
    """
    top, bottom, left = 34, 38, 58
    width = left + len(panels) * panel_width + 10
    parts = []
    thinned = False
    for p_i, panel in enumerate(panels):
        x0 = left + p_i * panel_width
        all_vals = [v for gv in panel.groups for v in gv.values]
        lo, hi = padded(all_vals)
        sy = Scale(lo, hi, height - bottom, top)
        if panel.colour and panel.colour != "#fff":
            parts.append(f'<rect x="{f(x0 + 2)}" y="{f(top - 26)}" width="{f(panel_width - 14)}" height="4" '
                         f'fill="{panel.colour}"/>')
        parts.append(text(x0 + (panel_width - 10) / 2, top - 12, panel.title, "middle", ' font-weight="bold"'))
        if panel.subtitle:
            parts.append(text(x0 + (panel_width - 10) / 2, top - 1, panel.subtitle, "middle", ' font-size="9.5"'))
        parts.append(y_axis(sy, x0, x0 + panel_width - 12, lo, hi, ylabel if p_i == 0 else "", n=4))
        k = max(len(panel.groups), 1)
        slot = (panel_width - 16) / k
        for g_i, gv in enumerate(panel.groups):
            vals = np.asarray(gv.values, dtype=float)
            ok = np.isfinite(vals)
            cx = x0 + 4 + slot * (g_i + 0.5)
            colour = group_colour(gv.group)
            if ok.sum() >= 1:
                finite = vals[ok]
                q1, med, q3 = np.quantile(finite, [0.25, 0.5, 0.75])
                iqr = q3 - q1
                lo_w = finite[finite >= q1 - 1.5 * iqr].min()
                hi_w = finite[finite <= q3 + 1.5 * iqr].max()
                bw = min(slot * 0.6, 40)
                parts.append(
                    f'<g stroke="{colour}" fill="none"><line x1="{f(cx)}" y1="{f(sy(lo_w))}" x2="{f(cx)}" '
                    f'y2="{f(sy(q1))}"/><line x1="{f(cx)}" y1="{f(sy(q3))}" x2="{f(cx)}" y2="{f(sy(hi_w))}"/>'
                    f'<rect x="{f(cx - bw / 2)}" y="{f(sy(q3))}" width="{f(bw)}" height="{f(max(sy(q1) - sy(q3), 0.5))}" '
                    f'fill="{colour}" fill-opacity="0.12"/><line x1="{f(cx - bw / 2)}" y1="{f(sy(med))}" '
                    f'x2="{f(cx + bw / 2)}" y2="{f(sy(med))}" stroke-width="2"/>'
                    f"{tip(f'{gv.group}: n = {int(ok.sum())}, median {fmt(med)}, IQR {fmt(q1)} to {fmt(q3)}')}</g>"
                )
            idx = thin(np.where(ok, vals, np.inf), max_points) if ok.sum() > max_points else np.flatnonzero(ok)
            idx = [i for i in idx if ok[i]]
            thinned |= len(idx) < int(ok.sum())
            pts = []
            for j, i in enumerate(idx):
                x = cx + _jitter(j, min(slot * 0.5, 34))
                pts.append(f'<circle cx="{f(x)}" cy="{f(sy(vals[i]))}" r="3">{tip(gv.labels[i])}</circle>')
            parts.append(f'<g fill="{colour}" fill-opacity="0.8" stroke="#fff" stroke-width="0.5">{"".join(pts)}</g>')
            parts.append(text(cx, height - bottom + 14, gv.group, "middle", ' font-size="10"'))
            parts.append(text(cx, height - bottom + 26, f"n={int(ok.sum())}", "middle",
                              ' font-size="9.5" fill="#666"'))
        if panel.note:
            parts.append(text(x0 + (panel_width - 10) / 2, height - 2, panel.note, "middle",
                              ' font-size="9" fill="#666"'))
    if thinned:
        parts.append(text(left, height + 10, f"points: at most {max_points} per group shown, evenly spaced in "
                          "value order (boxes use all samples)", extra=' font-size="9.5" fill="#666"'))
        height += 14
    return svg(width, height, "".join(parts), label=ylabel or "strip and box plot")


# --------------------------------------------------------------------------- forest / dot-whisker


@dataclass
class ForestRow:
    label: str
    estimate: float
    low: float
    high: float
    colour: str = "#333"
    weight: float | None = None  # percent; scales the square
    note: str = ""  # shown right of the plot
    hover: str = ""


@dataclass
class Pooled:
    label: str
    estimate: float
    low: float
    high: float
    colour: str = "#333"
    note: str = ""
    hover: str = ""
    pi_low: float = math.nan  # 95% prediction interval: a line through the diamond (NaN = none)
    pi_high: float = math.nan


def _forest_range(rows: list[ForestRow], pooled: Pooled | None, reference: float,
                  clip: tuple[float, float] | None) -> tuple[float, float]:
    """The x range of a forest plot: every CI (and the reference) padded, but every point
    estimate kept in view with very long CIs cut, and within `clip` when given."""
    vals = [v for r in rows for v in (r.estimate, r.low, r.high)]
    if pooled:
        vals += [pooled.estimate, pooled.low, pooled.high, pooled.pi_low, pooled.pi_high]
    lo, hi = padded(vals, include=[reference])
    ests = [r.estimate for r in rows if np.isfinite(r.estimate)]
    if pooled and np.isfinite(pooled.estimate):
        ests += [pooled.estimate]
    if ests:  # keep every point estimate in view; very long CIs are cut (arrow) rather than squash the rest
        span = max(max(ests) - min(ests), 1.0)
        lo, hi = max(lo, min(ests) - 0.75 * span), min(hi, max(ests) + 0.75 * span)
        lo, hi = min(lo, reference), max(hi, reference)
    if clip:
        lo, hi = max(lo, clip[0]), min(hi, clip[1])
    return lo, hi


def forest(rows: list[ForestRow], xlabel: str, pooled: Pooled | None = None, reference: float = 0.0,
           width: float = 640, row_height: float = 22, title: str = "",
           clip: tuple[float, float] | None = None) -> str:
    """Forest / dot-and-whisker plot: one row per estimate with its CI, optional pooled diamond.

    Squares scale with `weight` (percent) when given. CIs beyond `clip` are cut and end
    in an arrow so one wide interval does not flatten the others.
    """
    label_w = max([CHAR_W * len(r.label) for r in rows] + [CHAR_W * len(pooled.label) if pooled else 0, 60]) + 14
    note_w = max([CHAR_W * len(r.note) for r in rows] + [CHAR_W * len(pooled.note) if pooled else 0, 0]) + 10
    plot_w = max(width - label_w - note_w, 160)
    width = label_w + plot_w + note_w
    top = 24 if title else 8
    n = len(rows) + (1 if pooled else 0)
    height = top + n * row_height + 42
    lo, hi = _forest_range(rows, pooled, reference, clip)
    sx = Scale(lo, hi, label_w, label_w + plot_w)
    y_end = top + n * row_height
    parts = [title and text(4, 15, title, extra=' font-weight="bold"'),
             x_axis(sx, y_end + 4, top, lo, hi, xlabel)]
    if lo <= reference <= hi:
        parts.append(f'<line x1="{f(sx(reference))}" y1="{f(top)}" x2="{f(sx(reference))}" y2="{f(y_end + 4)}" '
                     'stroke="#999" stroke-dasharray="4 3"/>')

    def cx(v: float) -> float:
        return sx(min(max(v, lo), hi))

    for i, r in enumerate(rows):
        y = top + (i + 0.5) * row_height
        parts.append(text(label_w - 8, y + 4, r.label, "end"))
        if r.note:
            parts.append(text(label_w + plot_w + 8, y + 4, r.note, extra=' font-size="10" fill="#555"'))
        if not np.isfinite(r.estimate):
            parts.append(text(label_w + 4, y + 4, "not estimable", extra=' fill="#999"'))
            continue
        body = []
        if np.isfinite(r.low) and np.isfinite(r.high):
            body.append(f'<line x1="{f(cx(r.low))}" y1="{f(y)}" x2="{f(cx(r.high))}" y2="{f(y)}" stroke-width="1.6"/>')
            for v, d in ((r.low, -1), (r.high, 1)):
                if (v < lo) or (v > hi):
                    xe = cx(v)
                    body.append(f'<path d="M{f(xe)},{f(y)} l{f(-6 * d)},-4 v8 z" stroke="none"/>')
        size = 7.0 if r.weight is None or not np.isfinite(r.weight) else 4 + 10 * math.sqrt(max(r.weight, 0) / 100)
        body.append(f'<rect x="{f(cx(r.estimate) - size / 2)}" y="{f(y - size / 2)}" width="{f(size)}" '
                    f'height="{f(size)}" stroke="none"/>')
        hover = r.hover or f"{r.label}: {fmt(r.estimate)} (95% CI {fmt(r.low)} to {fmt(r.high)})"
        parts.append(f'<g fill="{r.colour}" stroke="{r.colour}">{tip(hover)}{"".join(body)}</g>')
    if pooled:
        y = top + (len(rows) + 0.5) * row_height
        parts.append(f'<line x1="{f(label_w)}" y1="{f(y - row_height / 2)}" x2="{f(label_w + plot_w)}" '
                     f'y2="{f(y - row_height / 2)}" stroke="#ccc"/>')
        parts.append(text(label_w - 8, y + 4, pooled.label, "end", ' font-weight="bold"'))
        if pooled.note:
            parts.append(text(label_w + plot_w + 8, y + 4, pooled.note, extra=' font-size="10" fill="#555"'))
        if np.isfinite(pooled.pi_low) and np.isfinite(pooled.pi_high):
            # prediction interval: a line under the diamond, end ticks where the end is in view
            xl, xh = cx(pooled.pi_low), cx(pooled.pi_high)
            ticks = "".join(f'<line x1="{f(cx(v))}" y1="{f(y - 4)}" x2="{f(cx(v))}" y2="{f(y + 4)}"/>'
                            for v in (pooled.pi_low, pooled.pi_high) if lo <= v <= hi)
            parts.append(f'<g stroke="{pooled.colour}" stroke-width="1.4">'
                         f'{tip(f"95% prediction interval {fmt(pooled.pi_low)} to {fmt(pooled.pi_high)}")}'
                         f'<line x1="{f(xl)}" y1="{f(y)}" x2="{f(xh)}" y2="{f(y)}"/>{ticks}</g>')
        if all(np.isfinite([pooled.estimate, pooled.low, pooled.high])):
            d = (f"M{f(cx(pooled.low))},{f(y)} L{f(cx(pooled.estimate))},{f(y - 7)} "
                 f"L{f(cx(pooled.high))},{f(y)} L{f(cx(pooled.estimate))},{f(y + 7)} Z")
            hover = pooled.hover or (f"{pooled.label}: {fmt(pooled.estimate)} "
                                     f"(95% CI {fmt(pooled.low)} to {fmt(pooled.high)})")
            parts.append(f'<path d="{d}" fill="{pooled.colour}">{tip(hover)}</path>')
    return svg(width, height, "".join(parts), label=title or xlabel)


# --------------------------------------------------------------------------- scatter


@dataclass
class Point:
    x: float
    y: float
    group: str
    hover: str


def scatter(points: list[Point], xlabel: str, ylabel: str, width: float = 380, height: float = 300,
            title: str = "", highlight: Sequence[bool] | None = None,
            colours: Sequence[str] | None = None) -> str:
    """Scatter plot coloured by group; `highlight` draws a black ring (e.g. outlier samples).

    `colours` (one per point) overrides the group colour, e.g. a sequential scale of a
    score; the group legend is then left out (the caller draws a colour bar)."""
    left, right, top, bottom = 58, 12, 44 if title else 26, 44
    xs = [p.x for p in points]
    ys = [p.y for p in points]
    xlo, xhi = padded(xs)
    ylo, yhi = padded(ys)
    sx = Scale(xlo, xhi, left, width - right)
    sy = Scale(ylo, yhi, height - bottom, top)
    parts = [title and text(left, 14, title, extra=' font-weight="bold"'),
             y_axis(sy, left, width - right, ylo, yhi, ylabel), x_axis(sx, height - bottom, top, xlo, xhi, xlabel)]
    groups = list(dict.fromkeys(p.group for p in points))
    for g in groups:
        pts = []
        for i, p in enumerate(points):
            if p.group != g or not (np.isfinite(p.x) and np.isfinite(p.y)):
                continue
            ring = ' stroke="#000" stroke-width="2"' if highlight is not None and highlight[i] else ""
            fill = f' fill="{colours[i]}"' if colours is not None else ""
            pts.append(f'<circle cx="{f(sx(p.x))}" cy="{f(sy(p.y))}" r="4.5"{ring}{fill}>{tip(p.hover)}</circle>')
        parts.append(f'<g fill="{group_colour(g)}" fill-opacity="0.85" stroke="#fff" stroke-width="0.6">'
                     f'{"".join(pts)}</g>')
    if colours is None:
        parts.append(legend([(g, group_colour(g)) for g in groups], left, top - 8))
    return svg(width, height, "".join(parts), label=title or f"{ylabel} vs {xlabel}")


# --------------------------------------------------------------------------- heatmap




def heatmap(values: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], col_groups: Sequence[str],
            hovers: Sequence[Sequence[str]], colour, legend_text: str, row_groups: Sequence[str] | None = None,
            row_marks: Sequence[str] | None = None, cell: float | None = None, max_width: float = 720,
            show_col_labels: bool | None = None, title: str = "", min_row_height: float = 8) -> str:
    """Heatmap of `values` (rows x columns); `colour(v)` gives a fill; a bar above the
    columns (and left of the rows, with `row_groups`) shows the group. `hovers[i][j]` is the
    tooltip of cell (i, j)."""
    n_rows, n_cols = values.shape
    label_w = max([CHAR_W * len(str(s)) for s in row_labels] + [30]) + 10
    mark_w = 26 if row_marks is not None else 0
    cw = cell or max(2.0, min(18.0, (max_width - label_w - mark_w - 20) / max(n_cols, 1)))
    ch = max(min_row_height, min(16.0, cw)) if cell is None else cell
    label_every = max(1, math.ceil(10 / ch))  # rows too thin for a label: label every k-th row
    if show_col_labels is None:
        show_col_labels = cw >= 10
    col_label_h = (min(max(CHAR_W * len(str(s)) for s in col_labels), 110) + 8) if show_col_labels and n_cols else 0
    top = (18 if title else 2) + 12
    x0 = label_w + mark_w + (8 if row_groups is not None else 0)
    y0 = top + 4
    width = max(x0 + n_cols * cw + 12, 0.92 * CHAR_W * len(legend_text) + x0 * 0 + 12,
                CHAR_W * len(title) * 1.1 + 8 if title else 0)
    height = y0 + n_rows * ch + col_label_h + 30
    parts = [title and text(2, 13, title, extra=' font-weight="bold"')]
    # group bar above the columns
    bar = []
    for j, g in enumerate(col_groups):
        bar.append(f'<rect x="{f(x0 + j * cw)}" y="{f(top - 8)}" width="{f(cw)}" height="8" '
                   f'fill="{group_colour(g)}">{tip(f"{col_labels[j]} ({g})")}</rect>')
    parts.append("".join(bar))
    for i in range(n_rows):
        y = y0 + i * ch
        if i % label_every == 0:
            parts.append(text(label_w - 4, y + ch / 2 + 3.5, row_labels[i], "end",
                              ' font-size="10"' if ch < 12 else ""))
        if row_marks is not None:
            parts.append(text(label_w + 2, y + ch / 2 + 3.5, row_marks[i], extra=' font-size="9" fill="#555"'))
        if row_groups is not None:
            parts.append(f'<rect x="{f(x0 - 8)}" y="{f(y)}" width="6" height="{f(ch)}" '
                         f'fill="{group_colour(row_groups[i])}"/>')
        # one row: a group scaled to the cell size, so each cell is a unit square at an integer x
        # (about half the markup of absolute rectangles; matters for 80 x 150 cells)
        cells = "".join(f'<rect x="{j}" width="1" height="1" fill="{colour(values[i, j])}">{tip(hovers[i][j])}'
                        "</rect>" for j in range(n_cols))
        parts.append(f'<g transform="translate({f(x0)},{f(y)}) scale({cw:.4g},{ch:.4g})" '
                     f'shape-rendering="crispEdges">{cells}</g>')
    if show_col_labels:
        yb = y0 + n_rows * ch + 4
        for j, s in enumerate(col_labels):
            x = x0 + j * cw + cw / 2 + 3.5
            parts.append(f'<text transform="translate({f(x)},{f(yb)}) rotate(-90)" text-anchor="end" '
                         f'font-size="10">{esc(s)}</text>')
    parts.append(text(4, height - 8, legend_text, extra=' font-size="10" fill="#555"'))
    return svg(width, height, "".join(parts), label=title or legend_text)




# --------------------------------------------------------------------------- per-sample distributions


def sample_boxes(samples: Sequence[str], groups: Sequence[str], stats: dict[str, Sequence[float]],
                 hovers: Sequence[str], ylabel: str = "log2 expression", max_width: float = 900,
                 height: float = 240, flagged: Sequence[bool] | None = None) -> str:
    """One box per sample from precomputed quantiles (`q05, q25, median, q75, q95`)."""
    n = len(samples)
    left, top, bottom = 58, 12, 40 if n <= 60 else 18
    step = min(26.0, (max_width - left - 10) / max(n, 1))
    width = left + n * step + 10
    vals = [v for k in ("q05", "q95") for v in stats[k]]
    lo, hi = padded(vals)
    sy = Scale(lo, hi, height - bottom, top)
    parts = [y_axis(sy, left, width - 6, lo, hi, ylabel)]
    for i in range(n):
        cx = left + (i + 0.5) * step
        bw = max(0.5, step * 0.6)
        c = group_colour(groups[i])
        q05, q25, med, q75, q95 = (float(stats[k][i]) for k in ("q05", "q25", "median", "q75", "q95"))
        ring = ' stroke-width="2.5"' if flagged is not None and flagged[i] else ""
        parts.append(
            f'<g stroke="{c}" fill="{c}" fill-opacity="0.15"{ring}>{tip(hovers[i])}'
            f'<line x1="{f(cx)}" y1="{f(sy(q05))}" x2="{f(cx)}" y2="{f(sy(q95))}"/>'
            f'<rect x="{f(cx - bw / 2)}" y="{f(sy(q75))}" width="{f(bw)}" height="{f(max(sy(q25) - sy(q75), 0.5))}"/>'
            f'<line x1="{f(cx - bw / 2)}" y1="{f(sy(med))}" x2="{f(cx + bw / 2)}" y2="{f(sy(med))}" '
            f'stroke="#222"/></g>'
        )
        if n <= 60:
            parts.append(f'<text transform="translate({f(cx + 3.5)},{f(height - bottom + 4)}) rotate(-90)" '
                         f'text-anchor="end" font-size="9">{esc(samples[i])}</text>')
    return svg(width, height + (36 if n <= 60 else 0), "".join(parts), label="per-sample distributions")


# --------------------------------------------------------------------------- volcano


@dataclass
class VolcanoGene:
    gene: str
    logfc: float
    neglog10p: float
    hover: str
    colour: str = "#e7298a"
    label: bool = False
    priority: float = 0.0  # labels are placed in increasing priority; crowded ones are dropped


def volcano(background_x: np.ndarray, background_y: np.ndarray, genes: list[VolcanoGene],
            xlabel: str = "log2 fold change (resistant - sensitive)", ylabel: str = "-log10 p",
            width: float = 620, height: float = 420, grid: tuple[int, int] = (80, 50),
            fdr_line: float | None = None, legend_items: Sequence[tuple[str, str]] = ()) -> str:
    """Volcano plot. Background genes are drawn as grey squares on a `grid` of screen cells
    (shade = number of genes in the cell, hover gives the count); `genes` are drawn as
    points with their own tooltips and optional labels."""
    left, right, top, bottom = 58, 14, 26, 44
    bx = np.asarray(background_x, dtype=float)
    by = np.asarray(background_y, dtype=float)
    ok = np.isfinite(bx) & np.isfinite(by)
    bx, by = bx[ok], by[ok]
    xs = np.concatenate([bx, [g.logfc for g in genes]])
    ys = np.concatenate([by, [g.neglog10p for g in genes], [0.0]])
    xlo, xhi = padded(xs, include=[0.0])
    ylo, yhi = padded(ys, pad=0.04)
    ylo = min(ylo, 0.0)
    sx = Scale(xlo, xhi, left, width - right)
    sy = Scale(ylo, yhi, height - bottom, top)
    parts = [y_axis(sy, left, width - right, ylo, yhi, ylabel), x_axis(sx, height - bottom, top, xlo, xhi, xlabel)]
    gx, gy = grid
    cw = (width - right - left) / gx
    ch = (height - bottom - top) / gy
    if bx.size:
        ix = np.clip(((sx(bx) - left) / cw).astype(int), 0, gx - 1) if xhi > xlo else np.zeros(bx.size, int)
        iy = np.clip(((sy(by) - top) / ch).astype(int), 0, gy - 1) if yhi > ylo else np.zeros(by.size, int)
        counts = np.zeros((gx, gy), dtype=int)
        np.add.at(counts, (ix, iy), 1)
        cmax = counts.max()
        cells = []
        for i, j in zip(*np.nonzero(counts)):
            c = counts[i, j]
            shade = round(200 - 150 * math.log1p(c) / math.log1p(cmax)) if cmax > 1 else 150
            cells.append(f'<rect x="{f(left + i * cw)}" y="{f(top + j * ch)}" width="{f(cw + 0.3)}" '
                         f'height="{f(ch + 0.3)}" fill="#{shade:02x}{shade:02x}{shade:02x}">'
                         f'{tip(f"{c} gene" + ("s" if c > 1 else ""))}</rect>')
        parts.append("<g>" + "".join(cells) + "</g>")
    if fdr_line is not None and np.isfinite(fdr_line) and ylo <= fdr_line <= yhi:
        y = sy(fdr_line)
        parts.append(f'<line x1="{f(left)}" y1="{f(y)}" x2="{f(width - right)}" y2="{f(y)}" stroke="#b2182b" '
                     f'stroke-dasharray="4 3"/>')
    pts = []
    for g in genes:
        if not (np.isfinite(g.logfc) and np.isfinite(g.neglog10p)):
            continue
        x, y = sx(g.logfc), sy(g.neglog10p)
        pts.append(f'<circle cx="{f(x)}" cy="{f(y)}" r="3.6" fill="{g.colour}">{tip(g.hover)}</circle>')
    parts.append(f'<g stroke="#fff" stroke-width="0.6">{"".join(pts)}</g>')
    to_label = [(sx(g.logfc), sy(g.neglog10p), g.gene) for g in sorted(genes, key=lambda g: g.priority)
                if g.label and np.isfinite(g.logfc) and np.isfinite(g.neglog10p)]
    parts.append(place_labels(to_label, (left, top, width - right, height - bottom)))
    if legend_items:
        parts.append(legend(legend_items, left + 6, 14))
    return svg(width, height, "".join(parts), label="volcano plot")




# --------------------------------------------------------------------------- GSEA running sum


def running_sum_plot(positions: Sequence[float], values: Sequence[float], hit_positions: Sequence[float],
                     hit_hovers: Sequence[str], n_ranked: int, title: str = "", note: str = "",
                     width: float = 420, height: float = 210) -> str:
    """GSEA running enrichment score along the ranked gene list, with a tick per set gene."""
    left, right, top, bottom = 58, 12, 26, 66
    vals = np.asarray(values, dtype=float)
    lo, hi = padded(vals, include=[0.0])
    sx = Scale(0, max(n_ranked, 1), left, width - right)
    sy = Scale(lo, hi, height - bottom, top)
    parts = [title and text(left, 14, title, extra=' font-weight="bold"'),
             y_axis(sy, left, width - right, lo, hi, "running ES", n=4),
             f'<line x1="{f(left)}" y1="{f(sy(0))}" x2="{f(width - right)}" y2="{f(sy(0))}" stroke="#999"/>']
    d = " ".join(f"{f(sx(p))},{f(sy(v))}" for p, v in zip(positions, vals))
    parts.append(f'<polyline points="{d}" fill="none" stroke="#1b7837" stroke-width="1.6"/>')
    if vals.size:
        k = int(np.argmax(np.abs(vals)))
        parts.append(f'<circle cx="{f(sx(positions[k]))}" cy="{f(sy(vals[k]))}" r="3.5" fill="#b2182b">'
                     f"{tip(f'enrichment score {fmt(vals[k])} at rank {int(positions[k])}')}</circle>")
    tick_top = height - bottom + 8
    ticks = []
    for p, h in zip(hit_positions, hit_hovers):
        x = sx(p)
        ticks.append(f'<rect x="{f(x - 1)}" y="{f(tick_top)}" width="2" height="16">{tip(h)}</rect>')
    parts.append(f'<g fill="#222">{"".join(ticks)}</g>')
    parts.append(f'<rect x="{f(left)}" y="{f(tick_top + 20)}" width="{f((width - right - left) / 2)}" height="5" '
                 'fill="#d95f02" fill-opacity="0.5"/>')
    parts.append(f'<rect x="{f(left + (width - right - left) / 2)}" y="{f(tick_top + 20)}" '
                 f'width="{f((width - right - left) / 2)}" height="5" fill="#1b9e77" fill-opacity="0.5"/>')
    parts.append(text(left, tick_top + 38, "higher in resistant", extra=' font-size="9.5"'))
    parts.append(text(width - right, tick_top + 38, f"higher in sensitive (rank {n_ranked})", "end",
                      ' font-size="9.5"'))
    if note:
        parts.append(text(width - right, 14, note, "end", ' font-size="10" fill="#555"'))
    return svg(width, height, "".join(parts), label=title or "GSEA running sum")


__all__ = [
    "VERDICT_COLOURS", "f",
    "ForestRow", "GroupValues", "Panel", "Point", "Pooled", "Scale", "VolcanoGene", "colour_bar", "diverging",
    "esc", "fmt", "forest", "heatmap", "legend", "nice_ticks", "running_sum_plot", "sample_boxes", "scatter",
    "sequential", "strip_box", "svg", "thin", "volcano",
]
