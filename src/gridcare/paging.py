"""Offset paging shared by every list endpoint: fetch one row more than a page to know if more follow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from gridcare.params import MAX_PAGE

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    has_more: bool


class PageParams:
    def __init__(self, page: int = 1, page_size: int = 20) -> None:
        self.page = page
        self.page_size = page_size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def fetch(self) -> int:
        """Rows to ask for: one more than the page, to tell whether another page exists."""
        return self.page_size + 1


async def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="页码，从 1 开始")] = 1,
    page_size: Annotated[int, Query(ge=1, le=200, description="每页条数")] = 20,
) -> PageParams:
    """A coroutine: a class or plain function dependency would cost a hop to the thread pool."""
    return PageParams(page, page_size)


PageDep = Annotated[PageParams, Depends(page_params)]


def page_of(items: Sequence[T], paging: PageParams) -> Page[T]:
    return Page[T](
        items=list(items[: paging.page_size]),
        page=paging.page,
        page_size=paging.page_size,
        has_more=len(items) > paging.page_size,
    )
