from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.access.principal import Principal, authenticate
from service.db import SessionDep
from service.events import service
from service.events.schemas import EventPage, EventQuery

router = APIRouter(prefix="/events", tags=["events"])


@router.get("", summary="The change feed: every create, change and delete, in a stable order")
async def list_events(
    session: SessionDep, principal: Annotated[Principal, Depends(authenticate)], query: Annotated[EventQuery, Query()]
) -> EventPage:
    """Events of clusters, partnerships, missions, agreements and opportunities, of
    interests, meeting requests and meetings (ids and status only), and saved-search matches,
    oldest first. An event appears once every transaction that began
    before its own has ended, so paging with `after` never passes over one that commits late;
    `next_cursor` is always given, to poll from. A saved search's `saved_search.matched`
    events are listed only to the key that owns it (and to admins)."""
    return await service.feed(session, query, principal)
