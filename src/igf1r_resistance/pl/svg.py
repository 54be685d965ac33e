"""SVG primitives of the report's plots: escaping, number formatting, scales, axes, legends,
colour ramps, label placement. Pure functions from numbers and strings to SVG fragments; every
piece of text passes through `esc` (GEO metadata and config are untrusted)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

GROUP_COLOURS = {"resistant": "#d95f02", "sensitive": "#1b9e77"}
OTHER_COLOUR = "#7570b3"
VERDICT_COLOURS = {
    "supported": "#1b7837",
    "contradicted": "#b2182b",
    "changed": "#5e3c99",  # two-sided prediction met: never the colour of support
    "no_change": "#9ecae1",
    "inconclusive": "#8c8c8c",
    "not_measurable": "#cccccc",
    "not_testable": "#cccccc",
    "context": "#cccccc",
}
SVG_NS = "http://www.w3.org/2000/svg"
CHAR_W = 6.2  # approximate width of one character at font-size 11


def esc(value: object) -> str:
    """HTML/XML-escape any value (None and NaN become an empty string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def f(x: float) -> str:
    """A coordinate with one decimal, without a trailing '.0'."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else ("0" if s == "-0" else s)


def fmt(value: object, digits: int = 3) -> str:
    """A number as short text: `digits` significant digits, scientific below 1e-3."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if math.isnan(x):
        return "NA"
    if x != 0 and abs(x) < 1e-3:
        return f"{x:.2e}"
    return f"{x:.{digits}g}"


def group_colour(group: str) -> str:
    return GROUP_COLOURS.get(str(group), OTHER_COLOUR)


def svg(width: float, height: float, body: str, label: str = "", cls: str = "plot") -> str:
    """The root element; `label` becomes the accessible name (aria-label), not a tooltip."""
    return (
        f'<svg class="{esc(cls)}" xmlns="{SVG_NS}" width="{f(width)}" height="{f(height)}" '
        f'viewBox="0 0 {f(width)} {f(height)}" font-family="Helvetica,Arial,sans-serif" font-size="11" '
        f'role="img" aria-label="{esc(label)}">{body}</svg>'
    )


def text(x: float, y: float, s: object, anchor: str = "start", extra: str = "") -> str:
    a = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return f'<text x="{f(x)}" y="{f(y)}"{a}{extra}>{esc(s)}</text>'


def tip(s: object) -> str:
    """A hover tooltip (SVG <title>) with escaped text; newlines become line breaks."""
    return f"<title>{esc(s)}</title>"


# --------------------------------------------------------------------------- scales and axes


@dataclass
class Scale:
    """Linear map from data `domain` to pixel `range`."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, v: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About `n` round tick values covering [lo, hi]."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return []
    if hi == lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    return ticks


def padded(values: Sequence[float], pad: float = 0.06, include: Sequence[float] = ()) -> tuple[float, float]:
    """Data range of the finite `values` (and `include`), widened by `pad` on each side."""
    arr = np.asarray([*values, *include], dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return 0.0, 1.0
    lo, hi = float(arr.min()), float(arr.max())
    if hi == lo:
        lo, hi = lo - 0.5 if lo == 0 else lo - abs(lo) * 0.1, hi + 0.5 if hi == 0 else hi + abs(hi) * 0.1
    span = hi - lo
    return lo - pad * span, hi + pad * span


def tick_label(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.0e}"
    return f"{v:.4g}"


def y_axis(sy: Scale, x: float, x_end: float, lo: float, hi: float, label: str = "", grid: bool = True,
           n: int = 5) -> str:
    parts = [f'<line x1="{f(x)}" y1="{f(sy.r0)}" x2="{f(x)}" y2="{f(sy.r1)}" stroke="#444"/>']
    for t in nice_ticks(lo, hi, n):
        y = sy(t)
        if grid:
            parts.append(f'<line x1="{f(x)}" y1="{f(y)}" x2="{f(x_end)}" y2="{f(y)}" stroke="#eee"/>')
        parts.append(f'<line x1="{f(x - 4)}" y1="{f(y)}" x2="{f(x)}" y2="{f(y)}" stroke="#444"/>')
        parts.append(text(x - 6, y + 3.5, tick_label(t), "end"))
    if label:
        cy = (sy.r0 + sy.r1) / 2
        parts.append(f'<text transform="translate({f(x - 44)},{f(cy)}) rotate(-90)" text-anchor="middle">'
                     f"{esc(label)}</text>")
    return "".join(parts)


def x_axis(sx: Scale, y: float, y_top: float, lo: float, hi: float, label: str = "", grid: bool = True,
           n: int = 5) -> str:
    parts = [f'<line x1="{f(sx.r0)}" y1="{f(y)}" x2="{f(sx.r1)}" y2="{f(y)}" stroke="#444"/>']
    for t in nice_ticks(lo, hi, n):
        x = sx(t)
        if grid:
            parts.append(f'<line x1="{f(x)}" y1="{f(y_top)}" x2="{f(x)}" y2="{f(y)}" stroke="#eee"/>')
        parts.append(f'<line x1="{f(x)}" y1="{f(y)}" x2="{f(x)}" y2="{f(y + 4)}" stroke="#444"/>')
        parts.append(text(x, y + 15, tick_label(t), "middle"))
    if label:
        parts.append(text((sx.r0 + sx.r1) / 2, y + 30, label, "middle"))
    return "".join(parts)


def legend(items: Sequence[tuple[str, str]], x: float, y: float, shape: str = "circle") -> str:
    """Horizontal legend of (label, colour) pairs starting at (x, y)."""
    parts = []
    for label, colour in items:
        if shape == "circle":
            parts.append(f'<circle cx="{f(x + 5)}" cy="{f(y - 4)}" r="4.5" fill="{colour}"/>')
        else:
            parts.append(f'<rect x="{f(x)}" y="{f(y - 9)}" width="10" height="10" fill="{colour}"/>')
        parts.append(text(x + 13, y, label))
        x += 24 + CHAR_W * len(str(label))
    return "".join(parts)


def _jitter(i: int, width: float) -> float:
    """Deterministic jitter in [-width/2, width/2] (golden-ratio sequence; no random state)."""
    return (((i * 0.6180339887) % 1.0) - 0.5) * width


def thin(values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most `max_points` values, evenly spaced in value order (keeps the shape
    of the distribution, both extremes included)."""
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    order = np.argsort(values, kind="stable")
    picks = np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(int))
    return np.sort(order[picks])


def diverging(v: float, limit: float = 2.5) -> str:
    """Blue (low) - white - red (high) colour for a z-score, saturating at +-limit."""
    if not np.isfinite(v):
        return "#ffffff"
    t = max(-1.0, min(1.0, v / limit))
    lo, mid, hi = (33, 102, 172), (247, 247, 247), (178, 24, 43)
    a, b = (mid, hi) if t >= 0 else (mid, lo)
    t = abs(t)
    return "#{:02x}{:02x}{:02x}".format(*tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3)))


def sequential(v: float, lo: float, hi: float) -> str:
    """Light yellow (lo) to dark blue (hi)."""
    if not np.isfinite(v):
        return "#ffffff"
    stops = [(255, 255, 217), (199, 233, 180), (65, 182, 196), (34, 94, 168), (8, 29, 88)]
    t = 0.0 if hi == lo else max(0.0, min(1.0, (v - lo) / (hi - lo)))
    pos = t * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    u = pos - i
    return "#{:02x}{:02x}{:02x}".format(*tuple(round(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * u) for k in range(3)))


def colour_bar(colour, lo: float, hi: float, label: str, width: float = 220) -> str:
    """A small horizontal colour key from lo to hi."""
    steps = 24
    parts = []
    for k in range(steps):
        v = lo + (hi - lo) * (k + 0.5) / steps
        parts.append(f'<rect x="{f(10 + k * (width - 20) / steps)}" y="4" width="{f((width - 20) / steps + 0.5)}" '
                     f'height="10" fill="{colour(v)}"/>')
    parts.append(text(10, 27, tick_label(round(lo, 3)), extra=' font-size="10"'))
    parts.append(text(width - 10, 27, tick_label(round(hi, 3)), "end", ' font-size="10"'))
    parts.append(text(width / 2, 27, label, "middle", ' font-size="10"'))
    return svg(width, 32, "".join(parts), label=label, cls="plot key")


def place_labels(points: Sequence[tuple[float, float, str]], bounds: tuple[float, float, float, float],
                 size: float = 10) -> str:
    """Labels beside points, in the given order of priority; a label that would overlap an
    already placed one (or leave the plot) tries three other corners and is dropped if none fits
    (the point keeps its tooltip). Leader lines join labels to points."""
    placed: list[tuple[float, float, float, float]] = []
    out = []
    h = size + 2
    for x, y, label in points:
        w = 0.62 * size * len(str(label)) + 2
        for dx, dy in ((6, -6), (6, 6 + h), (-6 - w, -6), (-6 - w, 6 + h), (6, -6 - h), (-6 - w, -6 - h)):
            box = (x + dx, y + dy - h, x + dx + w, y + dy)
            inside = box[0] >= bounds[0] and box[2] <= bounds[2] and box[1] >= bounds[1] and box[3] <= bounds[3]
            clash = any(not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]) for b in placed)
            if inside and not clash:
                placed.append(box)
                lx = box[0] if dx > 0 else box[2]
                out.append(f'<line x1="{f(x)}" y1="{f(y)}" x2="{f(lx)}" y2="{f(box[3] - h / 2)}" stroke="#999" '
                           'stroke-width="0.7"/>')
                out.append(text(box[0] + 1, box[3] - 2, label, extra=f' font-size="{size}" font-weight="bold"'))
                break
    return "".join(out)
