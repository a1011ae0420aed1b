"""Relevance ranking and its window.

Ranking every match of a common word would read a third of the table, so the text match
first takes candidates in deadline order (at most RELEVANCE_WINDOW per branch, straight
off the deadline index) and only those are ranked. A query matching fewer rows than the
window (most real queries) is ranked exactly; a very common word ranks the
RELEVANCE_WINDOW soonest-closing matches, and paging by relevance ends there.
"""

from typing import Any

from sqlalchemy import Float, Select, bindparam, func, literal_column

RELEVANCE_WINDOW = 1000


def rank(search_column: Any, query: Any) -> Any:
    """A row's relevance to the text query, as the `rank` column the sort names."""
    return func.ts_rank(search_column, query).cast(Float).label("rank")


def candidates(rows: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """The rows worth ranking: the first :window in deadline order."""
    return rows.order_by(literal_column("deadline_key"), literal_column("id")).limit(bindparam("window"))
