"""SQL predicates shared by the list filters of several resources.

Each repeatable filter is an OR over its values; different filters are ANDed.
"""

from typing import Any, cast

from sqlalchemy import ColumnElement, func, literal_column, or_
from sqlalchemy.orm import InstrumentedAttribute

# The text search configuration of every tsvector column (see the search_fold migration).
SEARCH_CONFIG_NAME = "english"
SEARCH_CONFIG: ColumnElement[Any] = literal_column(f"'{SEARCH_CONFIG_NAME}'::regconfig")


def text_query(q: str) -> ColumnElement[Any]:
    """Web-search syntax ("quoted phrase", -exclusion, or), stemmed and accent-folded the
    same way the indexed text is, so "cooperacion" finds "cooperación"."""
    return func.websearch_to_tsquery(SEARCH_CONFIG, func.search_fold(q))


def matches_text(search_column: InstrumentedAttribute[Any], q: str) -> ColumnElement[bool]:
    return search_column.op("@@")(text_query(q))


def overlaps(array_column: InstrumentedAttribute[list[str]], values: list[str]) -> ColumnElement[bool]:
    # overlap() comes from the ARRAY type's comparator, which the attribute forwards untyped.
    return cast(ColumnElement[bool], array_column.overlap(values))


def any_country(jsonb_column: InstrumentedAttribute[list[dict[str, Any]]], countries: list[str]) -> ColumnElement[bool]:
    """Rows whose list of {"country": ...} objects (target markets, counterparts) names any
    of the countries; answered by a GIN jsonb_path_ops index."""
    return or_(*(jsonb_column.contains([{"country": c}]) for c in countries))
