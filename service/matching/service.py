"""Partner matching: which clusters fit a cluster, or an opportunity, and why."""

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from service.kit.pagination import Page, Sort, SortField, decode_cursor, encode_cursor, parse_sort, sortable
from service.kit.repository import not_found
from service.matching import repository
from service.matching.schemas import Match, MatchQuery

# Matches are ranked by score only.
SORTS = {"score": SortField(None, int)}
DEFAULT_SORT = "-score"
# Best first only: the ranking query has no ascending order, so `score` is not offered.
# The enum is added at run time; a type checker sees the query it extends.
if TYPE_CHECKING:
    MatchListQuery = MatchQuery
else:
    MatchListQuery = sortable(MatchQuery, SORTS, DEFAULT_SORT, tokens=(DEFAULT_SORT,))


def cursor_scope(kind: str, seeker_id: uuid.UUID) -> str:
    """Cursors belong to the matches of one cluster or opportunity: another's are refused."""
    return f"matches of {kind} {seeker_id}"


def _match(r: repository.MatchRow) -> Match:
    return Match(
        cluster={"id": r.id, "slug": r.slug, "name": r.name, "acronym": r.acronym, "country": r.country},
        score=r.score,
        reasons={
            "shared_sectors": r.shared_sectors, "complementary_sectors": r.complementary_sectors,
            "shared_target_markets": r.shared_target_markets, "location": r.location,
        },
    )


def _page(rows: list[repository.MatchRow], query: MatchQuery, sort: Sort, scope: str) -> Page[Match]:
    items = [_match(r) for r in rows[: query.limit]]
    cursor = None
    if len(rows) > query.limit:
        last = rows[query.limit - 1]
        cursor = encode_cursor(sort, last.score, last.id, scope)
    return Page[Match](items=items, next_cursor=cursor)


async def _matches(session: AsyncSession, kind: str, seeker_id: uuid.UUID | None, query: MatchQuery, ref: str) -> Page[Match]:
    sort = parse_sort(query.sort, SORTS, default=DEFAULT_SORT)
    profile = await repository.seeker(session, kind, seeker_id) if seeker_id else None
    if seeker_id is None or profile is None:
        raise not_found(kind, ref)
    scope = cursor_scope(kind, seeker_id)
    cursor = decode_cursor(query.cursor, sort, uuid.UUID, scope) if query.cursor else None
    return _page(await repository.matches(session, kind, profile, query, cursor), query, sort, scope)


async def for_cluster(session: AsyncSession, ref: str, query: MatchQuery) -> Page[Match]:
    cluster_id = await repository.cluster_id(session, ref)
    return await _matches(session, "cluster", cluster_id, query, ref)


async def for_opportunity(session: AsyncSession, ref: str, query: MatchQuery) -> Page[Match]:
    try:
        opportunity_id = uuid.UUID(ref)
    except ValueError:
        opportunity_id = None
    return await _matches(session, "opportunity", opportunity_id, query, ref)


async def among(session: AsyncSession, cluster_id: uuid.UUID, candidates: list[uuid.UUID], limit: int) -> list[Match]:
    """The candidates that match this cluster, best first, with the reasons."""
    profile = await repository.seeker(session, "cluster", cluster_id)
    if profile is None or not candidates:
        return []
    return [_match(r) for r in await repository.among(session, profile, candidates, limit)]
