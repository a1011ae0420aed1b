"""The opportunity search: posted opportunities and missions taking applications, in one
ranked, filtered, faceted list. All SQL of the search is here.

Shape of the query: one branch per table (opportunities, missions) projecting the same
columns, each ordered and cut to the page before the two are merged, so every branch walks
its own index (deadline, created_at, or the text index) and stops early.

Relevance: ranking every match of a common word would read a third of the table, so the
text match first takes candidates in deadline order (at most RELEVANCE_WINDOW per branch,
straight off the deadline index) and only those are ranked. A query matching fewer rows
than the window (most real queries) is ranked exactly; a very common word ranks the
RELEVANCE_WINDOW soonest-closing matches, and paging by relevance ends there.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, Select, String, false, func, literal, literal_column, or_, select, true, tuple_, union_all
from sqlalchemy.dialects.postgresql import array

from service.errors import InvalidInput
from service.kit.filters import text_query
from service.kit.pagination import Cursor, Sort, SortField, decode_cursor, parse_sort
from service.missions import status as mission_status
from service.models import Cluster, Mission, MissionOrganiser, Opportunity, Partnership
from service.models.opportunity import deadline_key
from service.opportunities.repository import is_open
from service.opportunities.schemas import SearchQuery

RELEVANCE_WINDOW = 1000
SUMMARY_CHARS = 300

# Sort fields name columns of the branches. The API's sort tokens and what they mean:
SORTS = {
    "rank": SortField(literal_column("rank"), float),
    "deadline": SortField(literal_column("deadline_key"), date),
    "created": SortField(literal_column("created_at"), datetime),
}
SORT_TOKENS = {"relevance": "-rank", "deadline": "deadline", "-created": "-created"}


@dataclass(frozen=True)
class Plan:
    """A parsed search: the query, its sort, its cursor, and the day it runs on."""

    query: SearchQuery
    sort: Sort
    cursor: Cursor | None
    today: date

    @property
    def wants_opportunities(self) -> bool:
        return not self.query.kind or any(k != "mission" for k in self.query.kind)

    @property
    def wants_missions(self) -> bool:
        return not self.query.kind or "mission" in self.query.kind


def plan(query: SearchQuery, today: date) -> Plan:
    token = query.sort or ("relevance" if query.q else "deadline")
    if token not in SORT_TOKENS:
        raise InvalidInput.field("query.sort", f"sort by one of: {', '.join(SORT_TOKENS)}")
    if token == "relevance" and not query.q:
        raise InvalidInput.field("query.sort", "sorting by relevance needs q")
    sort = parse_sort(SORT_TOKENS[token], SORTS, default=SORT_TOKENS[token])
    cursor = decode_cursor(query.cursor, sort, uuid.UUID) if query.cursor else None
    return Plan(query, sort, cursor, today)


# Filters of each branch ------------------------------------------------------------------


def _ids_of(model, slugs: list[str]):
    return select(model.id).where(model.slug.in_(slugs)).scalar_subquery()


def _opportunity_filters(p: Plan) -> list:
    """Conditions that are not facets: text, open, deadline range, poster."""
    q, o = p.query, Opportunity
    conditions = []
    if q.q:
        conditions.append(o.search.op("@@")(text_query(q.q)))
    if q.open:
        conditions.append(is_open(p.today))
    if q.deadline_after:
        conditions.append(o.deadline >= q.deadline_after)
    if q.deadline_before:
        conditions.append(o.deadline <= q.deadline_before)
    if q.cluster:
        conditions.append(o.posted_by_cluster_id.in_(_ids_of(Cluster, q.cluster)))
    if q.partnership:
        conditions.append(o.posted_by_partnership_id.in_(_ids_of(Partnership, q.partnership)))
    return conditions


def _opportunity_facets(p: Plan) -> dict[str, Any]:
    """Per facet, the condition its filter puts on opportunities (true when not filtered)."""
    q, o = p.query, Opportunity
    return {
        "kind": o.kind.in_([k for k in q.kind if k != "mission"]) if q.kind else true(),
        "country": o.countries.overlap(q.country) if q.country else true(),
        "sector": o.sectors.overlap(q.sector) if q.sector else true(),
    }


def _organised_by(model, slugs: list[str]):
    column = MissionOrganiser.cluster_id if model is Cluster else MissionOrganiser.partnership_id
    return Mission.id.in_(select(MissionOrganiser.mission_id).where(column.in_(_ids_of(model, slugs))))


def _mission_filters(p: Plan) -> list:
    q, m = p.query, Mission
    has_window = or_(m.applications_open_on.isnot(None), m.application_deadline.isnot(None))
    conditions = [mission_status.applications_open(p.today) if q.open else has_window]
    if q.q:
        conditions.append(m.search.op("@@")(text_query(q.q)))
    if q.deadline_after:
        conditions.append(m.application_deadline >= q.deadline_after)
    if q.deadline_before:
        conditions.append(m.application_deadline <= q.deadline_before)
    if q.cluster:
        conditions.append(_organised_by(Cluster, q.cluster))
    if q.partnership:
        conditions.append(_organised_by(Partnership, q.partnership))
    return conditions


def _mission_facets(p: Plan) -> dict[str, Any]:
    q, m = p.query, Mission
    return {
        "kind": true() if not q.kind or "mission" in q.kind else false(),
        "country": m.destination_country.in_(q.country) if q.country else true(),
        "sector": m.sectors.overlap(q.sector) if q.sector else true(),
    }


# The page ---------------------------------------------------------------------------------


def _opportunity_rows(p: Plan) -> Select:
    o = Opportunity
    columns = [
        o.kind.label("kind"), o.id.label("id"), o.title.label("title"), o.summary.label("summary"),
        o.countries.label("countries"), o.sectors.label("sectors"), o.deadline.label("deadline"),
        deadline_key(o.deadline).label("deadline_key"), o.created_at.label("created_at"),
        o.posted_by_cluster_id.label("cluster_id"), o.posted_by_partnership_id.label("partnership_id"),
        o.poster_name.label("organisation"),
    ]
    if p.query.q:
        columns.append(func.ts_rank(o.search, text_query(p.query.q)).cast(Float).label("rank"))
    facets = _opportunity_facets(p).values()
    return select(*columns).where(*_opportunity_filters(p), *facets)


def _first_organiser(column):
    return (
        select(column).where(MissionOrganiser.mission_id == Mission.id, column.isnot(None))
        .order_by(MissionOrganiser.position).limit(1).scalar_subquery()
    )


def _mission_rows(p: Plan) -> Select:
    m = Mission
    columns = [
        literal("mission", String).label("kind"), m.id.label("id"), m.title.label("title"),
        func.left(m.description, SUMMARY_CHARS).label("summary"),
        array([m.destination_country], type_=String).label("countries"), m.sectors.label("sectors"),
        m.application_deadline.label("deadline"), deadline_key(m.application_deadline).label("deadline_key"),
        m.created_at.label("created_at"),
        _first_organiser(MissionOrganiser.cluster_id).label("cluster_id"),
        _first_organiser(MissionOrganiser.partnership_id).label("partnership_id"),
        m.external_organiser.label("organisation"),
    ]
    if p.query.q:
        columns.append(func.ts_rank(m.search, text_query(p.query.q)).cast(Float).label("rank"))
    return select(*columns).where(*_mission_filters(p), *_mission_facets(p).values())


def _in_order(rows: Select, p: Plan, limit: int) -> Select:
    """rows (a select of branch columns) in the sort's order, after the cursor, cut to limit."""
    table = rows.subquery()
    key, row_id = table.c[p.sort.field.column.name], table.c.id
    stmt = select(table)
    if p.cursor is not None:
        last = tuple_(literal(p.cursor.value), literal(p.cursor.id))
        stmt = stmt.where(tuple_(key, row_id) < last if p.sort.descending else tuple_(key, row_id) > last)
    order = (key.desc(), row_id.desc()) if p.sort.descending else (key.asc(), row_id.asc())
    return stmt.order_by(*order).limit(limit)


def _branch(rows: Select, p: Plan, limit: int) -> Select:
    if p.sort.name == "rank":
        # Candidates straight off the deadline index; only they are ranked.
        candidates = rows.order_by(literal_column("deadline_key"), literal_column("id")).limit(RELEVANCE_WINDOW)
        return _in_order(candidates, p, limit)
    return _in_order(rows, p, limit)


def page_statement(p: Plan, limit: int) -> Select:
    """The page (limit rows) with the organiser of each row, in the sort's order."""
    branches = []
    if p.wants_opportunities:
        branches.append(_branch(_opportunity_rows(p), p, limit))
    if p.wants_missions:
        branches.append(_branch(_mission_rows(p), p, limit))
    page = _in_order(union_all(*branches), p, limit).subquery("page")
    key, row_id = page.c[p.sort.field.column.name], page.c.id
    order = (key.desc(), row_id.desc()) if p.sort.descending else (key.asc(), row_id.asc())
    return (
        select(
            page,
            Cluster.slug.label("cluster_slug"), Cluster.name.label("cluster_name"),
            Partnership.slug.label("partnership_slug"), Partnership.acronym.label("partnership_acronym"),
        )
        .outerjoin(Cluster, Cluster.id == page.c.cluster_id)
        .outerjoin(Partnership, Partnership.id == page.c.partnership_id)
        .order_by(*order)
    )


# Facets -----------------------------------------------------------------------------------


def facets_statement(p: Plan) -> Select:
    """(facet, value, count) for kind, country and sector. Each facet counts the rows that
    pass every other filter, so a selected value does not hide its siblings."""
    o, m = Opportunity, Mission

    def flags(facets: dict[str, Any]) -> list:
        return [facets[name].label(f"in_{name}") for name in ("kind", "country", "sector")]

    # Both tables always count, whatever the kind filter: kind is itself a facet.
    opportunities = select(
        o.kind.label("kind"), o.countries.label("countries"), o.sectors.label("sectors"), *flags(_opportunity_facets(p)),
    ).where(*_opportunity_filters(p))
    missions = select(
        literal("mission", String).label("kind"), array([m.destination_country], type_=String).label("countries"),
        m.sectors.label("sectors"), *flags(_mission_facets(p)),
    ).where(*_mission_filters(p))
    matched = union_all(opportunities, missions).cte("matched")
    c = matched.c
    by_kind = select(literal("kind").label("facet"), c.kind.label("value")).where(c.in_country, c.in_sector)
    countries = select(literal("country").label("facet"), func.unnest(c.countries).label("value")).where(c.in_kind, c.in_sector)
    sectors = select(literal("sector").label("facet"), func.unnest(c.sectors).label("value")).where(c.in_kind, c.in_country)
    values = union_all(by_kind, countries, sectors).subquery("facet_values")
    return select(values.c.facet, values.c.value, func.count().label("count")).group_by(values.c.facet, values.c.value)
