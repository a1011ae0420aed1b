"""Facet counts for a search: per kind, country, sector and language, each counted without its own
filter (so a UI can show "USA (12)" while Canada is selected).

Counting is exact while a search is narrow enough to count quickly. A broad search (the
planner expects more than EXACT_LIMIT opportunity rows to count) is counted on a block
sample of the opportunities, scaled up and flagged approximate, each count with its margin
(the answer states how far off it may be): counting 600,000 open opportunities exactly
takes seconds, which no search box can wait for, and at that size "about 120,000 ± 11,000"
tells a user what the exact figure would. Missions, a small table, are always counted
exactly.

A search's counts are then reused for FRESH_SECONDS, for every page and sort of it: the
answer says when they were counted (`counted_at`), so they are exact as of then.
"""

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from statistics import NormalDist
from typing import Any, TypedDict, TypeVar

from cachetools import TTLCache
from sqlalchemy import Float, Select, String, and_, bindparam, func, literal, null, or_, select, text, union_all
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.models import Mission, Opportunity
from service.opportunities.schemas import FACETS_CONFIDENCE, FACETS_FRESH_SECONDS, Facets
from service.opportunities.search_conditions import (
    mission_facets,
    mission_filters,
    opportunity_facets,
    opportunity_filters,
)
from service.opportunities.search_plan import Shape

V = TypeVar("V")

# Exact counting reads every row the search's other filters let through (an open search
# walks all open opportunities in the deadline index, the facet filters cannot narrow that
# walk), where the page stops at fifty: for 7,000 expected rows out of 100,000 opportunities
# it took 45 ms of PostgreSQL time against the page's few, and a first ask cost 7x the same
# search without facets. Past this limit a sample (1% of the table, at most SAMPLED_ROWS
# rows: 2 to 5 ms) answers, with margins, within 2x. Below it counts stay exact: small
# counts are what a sample's margins would swamp, though an open search may still walk the
# whole open range of the index for them.
EXACT_LIMIT = 2_000
SAMPLED_MATCHES = 3_000  # matching rows a sample should hold, about...
MAX_SAMPLE_PERCENT = 1.0  # ...reading at most this share of the table's pages...
# ...and at most about this many of its rows: a sample's cost is the rows it reads (1 ms a
# thousand), so past 400,000 opportunities a share of the table would cost a first ask more
# than 2x the page (1% of 1,000,000 took 11 ms, 2.3x). Larger tables get wider margins.
SAMPLED_ROWS = 4_000
FACET_VALUES = 50
SAMPLE_PERCENT = bindparam("sample_percent", type_=Float)

def _known(language: Any) -> Any:
    return func.array_remove(array[Any]([language], type_=String), null())


# The facets, and per facet the values an opportunity (o) and a mission (m) are counted
# under, as arrays (a row counts once under each of its values). A facet's filter is its
# entry in search_conditions.opportunity_facets and mission_facets; adding a facet is one
# line here, and everything below counts it.
VALUES_OF: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "kind": (lambda o: array[Any]([o.kind]), lambda m: array[Any]([literal("mission", String)])),
    "country": (lambda o: o.countries, lambda m: array[Any]([m.destination_country], type_=String)),
    "sector": (lambda o: o.sectors, lambda m: m.sectors),
    # A record whose language is unknown (null) is counted under none.
    "language": (lambda o: _known(o.language), lambda m: _known(m.language)),
}
FACETS = tuple(VALUES_OF)


# The statements here select columns by label, not entities.
Rows = Select[*tuple[Any, ...]]


class _Count(TypedDict):
    value: str
    count: int
    margin: int | None


# The two-sided normal quantile of the stated confidence (1.96 for 95%).
Z = NormalDist().inv_cdf((1 + FACETS_CONFIDENCE) / 2)


def _columns(conditions: dict[str, Any], values: dict[str, Any], weight: Any, sampled: int = 0) -> list[Any]:
    """Per facet its values and whether its own filter passes; the row's weight, and 1 if it
    was drawn in a sample (the margins of the counts are the sample's)."""
    flags = [conditions[name].label(f"in_{name}") for name in FACETS]
    return [*(values[name].label(f"values_{name}") for name in FACETS), *flags, weight.label("weight"), literal(sampled).label("sampled")]


def _all_but_one(conditions: dict[str, Any]) -> Any:
    """Rows some facet counts: those passing every facet filter but at most one (each facet
    ignores only its own)."""
    return or_(*(and_(*(conditions[other] for other in FACETS if other != name)) for name in FACETS))


def _opportunity_rows(s: Shape, o: Any, weight: Any, sampled: int = 0) -> Rows:
    facets = opportunity_facets(s, o)
    values = {name: of_opportunity(o) for name, (of_opportunity, _) in VALUES_OF.items()}
    return select(*_columns(facets, values, weight, sampled)).where(*opportunity_filters(s, o), _all_but_one(facets))


def _mission_rows(s: Shape) -> Rows:
    values = {name: of_mission(Mission) for name, (_, of_mission) in VALUES_OF.items()}
    return select(*_columns(mission_facets(s), values, literal(1.0, Float))).where(*mission_filters(s))


def _counts(opportunities: Rows, missions: Rows) -> Rows:
    """(facet, value, weighted count, sampled rows counted) over both, in one pass over the
    matching rows: they are read once into `matched`, and each facet counts those passing
    the other facets' filters."""
    c = union_all(opportunities, missions).cte("matched").c
    per_facet = []
    for name in FACETS:
        value = func.unnest(c[f"values_{name}"]).label("value")
        others = (c[f"in_{other}"] for other in FACETS if other != name)
        per_facet.append(select(literal(name).label("facet"), value, c.weight, c.sampled).where(*others))
    values = union_all(*per_facet).subquery("facet_values")
    v = values.c
    return select(v.facet, v.value, func.sum(v.weight).label("count"), func.sum(v.sampled).label("seen")).group_by(v.facet, v.value)


@lru_cache(maxsize=512)
def exact_statement(s: Shape) -> Rows:
    return _counts(_opportunity_rows(s, Opportunity, literal(1.0, Float)), _mission_rows(s))


@lru_cache(maxsize=512)
def sampled_statement(s: Shape) -> Rows:
    """Opportunities counted on a SYSTEM block sample of :sample_percent of the table, each
    sampled row standing for 100 / :sample_percent rows; missions counted exactly."""
    table = Opportunity.__table__.tablesample(func.system(SAMPLE_PERCENT), name="sample", seed=literal(7))
    sample = aliased(Opportunity, table)
    return _counts(_opportunity_rows(s, sample, literal(100.0, Float) / SAMPLE_PERCENT, sampled=1), _mission_rows(s))


@lru_cache(maxsize=512)
def _estimate_statement(s: Shape) -> Rows:
    return _opportunity_rows(s, Opportunity, literal(1.0, Float))


# Planner estimates, by search, for a few minutes: asking costs a planning round trip, and
# the answer only moves when the table's statistics do.
estimates: TTLCache[str, float] = TTLCache(maxsize=4096, ttl=300)

# Facet counts, by search, for FRESH_SECONDS: a search is paged through and re-sorted with
# the same counts, and a popular one asked by many at once; counting costs several times
# the page (it reads every match, the page stops at fifty). The answer states when it
# counted (Facets.counted_at), so a client knows how old the counts may be.
FRESH_SECONDS = FACETS_FRESH_SECONDS
recent_counts: TTLCache[str, Facets] = TTLCache(maxsize=1024, ttl=FRESH_SECONDS)
# Parameters of the page, not of the search: its size, the relevance window, the cursor.
PAGE_PARAMETERS = frozenset({"limit", "window", "after_value", "after_id"})


def search_key(s: Shape, params: dict[str, Any]) -> str:
    """The search as its counts depend on it: neither sort nor page, and repeated filter
    values as a set (country=US&country=CA is country=CA&country=US)."""
    shape = replace(s, sort="", after_cursor=False)
    values = {k: sorted(set(v)) if isinstance(v, list) else v for k, v in params.items() if k not in PAGE_PARAMETERS}
    return json.dumps([repr(shape), values], default=str, sort_keys=True)


async def _remembered(cache: TTLCache[str, V], key: str, compute: Callable[[], Awaitable[V]]) -> V:
    """cache[key] while it lasts, else compute() remembered under key. (cachetools' own
    decorators call synchronously; these values are awaited.)"""
    value = cache.get(key)
    if value is None:
        value = cache[key] = await compute()
    return value


async def _expected_rows(session: AsyncSession, s: Shape, params: dict[str, Any]) -> float:
    return await _remembered(estimates, search_key(s, params), lambda: _explain_rows(session, s, params))


async def _explain_rows(session: AsyncSession, s: Shape, params: dict[str, Any]) -> float:
    """The planner's estimate of how many opportunity rows the facets would count."""
    connection = await session.connection()
    compiled = _estimate_statement(s).compile(dialect=connection.dialect)
    values = compiled.construct_params(params)
    sql = "EXPLAIN (FORMAT JSON) " + str(compiled)
    # asyncpg binds by position: the compiled statement always has the order.
    positions = compiled.positiontup or ()
    plan = (await connection.exec_driver_sql(sql, tuple(values[name] for name in positions))).scalar_one()
    return float((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])


def sample_percent(expected: float, table_rows: float) -> float:
    """The share of the table to sample, in percent: enough for about SAMPLED_MATCHES of the
    expected matches, within MAX_SAMPLE_PERCENT and SAMPLED_ROWS (a table not yet analyzed,
    -1 rows, is not held to the latter)."""
    return min(MAX_SAMPLE_PERCENT, 100.0 * SAMPLED_MATCHES / expected, 100.0 * SAMPLED_ROWS / max(1.0, table_rows))


async def _table_rows(session: AsyncSession) -> float:
    """The statistics' count of opportunities (-1 before the table is first analyzed)."""
    table = Opportunity.__tablename__
    sql = text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)")
    return float((await session.execute(sql, {"table": table})).scalar_one())


def _rounded(count: float) -> int:
    """A scaled-up count, to two significant digits (it is an estimate)."""
    if count < 100:
        return max(1, round(count))
    digits = len(str(int(count))) - 2
    return int(round(count, -digits))


def margin(seen: int, fraction: float) -> float:
    """The sampling error, at FACETS_CONFIDENCE, of a count scaled up from n = `seen` rows of
    a sample, each row drawn with probability `fraction`. n is binomial, variance
    m (1 - fraction) for a true m; the m with |n - m| <= Z sqrt(m (1 - fraction)) (Wilson's
    interval; the plain n ± Z sqrt(n (1 - fraction)) falls short when few rows are seen) lie
    within n + c/2 ± sqrt(c (n + c/4)), c = Z² (1 - fraction): the margin is the farther end,
    scaled by 1 / fraction. (Missions, counted exactly, add no error.)"""
    c = Z * Z * (1 - fraction)
    return (c / 2 + math.sqrt(c * (seen + c / 4))) / fraction


def _counted(value: str, count: float, seen: int, fraction: float | None) -> _Count:
    """An exact count (no fraction), or one scaled up from a sample of `fraction` of the rows,
    rounded, its margin covering the rounding too."""
    if fraction is None:
        return {"value": value, "count": int(count), "margin": None}
    rounded = _rounded(count)
    return {"value": value, "count": rounded, "margin": math.ceil(margin(seen, fraction) + abs(rounded - count))}


async def counts(session: AsyncSession, s: Shape, params: dict[str, Any], reuse: bool = True) -> Facets:
    """The facets of a search: as counted within the last FRESH_SECONDS, else counted now
    (always now unless reuse: SEARCH__REUSE_FACETS)."""
    if not reuse:
        return await _count(session, s, params)
    return await _remembered(recent_counts, search_key(s, params), lambda: _count(session, s, params))


async def _count(session: AsyncSession, s: Shape, params: dict[str, Any]) -> Facets:
    counted_at = datetime.now(UTC)
    expected = await _expected_rows(session, s, params)
    percent = 100.0  # of the table read
    if expected <= EXACT_LIMIT:
        rows, approximate = await session.execute(exact_statement(s), params), False
    else:
        percent = sample_percent(expected, await _remembered(estimates, "table rows", lambda: _table_rows(session)))
        rows, approximate = await session.execute(sampled_statement(s), params | {"sample_percent": percent}), True
    found: dict[str, list[_Count]] = {name: [] for name in FACETS}
    for facet, value, count, seen in rows:
        found[facet].append(_counted(value, count, seen, percent / 100 if approximate else None))
    for values in found.values():
        values.sort(key=lambda v: (-v["count"], v["value"]))
        del values[FACET_VALUES:]
    return Facets(approximate=approximate, counted_at=counted_at, **found)
