"""Facet counts for a search: per kind, country, sector and language, each counted without its own
filter (so a UI can show "USA (12)" while Canada is selected).

Counting is exact while a search is narrow enough to count quickly. A broad search (the
planner expects more than EXACT_LIMIT opportunity rows to count) is counted on a block
sample of the opportunities, scaled up and flagged approximate: counting 600,000 open
opportunities exactly takes seconds, which no search box can wait for, and at that size
"about 120,000" tells a user what the exact figure would. Missions, a small table, are
always counted exactly.
"""

import json
import time
from collections import OrderedDict
from functools import lru_cache
from typing import Any, TypedDict

from sqlalchemy import Float, Select, String, and_, bindparam, func, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.models import Mission, Opportunity
from service.opportunities.schemas import Facets
from service.opportunities.search_conditions import (
    mission_facets,
    mission_filters,
    opportunity_facets,
    opportunity_filters,
)
from service.opportunities.search_plan import Shape

EXACT_LIMIT = 20_000
SAMPLED_MATCHES = 3_000  # matching rows a sample should hold, about...
MAX_SAMPLE_PERCENT = 1.0  # ...reading at most this share of the table's pages
FACET_VALUES = 50
FACETS = ("kind", "country", "sector", "language")
SAMPLE_PERCENT = bindparam("sample_percent", type_=Float)


# The statements here select columns by label, not entities.
Rows = Select[*tuple[Any, ...]]


class _Count(TypedDict):
    value: str
    count: int


def _flags(facets: dict[str, Any]) -> list[Any]:
    return [facets[name].label(f"in_{name}") for name in FACETS]


def _opportunity_rows(s: Shape, o: Any, weight: Any) -> Rows:
    """The opportunity rows some facet counts: those passing the non-facet filters and all
    facet filters but at most one (each facet ignores only its own)."""
    facets = opportunity_facets(s, o)
    all_but_one = or_(*(and_(*(facets[other] for other in FACETS if other != name)) for name in FACETS))
    return select(
        o.kind.label("kind"), o.countries.label("countries"), o.sectors.label("sectors"),
        o.language.label("language"), *_flags(facets), weight.label("weight"),
    ).where(*opportunity_filters(s, o), all_but_one)


def _mission_rows(s: Shape) -> Rows:
    m = Mission
    return select(
        literal("mission", String).label("kind"),
        # array's typing wants its elements and type_ of one type; they are a column and its SQL type.
        array[Any]([m.destination_country], type_=String).label("countries"),
        m.sectors.label("sectors"), m.language.label("language"), *_flags(mission_facets(s)),
        literal(1.0, Float).label("weight"),
    ).where(*mission_filters(s))


def _counts(opportunities: Rows, missions: Rows) -> Rows:
    """(facet, value, weighted count) over both."""
    c = union_all(opportunities, missions).cte("matched").c

    def others(name: str) -> list[Any]:
        return [c[f"in_{other}"] for other in FACETS if other != name]

    by_kind = select(literal("kind").label("facet"), c.kind.label("value"), c.weight).where(*others("kind"))
    countries = select(literal("country").label("facet"), func.unnest(c.countries).label("value"), c.weight).where(
        *others("country")
    )
    sectors = select(literal("sector").label("facet"), func.unnest(c.sectors).label("value"), c.weight).where(
        *others("sector")
    )
    languages = select(literal("language").label("facet"), c.language.label("value"), c.weight).where(
        c.language.isnot(None), *others("language")
    )
    values = union_all(by_kind, countries, sectors, languages).subquery("facet_values")
    return select(values.c.facet, values.c.value, func.sum(values.c.weight).label("count")).group_by(
        values.c.facet, values.c.value
    )


@lru_cache(maxsize=512)
def exact_statement(s: Shape) -> Rows:
    return _counts(_opportunity_rows(s, Opportunity, literal(1.0, Float)), _mission_rows(s))


@lru_cache(maxsize=512)
def sampled_statement(s: Shape) -> Rows:
    """Opportunities counted on a SYSTEM block sample of :sample_percent of the table, each
    sampled row standing for 100 / :sample_percent rows; missions counted exactly."""
    table = Opportunity.__table__.tablesample(func.system(SAMPLE_PERCENT), name="sample", seed=literal(7))
    sample = aliased(Opportunity, table)
    return _counts(_opportunity_rows(s, sample, literal(100.0, Float) / SAMPLE_PERCENT), _mission_rows(s))


@lru_cache(maxsize=512)
def _estimate_statement(s: Shape) -> Rows:
    return _opportunity_rows(s, Opportunity, literal(1.0, Float))


class Estimates:
    """Planner estimates by search, each for `seconds`, at most `size` of them: the least
    recently used goes first, so the searches being typed right now stay remembered."""

    def __init__(self, size: int, seconds: float) -> None:
        self.size, self.seconds = size, seconds
        self._entries: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def get(self, key: str) -> float | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, rows: float) -> None:
        self._entries[key] = (time.monotonic() + self.seconds, rows)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


# Planner estimates, by search, for a few minutes: asking costs a planning round trip, and
# the answer only moves when the table's statistics do.
estimates = Estimates(size=4096, seconds=300)


async def _expected_rows(session: AsyncSession, s: Shape, params: dict[str, Any]) -> float:
    key = json.dumps([repr(s), params], default=str, sort_keys=True)
    cached = estimates.get(key)
    if cached is not None:
        return cached
    rows = await _explain_rows(session, s, params)
    estimates.put(key, rows)
    return rows


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


def _rounded(count: float) -> int:
    """A scaled-up count, to two significant digits (it is an estimate)."""
    if count < 100:
        return max(1, round(count))
    digits = len(str(int(count))) - 2
    return int(round(count, -digits))


async def counts(session: AsyncSession, s: Shape, params: dict[str, Any]) -> Facets:
    expected = await _expected_rows(session, s, params)
    if expected <= EXACT_LIMIT:
        rows, approximate = await session.execute(exact_statement(s), params), False
    else:
        percent = min(MAX_SAMPLE_PERCENT, 100.0 * SAMPLED_MATCHES / expected)
        rows, approximate = await session.execute(sampled_statement(s), params | {"sample_percent": percent}), True
    found: dict[str, list[_Count]] = {name: [] for name in FACETS}
    for facet, value, count in rows:
        found[facet].append({"value": value, "count": _rounded(count) if approximate else int(count)})
    for values in found.values():
        values.sort(key=lambda v: (-v["count"], v["value"]))
        del values[FACET_VALUES:]
    return Facets(approximate=approximate, **found)
