"""Charts drawn on the server as SVG: a radar (agent against team) and a line chart of weekly values.

Plain strings with every label escaped; values are 0–100 scores or 0–1 rates, a missing value leaves a gap.
No chart repeats a colour (:func:`distinct_colours` hands them out; the charts refuse a repeat), so every
line can be told from its legend entry. Every chart has a ``viewBox``: CSS may scale it to its box.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

AGENT_COLOUR = "#0969da"
TEAM_COLOUR = "#8c959f"
PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#1b7c83", "#bc4c00", "#57606a")
OVERALL_COLOUR = "#1f2328"  # a total drawn beside PALETTE colours: none of them


@dataclass(frozen=True, slots=True)
class Series:
    """One line or polygon: a name and one value per axis or point (None: no value)."""

    name: str
    values: tuple[float | None, ...]
    colour: str = AGENT_COLOUR
    stroke: float = 2.0  # line width; a total drawn thicker than its parts


def distinct_colours(n: int, *, besides: Sequence[str] = ()) -> tuple[str, ...]:
    """The first ``n`` colours of :data:`PALETTE` that are none of ``besides`` (colours already in the chart).

    Raises:
        ValueError: the palette has fewer than ``n`` such colours (a chart would repeat one).
    """
    taken = {c.lower() for c in besides}
    free = tuple(c for c in PALETTE if c.lower() not in taken)
    if n > len(free):
        raise ValueError(f"{n} colours asked for, the palette has {len(free)} more: a chart would repeat one")
    return free[:n]


def _check_colours(series: Sequence[Series]) -> None:
    colours = [s.colour.lower() for s in series]
    repeated = sorted({c for c in colours if colours.count(c) > 1})
    if repeated:
        raise ValueError(f"a chart repeats the colour(s) {', '.join(repeated)}; use distinct_colours()")


def legend(series: Sequence[Series]) -> Markup:
    """The colour keys as an HTML list (it wraps like text, readable on a phone where an SVG legend shrinks).

    Each key is a small SVG square: its colour is an SVG attribute, which the pages' CSP (no inline style)
    allows.
    """
    _check_colours(series)
    keys = "".join(f'<li data-series="{escape(s.name)}"><svg class="swatch" xmlns="http://www.w3.org/2000/svg" '
                   f'viewBox="0 0 12 12" width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
                   f'fill="{s.colour}"/></svg> {escape(s.name)}</li>' for s in series)
    return Markup(f'<ul class="chart-legend">{keys}</ul>') if series else Markup("")


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def radar(axes: Sequence[str], series: Sequence[Series], *, maximum: float = 100.0, size: int = 320,
          title: str = "") -> Markup:
    """A radar chart: one spoke per axis (section), one polygon per series, rings at 25 % steps.

    A missing value is drawn at the centre and marked hollow, so a section never scored is visible as such.
    """
    n = len(axes)
    if n == 0:
        return Markup("")
    _check_colours(series)
    cx = cy = size / 2
    r = size / 2 - 60
    pad = 70  # room for the axis labels left and right of the circle
    legend_y = cy + r + 36  # below the lowest axis label
    height = legend_y + 18 * _legend_rows(series, size + 2 * pad)
    parts = [f'<svg class="chart radar" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="{-pad} 0 {size + 2 * pad} {_fmt(height)}" width="{size + 2 * pad}" '
             f'height="{_fmt(height)}" role="img" aria-label="{escape(title)}">']

    def point(i: int, fraction: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        return cx + r * fraction * math.cos(angle), cy + r * fraction * math.sin(angle)

    for ring in (0.25, 0.5, 0.75, 1.0):
        pts = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#d0d7de"/>')
    for i, label in enumerate(axes):
        x, y = point(i, 1.0)
        lx, ly = point(i, 1.18)
        anchor = "middle" if abs(lx - cx) < 10 else ("start" if lx > cx else "end")
        parts.append(f'<line x1="{_fmt(cx)}" y1="{_fmt(cy)}" x2="{_fmt(x)}" y2="{_fmt(y)}" stroke="#d0d7de"/>')
        parts.append(f'<text x="{_fmt(lx)}" y="{_fmt(ly)}" font-size="11" text-anchor="{anchor}" '
                     f'dominant-baseline="middle">{escape(label)}</text>')
    for s in series:
        corners: list[tuple[float, float]] = []
        for i in range(n):
            v = s.values[i] if i < len(s.values) else None
            corners.append(point(i, 0.0 if v is None else max(0.0, min(v / maximum, 1.0))))
        poly = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in corners)
        parts.append(f'<polygon class="series" data-series="{escape(s.name)}" points="{poly}" fill="{s.colour}" '
                     f'fill-opacity="0.15" stroke="{s.colour}" stroke-width="2"/>')
    parts.append(_legend(series, 10 - pad, legend_y, size + 2 * pad))
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(labels: Sequence[str], series: Sequence[Series], *, maximum: float = 100.0, width: int = 460,
               height: int = 220, title: str = "", percent: bool = False, with_legend: bool = True) -> Markup:
    """A line chart over ``labels`` (weeks), y from 0 to ``maximum``; gaps where a value is missing.

    Args:
        with_legend: draw the colour keys under the plot; False when the page shows :func:`legend` instead
            (the plot then ends below the week labels).

    Raises:
        ValueError: two series have the same colour.
    """
    if not labels:
        return Markup("")
    _check_colours(series)
    left, right, top, bottom = 40, 10, 10, 50 if with_legend else 24
    plot_w, plot_h = width - left - right, height - top - bottom
    legend_h = 18 * max(_legend_rows(series, width) - 1, 0) if with_legend else 0  # row 1 fits in ``bottom``
    step = plot_w / max(len(labels) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (1 - max(0.0, min(v / maximum, 1.0)))

    parts = [f'<svg class="chart line" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + legend_h}" '
             f'width="{width}" height="{height + legend_h}" role="img" aria-label="{escape(title)}">']
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - frac)
        tick = f"{frac * 100:.0f}%" if percent else f"{frac * maximum:.0f}"
        parts.append(f'<line x1="{left}" y1="{_fmt(y)}" x2="{width - right}" y2="{_fmt(y)}" stroke="#eaeef2"/>'
                     f'<text x="{left - 4}" y="{_fmt(y)}" font-size="10" text-anchor="end" '
                     f'dominant-baseline="middle">{tick}</text>')
    every = max(1, math.ceil(len(labels) / 8))
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            anchor = "end" if i == len(labels) - 1 and i > 0 else "middle"
            parts.append(f'<text x="{_fmt(left + i * step)}" y="{height - bottom + 14}" font-size="10" '
                         f'text-anchor="{anchor}">{escape(label)}</text>')
    for s in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(xy(i, v))
        for run in runs:
            if len(run) > 1:
                pts = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in run)
                parts.append(f'<polyline points="{pts}" fill="none" stroke="{s.colour}" '
                             f'stroke-width="{_fmt(s.stroke)}" data-series="{escape(s.name)}"/>')
            for x, y in run:
                parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="3" fill="{s.colour}"/>')
    if with_legend:
        parts.append(_legend(series, left, height - 22, width - left))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend_width(name: str) -> float:
    # CJK characters are about twice as wide as Latin ones at the same font size
    return 24 + sum(11 if ord(ch) > 0x2E80 else 6.5 for ch in name)


def _legend_rows(series: Sequence[Series], width: float) -> int:
    rows, x = 1, 0.0
    for s in series:
        w = _legend_width(s.name)
        if x > 0 and x + w > width:
            rows, x = rows + 1, 0.0
        x += w
    return rows


def _legend(series: Sequence[Series], x0: float, y: float, width: float) -> str:
    """Colour keys in rows of at most ``width``: one row per 18 px from ``y``."""
    out, x = [], x0
    for s in series:
        w = _legend_width(s.name)
        if x > x0 and x + w > x0 + width:
            x, y = x0, y + 18
        out.append(f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="10" height="10" fill="{s.colour}"/>'
                   f'<text x="{_fmt(x + 14)}" y="{_fmt(y + 9)}" font-size="11">{escape(s.name)}</text>')
        x += w
    return "".join(out)
