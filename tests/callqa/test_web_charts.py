"""Server-side SVG charts: exact geometry, gaps for missing values, escaped labels."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from callqa.web.charts import OVERALL_COLOUR, PALETTE, Series, distinct_colours, legend, line_chart, radar

SVG = "{http://www.w3.org/2000/svg}"


def test_radar_places_values_on_their_spokes() -> None:
    svg = radar(["A", "B", "C", "D"], [Series("me", (100.0, 50.0, None, 0.0)), Series("team", (50.0,) * 4, "#888")],
                size=320)
    root = ET.fromstring(str(svg))
    series = [p for p in root.iter(f"{SVG}polygon") if p.get("class") == "series"]
    assert [p.get("data-series") for p in series] == ["me", "team"]
    # centre (160, 160), radius 100; spokes at 12, 3, 6 and 9 o'clock
    assert series[0].get("points") == "160.0,60.0 210.0,160.0 160.0,160.0 160.0,160.0"
    assert series[1].get("points") == "160.0,110.0 210.0,160.0 160.0,210.0 110.0,160.0"
    rings = [p for p in root.iter(f"{SVG}polygon") if p.get("class") is None]
    assert len(rings) == 4


def test_values_outside_the_scale_are_clamped() -> None:
    root = ET.fromstring(str(radar(["A", "B", "C"], [Series("x", (150.0, -20.0, 100.0))], size=320)))
    points = next(p for p in root.iter(f"{SVG}polygon") if p.get("class") == "series").get("points") or ""
    first, second, _ = (tuple(map(float, xy.split(","))) for xy in points.split())
    assert first == (160.0, 60.0) and second == (160.0, 160.0)


def test_labels_are_escaped() -> None:
    svg = str(radar(["<script>x</script>", "B & C", "D"], [Series("<me>", (1.0, 2.0, 3.0))]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "B &amp; C" in svg and "&lt;me&gt;" in svg
    ET.fromstring(svg)


def test_line_chart_leaves_gaps_for_missing_weeks() -> None:
    svg = str(line_chart(["W1", "W2", "W3", "W4"], [Series("me", (50.0, None, 100.0, 0.0))], width=460, height=220))
    root = ET.fromstring(svg)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1  # W3–W4 only: W1 stands alone after the gap
    # plot: x from 40 over 410 px in 3 steps, y from 10 over 160 px
    assert lines[0].get("points") == "313.3,10.0 450.0,170.0"
    circles = [(c.get("cx"), c.get("cy")) for c in root.iter(f"{SVG}circle")]
    assert circles == [("40.0", "90.0"), ("313.3", "10.0"), ("450.0", "170.0")]
    assert re.findall(r">(W\d)<", svg) == ["W1", "W2", "W3", "W4"]


def test_empty_inputs_draw_nothing() -> None:
    assert str(radar([], [])) == "" and str(line_chart([], [])) == ""


def test_distinct_colours_never_repeat_and_run_out_loudly() -> None:
    assert distinct_colours(3) == PALETTE[:3]
    assert distinct_colours(2, besides=(PALETTE[0].upper(),)) == PALETTE[1:3]
    assert len(set(distinct_colours(len(PALETTE)))) == len(PALETTE) == 8
    assert OVERALL_COLOUR not in PALETTE
    with pytest.raises(ValueError, match="8 colours asked for, the palette has 7 more"):
        distinct_colours(8, besides=(PALETTE[3],))


def test_a_chart_refuses_a_repeated_colour() -> None:
    twins = [Series("a", (1.0, 2.0), "#0969da"), Series("b", (2.0, 1.0), "#0969DA")]
    with pytest.raises(ValueError, match="repeats the colour"):
        line_chart(["W1", "W2"], twins)
    with pytest.raises(ValueError, match="repeats the colour"):
        radar(["A", "B", "C"], twins)
    with pytest.raises(ValueError, match="repeats the colour"):
        legend(twins)


def test_line_chart_with_an_html_legend_and_a_thicker_total() -> None:
    series = [Series("all", (50.0, 60.0), OVERALL_COLOUR, stroke=3.5), Series("<b>", (10.0, 90.0), PALETTE[1])]
    svg = str(line_chart(["W1", "W2"], series, width=560, height=240, with_legend=False))
    root = ET.fromstring(svg)
    assert root.get("viewBox") == "0 0 560 240"  # no legend rows below the plot
    assert [(p.get("stroke"), p.get("stroke-width"), p.get("data-series")) for p in root.iter(f"{SVG}polyline")] == [
        (OVERALL_COLOUR, "3.5", "all"), (PALETTE[1], "2.0", "<b>")]
    assert not list(root.iter(f"{SVG}rect"))  # the keys are the page's
    keys = ET.fromstring(str(legend(series)))
    assert keys.tag == "ul" and [li.get("data-series") for li in keys] == ["all", "<b>"]
    assert [li.find(f"{SVG}svg/{SVG}rect").get("fill") for li in keys] == [OVERALL_COLOUR, PALETTE[1]]  # type: ignore[union-attr]
    assert "&lt;b&gt;" in str(legend(series)) and str(legend([])) == ""
