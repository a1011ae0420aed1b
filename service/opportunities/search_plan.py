"""A search as the query builder sees it: its *shape* (which filters are present, the sort:
what the SQL depends on) and the values of its bound parameters.

Statements are built once per shape with every value a bound parameter, and reused:
building and compiling a statement of this size costs more than running it.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import literal_column

from service.errors import InvalidInput
from service.kit.filters import ALL_STEMMED
from service.kit.pagination import Cursor, Sort, SortField, decode_cursor, parse_sort
from service.opportunities.ranking import RELEVANCE_WINDOW
from service.opportunities.schemas import SearchQuery

# Sort fields name columns of the branches. The API's sort tokens and what they mean:
SORTS = {
    "rank": SortField(literal_column("rank"), float),
    "deadline": SortField(literal_column("deadline_key"), date),
    "created": SortField(literal_column("created_at"), datetime),
}
SORT_TOKENS = {"relevance": "-rank", "deadline": "deadline", "-created": "-created"}
CURSOR_SCOPE = "opportunity search"  # the sort columns are the branches', not a table's


@dataclass(frozen=True)
class Shape:
    """What a search's SQL depends on, apart from values."""

    text: bool
    kinds: tuple[str, ...]  # the kind filter, sorted; () when absent
    country: bool
    sector: bool
    language: bool
    deadline_after: bool
    deadline_before: bool
    open: bool
    cluster: bool
    partnership: bool
    sort: str  # internal sort token
    after_cursor: bool

    @property
    def wants_opportunities(self) -> bool:
        return not self.kinds or any(k != "mission" for k in self.kinds)

    @property
    def wants_missions(self) -> bool:
        return not self.kinds or "mission" in self.kinds

    @property
    def value_dependent(self) -> bool:
        """Whether the best plan depends on the values (a rare word or country wants its
        index, a common one the walk in deadline order)."""
        return self.text or self.country or self.sector or self.language or self.cluster or self.partnership


@dataclass(frozen=True)
class Plan:
    """A parsed search: its shape and the values of its parameters."""

    shape: Shape
    sort: Sort
    params: dict[str, Any]


def sort_of(shape: Shape) -> Sort:
    return parse_sort(shape.sort, SORTS, default=shape.sort)


def _sort(query: SearchQuery) -> Sort:
    token = query.sort or ("relevance" if query.q else "deadline")
    if token not in SORT_TOKENS:
        raise InvalidInput.field("query.sort", f"sort by one of: {', '.join(SORT_TOKENS)}")
    if token == "relevance" and not query.q:
        raise InvalidInput.field("query.sort", "sorting by relevance needs q")
    return parse_sort(SORT_TOKENS[token], SORTS, default=SORT_TOKENS[token])


def plan(query: SearchQuery, today: date, limit: int) -> Plan:
    sort = _sort(query)
    cursor: Cursor | None = decode_cursor(query.cursor, sort, uuid.UUID, CURSOR_SCOPE) if query.cursor else None
    shape = Shape(
        text=bool(query.q), kinds=tuple(sorted(set(query.kind))), country=bool(query.country),
        sector=bool(query.sector), language=bool(query.language), deadline_after=query.deadline_after is not None,
        deadline_before=query.deadline_before is not None, open=query.open, cluster=bool(query.cluster),
        partnership=bool(query.partnership), sort=sort.token, after_cursor=cursor is not None,
    )
    params = {
        "today": today, "q": query.q, "kinds": [k for k in query.kind if k != "mission"], "countries": query.country,
        "sectors": query.sector, "language_filter": query.language, "clusters": query.cluster, "partnerships": query.partnership,
        "deadline_after": query.deadline_after, "deadline_before": query.deadline_before,
        "limit": limit, "window": RELEVANCE_WINDOW,
    }
    if query.q:
        params["languages"] = list(query.lang) or ALL_STEMMED
    if cursor is not None:
        params |= {"after_value": cursor.value, "after_id": cursor.id}
    return Plan(shape, sort, {k: v for k, v in params.items() if v is not None})
