"""One way to paginate every list: numbered pages for searches and queues,
keyset cursors for timelines (see people/timeline.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int
    # True when there are more than `total` items: a search that stops counting.
    total_capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or self.total_capped

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def clamp_page(page: int | None, page_size: int | None, default_size: int) -> tuple[int, int]:
    page = max(1, int(page or 1))
    size = max(1, min(MAX_PAGE_SIZE, int(page_size or default_size)))
    return page, size


def paginate(queryset, *, page: int | None, page_size: int | None, default_size: int = 20) -> Page:
    page, size = clamp_page(page, page_size, default_size)
    total = queryset.count()
    start = (page - 1) * size
    return Page(items=list(queryset[start : start + size]), page=page, page_size=size, total=total)
