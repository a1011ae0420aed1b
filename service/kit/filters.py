"""SQL predicates shared by the list filters of several resources.

Each repeatable filter is an OR over its values; different filters are ANDed.
"""

from sqlalchemy import ColumnElement, func, literal_column, or_

# The text search configuration of every tsvector column (see the search_fold migration).
SEARCH_CONFIG_NAME = "english"
SEARCH_CONFIG = literal_column(f"'{SEARCH_CONFIG_NAME}'::regconfig")


def text_query(q: str) -> ColumnElement:
    """Web-search syntax ("quoted phrase", -exclusion, or), stemmed and accent-folded the
    same way the indexed text is, so "cooperacion" finds "cooperación"."""
    return func.websearch_to_tsquery(SEARCH_CONFIG, func.search_fold(q))


def matches_text(search_column, q: str) -> ColumnElement[bool]:
    return search_column.op("@@")(text_query(q))


def overlaps(array_column, values: list[str]) -> ColumnElement[bool]:
    return array_column.overlap(values)


def any_country(jsonb_column, countries: list[str]) -> ColumnElement[bool]:
    """Rows whose list of {"country": ...} objects (target markets, counterparts) names any
    of the countries; answered by a GIN jsonb_path_ops index."""
    return or_(*(jsonb_column.contains([{"country": c}]) for c in countries))
