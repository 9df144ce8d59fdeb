"""Charts for PDFs and web pages: one drawing, two outputs (DESIGN: charts).

Each builder returns a :class:`Chart`: a ``reportlab.graphics`` Drawing that a
PDF embeds as it is (it is a flowable, or ``renderPDF.draw`` on a canvas), that
``Chart.svg()`` turns into inline SVG for a page, and the series exactly as
they were drawn, so that a test can compare a chart with the figures it shows.

The plotting is done here with plain shapes rather than reportlab's chart
widgets: gaps (weeks without work) stay gaps, a threshold is a dashed series,
and the layout is the same in both outputs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import (
    Circle,
    Drawing,
    Group,
    Line,
    PolyLine,
    Rect,
    String,
)
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from documents.fonts import CID_FALLBACK, FONT_NAME, cjk_font

PALETTE = ("#1f6f8b", "#e07b39", "#3a7d44", "#8e5ea2", "#b8860b", "#6b6b6b")
THRESHOLD_COLOR = "#c0392b"
GRID_COLOR = "#dddddd"
AXIS_COLOR = "#888888"
TEXT_COLOR = "#333333"
HEAT_COLOR = "#1f6f8b"
HEAT_BASE = "#eef1f4"
# Text sizes in the drawing's units. Pages draw their charts PAGE_WIDTH wide,
# about the width they get on a 360 px phone, so the text shows at least
# 11 CSS px there (issue: charts readable on a phone).
TITLE_SIZE = 14
LABEL_SIZE = 13
PAGE_WIDTH = 320
# Fonts a browser uses for the SVG text (the PDF embeds its own).
WEB_FONTS = (
    "system-ui, -apple-system, 'PingFang SC', 'Noto Sans CJK SC', "
    "'Microsoft YaHei', sans-serif"
)

Number = Decimal | float | int


def no_data() -> str:
    """ "No data", in the language of the request (Chinese by default)."""
    from django.utils.translation import gettext

    return gettext("No data")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_color: str) -> float:
    """Relative luminance (WCAG 2) of ``#rrggbb``."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(color: str, base: str, share: float) -> str:
    """``share`` (0–1) of ``color`` over ``base``, as ``#rrggbb``."""
    share = min(1.0, max(0.0, share))
    a, b = color.lstrip("#"), base.lstrip("#")
    out = (
        round(int(a[i : i + 2], 16) * share + int(b[i : i + 2], 16) * (1 - share))
        for i in (0, 2, 4)
    )
    return "#" + "".join(f"{v:02x}" for v in out)


def text_on(background: str) -> str:
    """Black or white, whichever reads better on ``background``: one of them
    always reaches 4.5:1 (WCAG AA for small text)."""
    if contrast("#000000", background) >= contrast("#ffffff", background):
        return "#000000"
    return "#ffffff"


@dataclass(frozen=True)
class Series:
    """One line (or one set of bars): a value per category, None for a gap."""

    label: str
    values: tuple[Number | None, ...]
    color: str | None = None
    dashed: bool = False
    markers: bool = True


@dataclass
class Chart:
    drawing: Drawing
    kind: str
    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]

    def svg(self, *, responsive: bool = True) -> str:
        return to_svg(self.drawing, title=self.title, responsive=responsive)

    def values(self, label: str) -> tuple[Number | None, ...]:
        """The drawn values of the series called ``label``."""
        for series in self.series:
            if series.label == label:
                return series.values
        raise KeyError(label)


def threshold(label: str, value: Number | None, count: int) -> Series:
    """A constant threshold as a dashed series without markers."""
    return Series(
        label, (value,) * count, color=THRESHOLD_COLOR, dashed=True, markers=False
    )


# --- layout helpers ----------------------------------------------------------


def _color(value: str):
    return colors.HexColor(value)


def _text(
    x: float,
    y: float,
    text: str,
    *,
    font: str,
    size: float,
    anchor: str = "start",
    color: str = TEXT_COLOR,
) -> String:
    return String(
        x,
        y,
        text,
        fontName=font,
        fontSize=size,
        fillColor=_color(color),
        textAnchor=anchor,
    )


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], about ``count`` intervals."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        pad = abs(low) * 0.05 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step + 1e-9) * step
    end = math.ceil(high / step - 1e-9) * step
    ticks, n = [], 0
    while start + n * step <= end + step * 1e-9:
        ticks.append(round(start + n * step, 10))
        n += 1
    return ticks


def _tick_label(value: float, ticks: list[float]) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _numbers(series: Sequence[Series]) -> list[float]:
    return [float(v) for s in series for v in s.values if v is not None]


@dataclass
class _Frame:
    """The plot area of a chart and its value scale."""

    left: float
    bottom: float
    width: float
    height: float
    ticks: list[float]

    def y(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        return self.bottom + (value - low) / (high - low) * self.height


def _frame(
    drawing: Drawing,
    *,
    title: str,
    series: Sequence[Series],
    categories: Sequence[str],
    font: str,
    y_min: Number | None,
    y_max: Number | None,
    y_label: str,
    legend: bool,
    min_span: Number | None = None,
) -> _Frame | None:
    """Title, legend, value axis and grid; None when there is nothing to plot."""
    width, height = drawing.width, drawing.height
    top = height - 4
    if title:
        top -= TITLE_SIZE + 1
        drawing.add(_text(4, top, title, font=font, size=TITLE_SIZE))
    if legend and series:
        top -= LABEL_SIZE + 4
        x = 4.0
        for index, s in enumerate(series):
            color = _color(s.color or PALETTE[index % len(PALETTE)])
            item = 17 + stringWidth(s.label, font, LABEL_SIZE)
            if x > 4 and x + item > width - 4:  # the legend wraps
                x = 4.0
                top -= LABEL_SIZE + 4
            drawing.add(
                Line(
                    x,
                    top + 3,
                    x + 14,
                    top + 3,
                    strokeColor=color,
                    strokeWidth=1.5,
                    strokeDashArray=[3, 2] if s.dashed else None,
                )
            )
            drawing.add(_text(x + 17, top, s.label, font=font, size=LABEL_SIZE))
            x += item + 12
    top -= 6 + LABEL_SIZE / 2  # room for the top tick label under the title
    numbers = _numbers(series)
    if not numbers or not categories:
        drawing.add(
            _text(
                width / 2,
                height / 2,
                no_data(),
                font=font,
                size=LABEL_SIZE,
                anchor="middle",
            )
        )
        return None
    low = min([*numbers, *([float(y_min)] if y_min is not None else [])])
    high = max([*numbers, *([float(y_max)] if y_max is not None else [])])
    if min_span and high - low < float(min_span):
        # A small change must not fill the chart: the axis spans at least
        # ``min_span``, downwards from a fixed top (e.g. accuracy to 100 %).
        low = high - float(min_span)
    ticks = nice_ticks(low, high)
    labels = [_tick_label(t, ticks) for t in ticks]
    left = 8 + max(stringWidth(label, font, LABEL_SIZE) for label in labels)
    if y_label:
        left += LABEL_SIZE + 4
        group = Group(_text(0, 0, y_label, font=font, size=LABEL_SIZE, anchor="middle"))
        group.translate(10, 26 + (top - 26) / 2)
        group.rotate(90)
        drawing.add(group)
    frame = _Frame(left, 26, width - left - 8, top - 26, ticks)
    for tick, label in zip(ticks, labels, strict=True):
        y = frame.y(tick)
        drawing.add(
            Line(
                left,
                y,
                left + frame.width,
                y,
                strokeColor=_color(GRID_COLOR),
                strokeWidth=0.5,
            )
        )
        drawing.add(
            _text(left - 3, y - 4, label, font=font, size=LABEL_SIZE, anchor="end")
        )
    drawing.add(
        Line(
            left,
            frame.bottom,
            left + frame.width,
            frame.bottom,
            strokeColor=_color(AXIS_COLOR),
            strokeWidth=0.7,
        )
    )
    # Category labels, thinned out so that they never overlap.
    slot = frame.width / len(categories)
    widest = max(stringWidth(c, font, LABEL_SIZE) for c in categories) + 4
    every = max(1, math.ceil(widest / slot))
    for index, category in enumerate(categories):
        if index % every == 0:
            x = left + (index + 0.5) * slot
            drawing.add(
                _text(x, 10, category, font=font, size=LABEL_SIZE, anchor="middle")
            )
    return frame


def _new_drawing(width: float, height: float) -> Drawing:
    return Drawing(width, height)


# --- the charts -------------------------------------------------------------


def line_chart(
    *,
    categories: Sequence[str],
    series: Sequence[Series],
    title: str = "",
    y_label: str = "",
    width: float = 480,
    height: float = 180,
    y_min: Number | None = None,
    y_max: Number | None = None,
    legend: bool = True,
    font: str | None = None,
    min_span: Number | None = None,
) -> Chart:
    """Lines over categories (weeks, days); None values leave a gap.

    ``min_span``: the value axis covers at least this much (with ``y_max``,
    e.g. accuracy 90–100 %), so a dip of a tenth of a point looks like one.
    """
    font = font or cjk_font()
    categories, series = tuple(categories), tuple(series)
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(
                f"series {s.label!r} has {len(s.values)} values for "
                f"{len(categories)} categories"
            )
    drawing = _new_drawing(width, height)
    frame = _frame(
        drawing,
        title=title,
        series=series,
        categories=categories,
        font=font,
        y_min=y_min,
        y_max=y_max,
        y_label=y_label,
        legend=legend,
        min_span=min_span,
    )
    if frame is not None:
        slot = frame.width / len(categories)
        for index, s in enumerate(series):
            color = _color(s.color or PALETTE[index % len(PALETTE)])
            run: list[float] = []
            points = []
            for i, value in enumerate([*s.values, None]):
                if value is not None:
                    point = (frame.left + (i + 0.5) * slot, frame.y(float(value)))
                    run += point
                    points.append(point)
                    continue
                if len(run) >= 4:
                    drawing.add(
                        PolyLine(
                            run,
                            strokeColor=color,
                            strokeWidth=1.4 if not s.dashed else 1.0,
                            strokeDashArray=[4, 3] if s.dashed else None,
                        )
                    )
                elif len(run) == 2 and s.dashed:
                    # A threshold known for one category only: a short tick.
                    x, y = run
                    drawing.add(
                        Line(
                            x - slot / 3,
                            y,
                            x + slot / 3,
                            y,
                            strokeColor=color,
                            strokeWidth=1.0,
                            strokeDashArray=[4, 3],
                        )
                    )
                run = []
            if s.markers:
                for x, y in points:
                    drawing.add(
                        Circle(
                            x,
                            y,
                            1.8,
                            fillColor=color,
                            strokeColor=color,
                            strokeWidth=0.5,
                        )
                    )
    return Chart(drawing, "line", title, categories, series)


def bar_chart(
    *,
    categories: Sequence[str],
    series: Sequence[Series],
    title: str = "",
    y_label: str = "",
    width: float = 480,
    height: float = 180,
    legend: bool = True,
    font: str | None = None,
) -> Chart:
    """Grouped bars from zero; a dashed series is drawn as a line over them."""
    font = font or cjk_font()
    categories, series = tuple(categories), tuple(series)
    drawing = _new_drawing(width, height)
    frame = _frame(
        drawing,
        title=title,
        series=series,
        categories=categories,
        font=font,
        y_min=0,
        y_max=None,
        y_label=y_label,
        legend=legend,
    )
    if frame is not None:
        slot = frame.width / len(categories)
        bars = [s for s in series if not s.dashed]
        bar_width = slot * 0.8 / max(1, len(bars))
        for index, s in enumerate(series):
            color = _color(s.color or PALETTE[index % len(PALETTE)])
            position = bars.index(s) if s in bars else None
            for i, value in enumerate(s.values):
                if value is None:
                    continue
                y = frame.y(float(value))
                if position is None:
                    x = frame.left + i * slot
                    drawing.add(
                        Line(
                            x + slot * 0.05,
                            y,
                            x + slot * 0.95,
                            y,
                            strokeColor=color,
                            strokeWidth=1.0,
                            strokeDashArray=[4, 3],
                        )
                    )
                    continue
                x = frame.left + i * slot + slot * 0.1 + position * bar_width
                base = frame.y(max(0.0, frame.ticks[0]))
                drawing.add(
                    Rect(
                        x,
                        min(base, y),
                        bar_width * 0.92,
                        abs(y - base),
                        fillColor=color,
                        strokeColor=None,
                    )
                )
    return Chart(drawing, "bar", title, categories, series)


def heat_map(
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[Number | None]],
    title: str = "",
    width: float = 480,
    height: float = 180,
    color: str = HEAT_COLOR,
    show_values: bool = False,
    font: str | None = None,
) -> Chart:
    """A grid of cells shaded by value (e.g. hour-of-day coverage per weekday).

    ``values[r][c]`` belongs to ``rows[r]`` and ``columns[c]``; the chart's
    series are the rows, so ``chart.values(row)`` gives a row as drawn.
    """
    font = font or cjk_font()
    rows, columns = tuple(rows), tuple(columns)
    series = tuple(
        Series(label, tuple(row), color=color, markers=False)
        for label, row in zip(rows, values, strict=True)
    )
    for s in series:
        if len(s.values) != len(columns):
            raise ValueError(f"row {s.label!r} does not have {len(columns)} values")
    drawing = _new_drawing(width, height)
    top = height - 4
    if title:
        top -= TITLE_SIZE + 1
        drawing.add(_text(4, top, title, font=font, size=TITLE_SIZE))
    top -= 6
    numbers = _numbers(series)
    if not numbers or not rows or not columns:
        drawing.add(
            _text(
                width / 2,
                height / 2,
                no_data(),
                font=font,
                size=LABEL_SIZE,
                anchor="middle",
            )
        )
        return Chart(drawing, "heat", title, columns, series)
    high = max(numbers) or 1.0
    left = 8 + max(stringWidth(r, font, LABEL_SIZE) for r in rows)
    cell_w = (width - left - 8) / len(columns)
    cell_h = (top - 26) / len(rows)
    base = _color(color)
    for r, s in enumerate(series):
        y = top - (r + 1) * cell_h
        drawing.add(
            _text(
                left - 3,
                y + cell_h / 2 - 4,
                s.label,
                font=font,
                size=LABEL_SIZE,
                anchor="end",
            )
        )
        for c, value in enumerate(s.values):
            x = left + c * cell_w
            share = 0.0 if value is None else max(0.0, float(value)) / high
            fill = colors.linearlyInterpolatedColor(colors.white, base, 0, 1, share)
            drawing.add(
                Rect(
                    x,
                    y,
                    cell_w,
                    cell_h,
                    fillColor=fill,
                    strokeColor=colors.white,
                    strokeWidth=0.5,
                )
            )
            if show_values and value is not None:
                ink = text_on(mix(color, "#ffffff", share))
                drawing.add(
                    _text(
                        x + cell_w / 2,
                        y + cell_h / 2 - 4,
                        f"{value}",
                        font=font,
                        size=LABEL_SIZE,
                        anchor="middle",
                        color=ink,
                    )
                )
    every = max(
        1,
        math.ceil(
            (max(stringWidth(c, font, LABEL_SIZE) for c in columns) + 4) / cell_w
        ),
    )
    for c, label in enumerate(columns):
        if c % every == 0:
            x = left + (c + 0.5) * cell_w
            drawing.add(
                _text(x, 10, label, font=font, size=LABEL_SIZE, anchor="middle")
            )
    return Chart(drawing, "heat", title, columns, series)


# --- SVG --------------------------------------------------------------------


def to_svg(drawing: Drawing, *, title: str = "", responsive: bool = True) -> str:
    """The drawing as an ``<svg>`` element to put inline in a page.

    The XML prolog is dropped, the ids are made unique per drawing (so that
    several charts can share a page), the PDF font name becomes a list of the
    fonts a browser has, and ``title`` becomes the accessible name.
    """
    raw = renderSVG.drawToString(drawing)
    svg = raw[raw.index("<svg") :]
    uid = hashlib.sha1(svg.encode()).hexdigest()[:10]
    svg = (
        svg.replace('id="clip"', f'id="clip-{uid}"')
        .replace("url(#clip)", f"url(#clip-{uid})")
        .replace('id="group"', f'id="group-{uid}"')
        .replace("<title>...</title>", f"<title>{escape(title)}</title>", 1)
        .replace("<desc>...</desc>", "", 1)
    )
    for name in (FONT_NAME, CID_FALLBACK):
        svg = svg.replace(f"font-family: {name};", f"font-family: {WEB_FONTS};")
    attributes = f'role="img" aria-label="{escape(title)}" '
    if responsive:
        width = f'width="{_svg_number(drawing.width)}" '
        height = f'height="{_svg_number(drawing.height)}" '
        attributes += 'style="max-width: 100%; height: auto" '
        svg = svg.replace(width + height, width, 1)
    return svg.replace("<svg ", f"<svg {attributes}", 1)


def _svg_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- histogram (added for the county employment report, R16) ----------------


def histogram(
    *,
    bands: Sequence[str],
    counts: Sequence[Number | None],
    label: str = "",
    marker: int | None = None,
    marker_label: str = "",
    gap_label: str = "",
    title: str = "",
    y_label: str = "",
    width: float = 480,
    height: float = 180,
    font: str | None = None,
) -> Chart:
    """Adjoining bars, one per band (e.g. pay bands), from zero.

    A None count (a suppressed cell) draws no bar but ``gap_label`` at the
    foot of its band; ``marker`` draws a dashed vertical line at the left edge
    of band ``marker`` (e.g. the minimum wage), with ``marker_label``. The
    chart's one series is called ``label``.
    """
    font = font or cjk_font()
    bands, counts = tuple(bands), tuple(counts)
    if len(counts) != len(bands):
        raise ValueError(f"{len(counts)} counts for {len(bands)} bands")
    series = (Series(label, counts),)
    drawing = _new_drawing(width, height)
    frame = _frame(
        drawing,
        title=title,
        series=series,
        categories=bands,
        font=font,
        y_min=0,
        y_max=None,
        y_label=y_label,
        legend=False,
    )
    if frame is not None:
        slot = frame.width / len(bands)
        base = frame.y(max(0.0, frame.ticks[0]))
        fill = _color(PALETTE[0])
        for index, value in enumerate(counts):
            x = frame.left + index * slot
            if value is None:
                if gap_label:
                    drawing.add(
                        _text(
                            x + slot / 2,
                            base + 3,
                            gap_label,
                            font=font,
                            size=LABEL_SIZE,
                            anchor="middle",
                            color=AXIS_COLOR,
                        )
                    )
                continue
            y = frame.y(float(value))
            drawing.add(
                Rect(
                    x + slot * 0.03,
                    min(base, y),
                    slot * 0.94,
                    abs(y - base),
                    fillColor=fill,
                    strokeColor=None,
                )
            )
        if marker is not None:
            x = frame.left + marker * slot
            top = frame.bottom + frame.height
            drawing.add(
                Line(
                    x,
                    frame.bottom,
                    x,
                    top,
                    strokeColor=_color(THRESHOLD_COLOR),
                    strokeWidth=1.2,
                    strokeDashArray=[4, 3],
                )
            )
            if marker_label:
                drawing.add(
                    _text(
                        x + 3,
                        top - 8,
                        marker_label,
                        font=font,
                        size=LABEL_SIZE,
                        color=THRESHOLD_COLOR,
                    )
                )
    return Chart(drawing, "histogram", title, bands, series)
