"""Bar charts drawn as SVG on the server: a picture that needs no JavaScript, always
shown beside a table of the same numbers (the table is the accessible version)."""

from __future__ import annotations

from dataclasses import dataclass

LABEL_WIDTH = 180
BAR_AREA = 360
VALUE_GAP = 8
ROW_HEIGHT = 32
BAR_HEIGHT = 20
TOP = 8
MAX_LABEL = 22


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int  # top of the row
    width: float

    @property
    def short_label(self) -> str:
        """Long names are cut to fit beside the bars; the table beside has them in full."""
        return self.label if len(self.label) <= MAX_LABEL else self.label[: MAX_LABEL - 1] + "…"

    @property
    def bar_y(self) -> int:
        return self.y + (ROW_HEIGHT - BAR_HEIGHT) // 2

    @property
    def text_y(self) -> int:
        return self.y + ROW_HEIGHT // 2 + 5

    @property
    def value_x(self) -> float:
        return LABEL_WIDTH + self.width + VALUE_GAP


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(rows: list[tuple[str, int]]) -> BarChart:
    """Horizontal bars, longest = full width; a zero still gets its number drawn."""
    top = max((v for _, v in rows), default=0) or 1
    bars = [
        Bar(
            label=label, value=value, y=TOP + i * ROW_HEIGHT, width=round(BAR_AREA * value / top, 1)
        )
        for i, (label, value) in enumerate(rows)
    ]
    return BarChart(
        bars=bars,
        width=LABEL_WIDTH + BAR_AREA + 60,
        height=TOP * 2 + ROW_HEIGHT * max(1, len(rows)),
    )
