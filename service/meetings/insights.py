"""Who to meet at a mission (partner matching among its participants) and the funnel from
participation to agreement, for a mission or the missions a partnership organises."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from service.kit.lookup import resolve
from service.kit.repository import not_found
from service.matching import service as matching
from service.matching.schemas import Match
from service.meetings import repository
from service.meetings.schemas import Funnel, SuggestionQuery
from service.meetings.service import mission, participant
from service.models import Partnership


async def suggestions(session: AsyncSession, ref: str, query: SuggestionQuery, today: date) -> list[Match]:
    """The other participants ranked as partners for this one, by the partner-matching score
    and its reasons; those matching shares nothing with are not listed."""
    row = await mission(session, ref, today)
    cluster = await participant(session, row, query.cluster, "query.cluster")
    others = [c for c in await repository.participant_ids(session, row.id) if c != cluster.id]
    return await matching.among(session, cluster.id, others, query.limit)


async def mission_funnel(session: AsyncSession, ref: str, today: date) -> Funnel:
    row = await mission(session, ref, today)
    return Funnel.model_validate(await repository.funnel(session, repository.one_mission(row.id)))


async def partnership_funnel(session: AsyncSession, ref: str) -> Funnel:
    """Summed over the missions the partnership organises."""
    found = await resolve(session, Partnership, [ref])
    if ref not in found:
        raise not_found("partnership", ref)
    return Funnel.model_validate(await repository.funnel(session, repository.organised_by_partnership(found[ref].id)))
