"""The chart module: one reportlab drawing, embedded in a PDF and as inline SVG,
with the series it drew."""

import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from pypdf import PdfReader
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Circle, PolyLine, Rect
from reportlab.pdfgen.canvas import Canvas

from documents.charts import (
    LABEL_SIZE,
    PAGE_WIDTH,
    Series,
    bar_chart,
    contrast,
    heat_map,
    line_chart,
    mix,
    nice_ticks,
    no_data,
    text_on,
    threshold,
)

WEEKS = ("W1", "W2", "W3", "W4", "W5")


def shapes(chart, kind):
    return [s for s in chart.drawing.getContents() if isinstance(s, kind)]


def accuracy_chart():
    return line_chart(
        categories=WEEKS,
        series=[
            Series(
                "准确率 Accuracy",
                (
                    Decimal("86.5"),
                    Decimal("90.1"),
                    None,
                    Decimal("95.2"),
                    Decimal("97"),
                ),
            ),
            threshold("合格线 95.00", Decimal("95.00"), len(WEEKS)),
        ],
        title="马小花 准确率 Accuracy",
    )


def test_line_chart_keeps_the_series_it_drew():
    """The chart returns its values as given; a None is a gap (two lines), each
    value has a marker, the threshold is one dashed line without markers."""
    chart = accuracy_chart()
    assert chart.values("准确率 Accuracy")[2] is None
    assert chart.values("合格线 95.00") == (Decimal("95.00"),) * 5
    lines = shapes(chart, PolyLine)
    assert len(lines) == 3  # W1–W2, W4–W5, the threshold
    assert sum(1 for line in lines if line.strokeDashArray) == 1
    assert len(shapes(chart, Circle)) == 4
    with pytest.raises(KeyError):
        chart.values("nothing")


def test_points_are_placed_by_value():
    """A higher value is drawn higher; equal values at equal heights."""
    chart = line_chart(
        categories=("a", "b", "c"),
        series=[Series("s", (1, 3, 3))],
        legend=False,
    )
    ys = [circle.cy for circle in shapes(chart, Circle)]
    assert ys[0] < ys[1] == ys[2]


def test_length_mismatch_is_refused():
    """Every series needs one value per category."""
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        line_chart(categories=("a", "b", "c"), series=[Series("s", (1, 2))])


def test_empty_chart_says_no_data():
    """Without values the drawing says so instead of drawing axes."""
    chart = line_chart(categories=WEEKS, series=[Series("s", (None,) * 5)])
    texts = [s.text for s in chart.drawing.getContents() if hasattr(s, "text")]
    assert no_data() in texts and not shapes(chart, PolyLine)


def test_no_data_is_said_in_the_readers_language():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert no_data() == "暂无数据"
    with translation.override("en"):
        assert no_data() == "No data"


def test_nice_ticks_cover_the_range():
    """Ticks are round numbers spanning the data."""
    ticks = nice_ticks(86.5, 97.0)
    assert ticks[0] <= 86.5 and ticks[-1] >= 97.0
    assert ticks == [85.0, 87.5, 90.0, 92.5, 95.0, 97.5]
    assert nice_ticks(5, 5)[0] < 5 < nice_ticks(5, 5)[-1]


def test_svg_is_inline_and_well_formed():
    """The SVG has no XML prolog, parses, carries the title and the Chinese
    text, uses browser fonts, and two charts on one page have distinct ids."""
    first, second = (
        accuracy_chart().svg(),
        line_chart(
            categories=WEEKS, series=[Series("s", (1, 2, 3, 4, 5))], title="other"
        ).svg(),
    )
    assert first.startswith("<svg ") and "<?xml" not in first
    root = ET.fromstring(first)
    assert root.tag.endswith("svg")
    assert "马小花 准确率 Accuracy" in first and 'role="img"' in first
    assert "ParkPayCJK" not in first and "PingFang SC" in first
    clip = [e.get("id") for e in root.iter() if e.tag.endswith("clipPath")]
    clip2 = [
        e.get("id") for e in ET.fromstring(second).iter() if e.tag.endswith("clipPath")
    ]
    assert clip and clip2 and clip != clip2


def test_same_drawing_embeds_in_a_pdf():
    """The drawing goes into a PDF as vector graphics with its (Chinese) text."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    renderPDF.draw(accuracy_chart().drawing, canvas, 40, 500)
    canvas.save()
    text = PdfReader(io.BytesIO(buffer.getvalue())).pages[0].extract_text()
    assert "马小花 准确率 Accuracy" in text and "W5" in text


def test_bar_chart_and_heat_map():
    """Bars start at zero, one per value; a heat map's rows are its series."""
    bars = bar_chart(
        categories=("2026-01", "2026-02"),
        series=[Series("工时 Hours", (10, 12)), Series("人数 People", (3, None))],
    )
    assert len([r for r in shapes(bars, Rect)]) == 3
    assert bars.values("人数 People") == (3, None)
    grid = heat_map(
        rows=("周一 Mon", "周二 Tue"),
        columns=tuple(f"{h:02d}" for h in range(24)),
        values=[[h % 5 for h in range(24)], [None] * 24],
    )
    assert grid.values("周一 Mon")[:5] == (0, 1, 2, 3, 4)
    assert len(shapes(grid, Rect)) == 48
    assert grid.svg().startswith("<svg ")


def _texts(chart):
    found = []

    def walk(node):
        for child in getattr(node, "contents", None) or []:
            walk(child)
        if hasattr(node, "text"):
            found.append(node)

    walk(chart.drawing)
    return found


def test_page_charts_read_at_11_px_on_a_360_px_phone():
    """A page chart is PAGE_WIDTH wide and shown at least 320 CSS px wide on a
    360 px phone (its card's width), so each text is at least 11 px there."""
    chart = bar_chart(
        categories=[f"26-{m:02d}" for m in range(1, 13)],
        series=[Series("应发工资", tuple(range(12))), Series("实发工资", (1,) * 12)],
        title="按月工资（元）",
        width=PAGE_WIDTH,
        height=200,
    )
    shown = 320
    sizes = [t.fontSize * shown / PAGE_WIDTH for t in _texts(chart)]
    assert sizes and min(sizes) >= 11
    assert LABEL_SIZE * shown / PAGE_WIDTH >= 11


def test_an_accuracy_axis_does_not_make_a_small_dip_look_like_a_crash():
    """96.45 to 96.62 drawn on 90–100 (min_span 10, y_max 100): the dip takes
    under 2 % of the plot's height, not all of it."""
    values = (96.62, 96.60, 96.45, 96.58, 96.61)
    chart = line_chart(
        categories=WEEKS, series=[Series("准确率", values)], y_max=100, min_span=10
    )
    (line,) = shapes(chart, PolyLine)
    ys = line.points[1::2]
    ticks = [float(t.text) for t in _texts(chart) if t.text.replace(".", "").isdigit()]
    assert min(ticks) <= 90 and max(ticks) >= 100
    plain = line_chart(categories=WEEKS, series=[Series("准确率", values)])
    (plain_line,) = shapes(plain, PolyLine)
    plain_ys = plain_line.points[1::2]
    assert max(ys) - min(ys) < 0.05 * (max(plain_ys) - min(plain_ys))


def test_heat_map_numbers_reach_4_5_to_1_on_every_shade():
    """Black or white, whichever reads better: at least 4.5:1 on every shade
    from empty to full, on the SVG heat map and the page's cells alike."""
    for step in range(101):
        fill = mix("#0b6e4f", "#eef1f4", step / 100)
        assert contrast(text_on(fill), fill) >= 4.5, fill
        fill = mix("#1f6f8b", "#ffffff", step / 100)
        assert contrast(text_on(fill), fill) >= 4.5, fill
    grid = heat_map(
        rows=("周一",),
        columns=tuple(str(h) for h in range(24)),
        values=[[h for h in range(24)]],
        show_values=True,
    )
    rects = [r for r in shapes(grid, Rect)]
    numbers = [t for t in _texts(grid) if t.text.isdigit()]  # values, then labels
    assert len(numbers) >= 24
    for rect, text in zip(rects, numbers[:24], strict=True):
        ink, fill = (f"#{c.hexval()[2:]}" for c in (text.fillColor, rect.fillColor))
        assert contrast(ink, fill) >= 4.5, (text.text, ink, fill)
