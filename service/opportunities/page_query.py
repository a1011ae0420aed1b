"""The SQL of a search page: posted opportunities and missions taking applications in one
ranked, filtered list.

Shape of the query: one branch per table (opportunities, missions) projecting the same
columns, each ordered and cut to the page before the two are merged, so every branch walks
its own index (deadline, created_at, or the text index) and stops early. Ordering and the
seek past a cursor are kit/pagination's, on the branches' columns.
"""

import uuid
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    bindparam,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit.driver import CompiledStatement, driver_connection, fetch
from service.kit.pagination import keyset_order, seek_after
from service.models import Cluster, Mission, MissionOrganiser, Opportunity, Partnership
from service.models.opportunity import deadline_key
from service.opportunities import ranking
from service.opportunities.search_conditions import (
    AFTER_ID,
    QUERY,
    mission_facets,
    mission_filters,
    opportunity_facets,
    opportunity_filters,
)
from service.opportunities.search_plan import Plan, Shape, sort_of

SUMMARY_CHARS = 300

# The statements here select columns by label, not entities.
Rows = Select[*tuple[Any, ...]]

# The columns of both branches, in the order UNION ALL needs.
BRANCH_COLUMNS = (
    "kind", "id", "title", "summary", "countries", "sectors", "language", "deadline", "deadline_key", "created_at",
    "cluster_id", "partnership_id", "organisation", "rank",
)


def _opportunity_rows(s: Shape) -> Rows:
    o = Opportunity
    columns: list[ColumnElement[Any]] = [
        o.kind.label("kind"), o.id.label("id"), o.title.label("title"), o.summary.label("summary"),
        o.countries.label("countries"), o.sectors.label("sectors"), o.language.label("language"), o.deadline.label("deadline"),
        deadline_key(o.deadline).label("deadline_key"), o.created_at.label("created_at"),
        o.posted_by_cluster_id.label("cluster_id"), o.posted_by_partnership_id.label("partnership_id"),
        o.poster_name.label("organisation"),
    ]
    if s.text:
        columns.append(ranking.rank(o.search, QUERY))
    return select(*columns).where(*opportunity_filters(s), *opportunity_facets(s).values())


def _mission_rows(s: Shape) -> Rows:
    m = Mission
    columns: list[ColumnElement[Any]] = [
        literal("mission", String).label("kind"), m.id.label("id"), m.title.label("title"),
        func.left(m.description, SUMMARY_CHARS).label("summary"),
        # array's typing wants its elements and type_ of one type; they are a column and its SQL type.
        array[Any]([m.destination_country], type_=String).label("countries"), m.sectors.label("sectors"),
        m.language.label("language"), m.application_deadline.label("deadline"), deadline_key(m.application_deadline).label("deadline_key"),
        m.created_at.label("created_at"), m.external_organiser.label("organisation"),
    ]
    if s.text:
        columns.append(ranking.rank(m.search, QUERY))
    return select(*columns).where(*mission_filters(s), *mission_facets(s).values())


def _first_organiser(column: Any, mission_id: Any) -> Any:
    return (
        select(column).where(MissionOrganiser.mission_id == mission_id, column.isnot(None))
        .order_by(MissionOrganiser.position).limit(1).scalar_subquery()
    )


def _with_organisers(missions: Rows) -> Rows:
    """A page of mission rows with their first organising cluster and partnership, looked up
    for the page's rows only."""
    page = missions.subquery()
    looked_up = {
        "cluster_id": _first_organiser(MissionOrganiser.cluster_id, page.c.id),
        "partnership_id": _first_organiser(MissionOrganiser.partnership_id, page.c.id),
    }
    return select(*(
        looked_up[name].label(name) if name in looked_up else page.c[name]
        for name in BRANCH_COLUMNS if name in looked_up or name in page.c
    ))


def _order(table: Any, s: Shape) -> tuple[Any, ...]:
    # The branches' sort keys are never null (deadline_key puts open-ended last itself).
    sort = sort_of(s)
    return keyset_order(sort, table.c[sort.field.column.name], table.c.id, nulls_last=False)


def _in_order(rows: Rows | CompoundSelect[*tuple[Any, ...]], s: Shape) -> Rows:
    """rows (a select of branch columns) in the sort's order, after the cursor, cut to :limit."""
    sort = sort_of(s)
    table = rows.subquery()
    stmt = select(table)
    if s.after_cursor:
        key = table.c[sort.field.column.name]
        stmt = stmt.where(seek_after(sort, key, table.c.id, bindparam("after_value", type_=key.type), AFTER_ID))
    return stmt.order_by(*_order(table, s)).limit(bindparam("limit"))


def _branch(rows: Rows, s: Shape) -> Rows:
    return _in_order(ranking.candidates(rows) if s.sort == "-rank" else rows, s)


@lru_cache(maxsize=512)
def page_statement(s: Shape) -> Rows:
    """The page (:limit rows) with the organiser of each row, in the sort's order."""
    branches = []
    if s.wants_opportunities:
        branches.append(_branch(_opportunity_rows(s), s))
    if s.wants_missions:
        branches.append(_with_organisers(_branch(_mission_rows(s), s)))
    page = _in_order(union_all(*branches), s).subquery("page")
    return (
        select(
            page,
            Cluster.slug.label("cluster_slug"), Cluster.name.label("cluster_name"),
            Partnership.slug.label("partnership_slug"), Partnership.acronym.label("partnership_acronym"),
        )
        .outerjoin(Cluster, Cluster.id == page.c.cluster_id)
        .outerjoin(Partnership, Partnership.id == page.c.partnership_id)
        .order_by(*_order(page, s))
    )


@lru_cache(maxsize=512)
def _compiled_page(s: Shape) -> CompiledStatement:
    return CompiledStatement(page_statement(s))


async def page_rows(session: AsyncSession, p: Plan) -> list[asyncpg.Record]:
    """The page's rows (p's :limit of them at most), in order, as the driver returns them:
    compiled once per shape and run on the driver (kit/driver), the ORM would only add cost."""
    if p.shape.value_dependent:
        # Prepared statements are reused with generic plans after a few runs, but the best
        # plan for these depends on the values. Plan them for their values every time.
        await (await driver_connection(session)).execute("SET LOCAL plan_cache_mode = force_custom_plan")
    return await fetch(session, _compiled_page(p.shape), p.params)


async def descriptions(
    session: AsyncSession, opportunity_ids: list[uuid.UUID], mission_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str | None]:
    """id -> full description, of the given opportunities and missions."""
    found: dict[uuid.UUID, str | None] = {}
    for model, wanted in ((Opportunity, opportunity_ids), (Mission, mission_ids)):
        if wanted:
            found |= dict((await session.execute(select(model.id, model.description).where(model.id.in_(wanted)))).all())
    return found
