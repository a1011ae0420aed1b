"""SQL predicates shared by the list filters of several resources.

Each repeatable filter is an OR over its values; different filters are ANDed.
"""

from typing import Any, cast

from sqlalchemy import ColumnElement, Text, func, literal, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute

from service.kit.languages import STEMMERS

# What the lists other than the opportunity search stem a text query in: every language
# PostgreSQL stems (their records are in any language, and they take no `lang`).
ALL_STEMMED = list(STEMMERS)


def text_query(q: Any, languages: Any = ALL_STEMMED) -> ColumnElement[Any]:
    """Web-search syntax ("quoted phrase", -exclusion, or), stemmed in each of the languages
    and kept exact too (the search_query migration), accent-folded as the indexed text is,
    so "cooperacion" finds "cooperación"."""
    if isinstance(languages, list):
        languages = literal(languages, ARRAY(Text))
    return func.search_query(languages, q)


def matches_text(search_column: InstrumentedAttribute[Any], q: str) -> ColumnElement[bool]:
    return search_column.op("@@")(text_query(q))


def overlaps(array_column: InstrumentedAttribute[list[str]], values: list[str]) -> ColumnElement[bool]:
    # overlap() comes from the ARRAY type's comparator, which the attribute forwards untyped.
    return cast(ColumnElement[bool], array_column.overlap(values))


def any_country(jsonb_column: InstrumentedAttribute[list[dict[str, Any]]], countries: list[str]) -> ColumnElement[bool]:
    """Rows whose list of {"country": ...} objects (target markets, counterparts) names any
    of the countries; answered by a GIN jsonb_path_ops index."""
    return or_(*(jsonb_column.contains([{"country": c}]) for c in countries))
