"""All SQL about saved searches themselves (the alerts' index lookup is in index_query)."""

import uuid
from datetime import datetime

from sqlalchemy import Select, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit import repository as kit
from service.kit.pagination import Sort, SortField
from service.models import Mission, Opportunity, SavedSearch, SavedSearchMatch

SORTS = {
    "created_at": SortField(SavedSearch.created_at, datetime),
    "name": SortField(SavedSearch.name, str),
}


def _select(owner: uuid.UUID | None) -> Select[SavedSearch]:
    """Saved searches of one key (None: of every key)."""
    stmt = select(SavedSearch)
    return stmt if owner is None else stmt.where(SavedSearch.owner_key_id == owner)


async def get(
    session: AsyncSession, search_id: uuid.UUID, owner: uuid.UUID | None, *, for_update: bool = False
) -> SavedSearch | None:
    found: SavedSearch | None = await kit.one(session, _select(owner).where(SavedSearch.id == search_id), for_update=for_update)
    return found


async def page(
    session: AsyncSession, owner: uuid.UUID | None, query: kit.PageQuery, sort: Sort
) -> tuple[list[SavedSearch], str | None]:
    return await kit.page(session, _select(owner), sort, SavedSearch.id, query)


async def updated_at(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """id -> when it last changed, of the opportunities and missions among ids."""
    found: dict[uuid.UUID, datetime] = {}
    for model in (Opportunity, Mission):
        rows = await session.execute(select(model.id, model.updated_at).where(model.id.in_(ids)))
        found |= {row_id: at for row_id, at in rows}
    return found


async def owners(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The key owning each of these saved searches."""
    rows = await session.execute(select(SavedSearch.id, SavedSearch.owner_key_id).where(SavedSearch.id.in_(ids)))
    return {saved_id: owner for saved_id, owner in rows}


async def remember(session: AsyncSession, opportunity_id: uuid.UUID, matched: list[uuid.UUID]) -> list[uuid.UUID]:
    """Record that these saved searches match the opportunity; returns those that did not
    already (the new matches, to alert), and forgets the pairs it no longer matches so
    that matching again alerts again."""
    await session.execute(
        delete(SavedSearchMatch).where(
            SavedSearchMatch.opportunity_id == opportunity_id, SavedSearchMatch.saved_search_id.not_in(matched)
        )
    )
    if not matched:
        return []
    stmt = (
        insert(SavedSearchMatch)
        .values([{"saved_search_id": s, "opportunity_id": opportunity_id} for s in matched])
        .on_conflict_do_nothing()
        .returning(SavedSearchMatch.saved_search_id)
    )
    return list(await session.scalars(stmt))
