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

Statements are built once per *shape* of search (which filters are present, the sort) with
every value a bound parameter, and reused: building and compiling a statement of this size
costs more than running it.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    Select,
    String,
    Uuid,
    bindparam,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, array

from service.errors import InvalidInput
from service.kit.filters import SEARCH_CONFIG
from service.kit.pagination import Cursor, Sort, SortField, decode_cursor, parse_sort
from service.missions import status as mission_status
from service.models import Cluster, Mission, MissionOrganiser, Opportunity, Partnership
from service.models.opportunity import deadline_key
from service.opportunities.repository import is_open
from service.opportunities.schemas import SearchQuery

RELEVANCE_WINDOW = 1000
SUMMARY_CHARS = 300
OPPORTUNITY_KINDS = ("partner-search", "cooperation-offer", "cooperation-request", "call", "event")

# Sort fields name columns of the branches. The API's sort tokens and what they mean:
SORTS = {
    "rank": SortField(literal_column("rank"), float),
    "deadline": SortField(literal_column("deadline_key"), date),
    "created": SortField(literal_column("created_at"), datetime),
}
SORT_TOKENS = {"relevance": "-rank", "deadline": "deadline", "-created": "-created"}
CURSOR_SCOPE = "opportunity search"  # the sort columns are the branches', not a table's

# The parameters of every statement.
TODAY = bindparam("today", type_=Date)
QUERY = func.websearch_to_tsquery(SEARCH_CONFIG, func.search_fold(bindparam("q", type_=String)))
KINDS = bindparam("kinds", type_=ARRAY(String))
COUNTRIES = bindparam("countries", type_=ARRAY(String))
SECTORS = bindparam("sectors", type_=ARRAY(String))
CLUSTERS = bindparam("clusters", type_=ARRAY(String))
PARTNERSHIPS = bindparam("partnerships", type_=ARRAY(String))
DEADLINE_AFTER = bindparam("deadline_after", type_=Date)
DEADLINE_BEFORE = bindparam("deadline_before", type_=Date)
AFTER_ID = bindparam("after_id", type_=Uuid)


@dataclass(frozen=True)
class Shape:
    """What a search's SQL depends on, apart from values."""

    text: bool
    kinds: tuple[str, ...]  # the kind filter, sorted; () when absent
    country: bool
    sector: bool
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


@dataclass(frozen=True)
class Plan:
    """A parsed search: its shape and the values of its parameters."""

    shape: Shape
    sort: Sort
    params: dict[str, Any]


def plan(query: SearchQuery, today: date, limit: int) -> Plan:
    token = query.sort or ("relevance" if query.q else "deadline")
    if token not in SORT_TOKENS:
        raise InvalidInput.field("query.sort", f"sort by one of: {', '.join(SORT_TOKENS)}")
    if token == "relevance" and not query.q:
        raise InvalidInput.field("query.sort", "sorting by relevance needs q")
    sort = parse_sort(SORT_TOKENS[token], SORTS, default=SORT_TOKENS[token])
    cursor: Cursor | None = decode_cursor(query.cursor, sort, uuid.UUID, CURSOR_SCOPE) if query.cursor else None
    shape = Shape(
        text=bool(query.q), kinds=tuple(sorted(set(query.kind))), country=bool(query.country),
        sector=bool(query.sector), deadline_after=query.deadline_after is not None,
        deadline_before=query.deadline_before is not None, open=query.open, cluster=bool(query.cluster),
        partnership=bool(query.partnership), sort=sort.token, after_cursor=cursor is not None,
    )
    params = {
        "today": today, "q": query.q, "kinds": [k for k in query.kind if k != "mission"], "countries": query.country,
        "sectors": query.sector, "clusters": query.cluster, "partnerships": query.partnership,
        "deadline_after": query.deadline_after, "deadline_before": query.deadline_before,
        "limit": limit, "window": RELEVANCE_WINDOW,
    }
    if cursor is not None:
        params |= {"after_value": cursor.value, "after_id": cursor.id}
    return Plan(shape, sort, {k: v for k, v in params.items() if v is not None})


# Conditions of each branch -----------------------------------------------------------------


def _ids_of(model, slugs):
    return select(model.id).where(model.slug == func.any(slugs)).scalar_subquery()


def _opportunity_filters(s: Shape, o=Opportunity) -> list:
    """Conditions that are not facets: text, open, deadline range, poster. o is the table,
    or a sample of it (facets of broad searches)."""
    conditions = []
    if s.text:
        conditions.append(o.search.op("@@")(QUERY))
    if s.open:
        # Implied by is_open, but stated on the indexed sort key so that a walk in deadline
        # order starts at today instead of stepping over every past deadline.
        conditions += [is_open(TODAY, o), deadline_key(o.deadline) >= TODAY]
    if s.deadline_after:
        conditions.append(o.deadline >= DEADLINE_AFTER)
    if s.deadline_before:
        conditions.append(o.deadline <= DEADLINE_BEFORE)
    if s.cluster:
        conditions.append(o.posted_by_cluster_id.in_(_ids_of(Cluster, CLUSTERS)))
    if s.partnership:
        conditions.append(o.posted_by_partnership_id.in_(_ids_of(Partnership, PARTNERSHIPS)))
    return conditions


def _opportunity_facets(s: Shape, o=Opportunity) -> dict[str, Any]:
    """Per facet, the condition its filter puts on opportunities (true when not filtered)."""
    return {
        "kind": o.kind == func.any(KINDS) if s.kinds else true(),
        "country": o.countries.overlap(COUNTRIES) if s.country else true(),
        "sector": o.sectors.overlap(SECTORS) if s.sector else true(),
    }


def _organised_by(column, model, slugs):
    return Mission.id.in_(select(MissionOrganiser.mission_id).where(column.in_(_ids_of(model, slugs))))


def _mission_filters(s: Shape) -> list:
    m = Mission
    has_window = or_(m.applications_open_on.isnot(None), m.application_deadline.isnot(None))
    conditions = [mission_status.applications_open(TODAY), deadline_key(m.application_deadline) >= TODAY] if s.open else [has_window]
    if s.text:
        conditions.append(m.search.op("@@")(QUERY))
    if s.deadline_after:
        conditions.append(m.application_deadline >= DEADLINE_AFTER)
    if s.deadline_before:
        conditions.append(m.application_deadline <= DEADLINE_BEFORE)
    if s.cluster:
        conditions.append(_organised_by(MissionOrganiser.cluster_id, Cluster, CLUSTERS))
    if s.partnership:
        conditions.append(_organised_by(MissionOrganiser.partnership_id, Partnership, PARTNERSHIPS))
    return conditions


def _mission_facets(s: Shape) -> dict[str, Any]:
    m = Mission
    return {
        "kind": true() if s.wants_missions else false(),
        "country": m.destination_country == func.any(COUNTRIES) if s.country else true(),
        "sector": m.sectors.overlap(SECTORS) if s.sector else true(),
    }


# The page ---------------------------------------------------------------------------------


def _opportunity_rows(s: Shape) -> Select:
    o = Opportunity
    columns = [
        o.kind.label("kind"), o.id.label("id"), o.title.label("title"), o.summary.label("summary"),
        o.countries.label("countries"), o.sectors.label("sectors"), o.deadline.label("deadline"),
        deadline_key(o.deadline).label("deadline_key"), o.created_at.label("created_at"),
        o.posted_by_cluster_id.label("cluster_id"), o.posted_by_partnership_id.label("partnership_id"),
        o.poster_name.label("organisation"),
    ]
    if s.text:
        columns.append(func.ts_rank(o.search, QUERY).cast(Float).label("rank"))
    return select(*columns).where(*_opportunity_filters(s), *_opportunity_facets(s).values())


def _mission_rows(s: Shape) -> Select:
    m = Mission
    columns = [
        literal("mission", String).label("kind"), m.id.label("id"), m.title.label("title"),
        func.left(m.description, SUMMARY_CHARS).label("summary"),
        array([m.destination_country], type_=String).label("countries"), m.sectors.label("sectors"),
        m.application_deadline.label("deadline"), deadline_key(m.application_deadline).label("deadline_key"),
        m.created_at.label("created_at"), m.external_organiser.label("organisation"),
    ]
    if s.text:
        columns.append(func.ts_rank(m.search, QUERY).cast(Float).label("rank"))
    return select(*columns).where(*_mission_filters(s), *_mission_facets(s).values())


def _first_organiser(column, mission_id):
    return (
        select(column).where(MissionOrganiser.mission_id == mission_id, column.isnot(None))
        .order_by(MissionOrganiser.position).limit(1).scalar_subquery()
    )


# The columns of both branches, in the order UNION ALL needs.
BRANCH_COLUMNS = (
    "kind", "id", "title", "summary", "countries", "sectors", "deadline", "deadline_key", "created_at",
    "cluster_id", "partnership_id", "organisation", "rank",
)


def _with_organisers(missions: Select) -> Select:
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


def _sort_of(s: Shape) -> Sort:
    return parse_sort(s.sort, SORTS, default=s.sort)


def _in_order(rows: Select, s: Shape) -> Select:
    """rows (a select of branch columns) in the sort's order, after the cursor, cut to :limit."""
    sort = _sort_of(s)
    table = rows.subquery()
    key, row_id = table.c[sort.field.column.name], table.c.id
    stmt = select(table)
    if s.after_cursor:
        last = tuple_(bindparam("after_value", type_=key.type), AFTER_ID)
        stmt = stmt.where(tuple_(key, row_id) < last if sort.descending else tuple_(key, row_id) > last)
    order = (key.desc(), row_id.desc()) if sort.descending else (key.asc(), row_id.asc())
    return stmt.order_by(*order).limit(bindparam("limit"))


def _branch(rows: Select, s: Shape) -> Select:
    if s.sort == "-rank":
        # Candidates straight off the deadline index; only they are ranked.
        candidates = rows.order_by(literal_column("deadline_key"), literal_column("id")).limit(bindparam("window"))
        return _in_order(candidates, s)
    return _in_order(rows, s)


@lru_cache(maxsize=512)
def page_statement(s: Shape) -> Select:
    """The page (:limit rows) with the organiser of each row, in the sort's order."""
    branches = []
    if s.wants_opportunities:
        branches.append(_branch(_opportunity_rows(s), s))
    if s.wants_missions:
        branches.append(_with_organisers(_branch(_mission_rows(s), s)))
    page = _in_order(union_all(*branches), s).subquery("page")
    sort = _sort_of(s)
    key, row_id = page.c[sort.field.column.name], page.c.id
    order = (key.desc(), row_id.desc()) if sort.descending else (key.asc(), row_id.asc())
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
