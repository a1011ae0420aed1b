from typing import Annotated

from fastapi import APIRouter, Query

from service.db import SessionDep
from service.events import service
from service.events.schemas import EventPage, EventQuery

router = APIRouter(prefix="/events", tags=["events"])


@router.get("", summary="The change feed: every create, change and delete, in a stable order")
async def list_events(session: SessionDep, query: Annotated[EventQuery, Query()]) -> EventPage:
    """Events of clusters, partnerships, missions, agreements and opportunities (and
    saved-search matches), oldest first. An event appears once every transaction that began
    before its own has ended, so paging with `after` never passes over one that commits late;
    `next_cursor` is always given, to poll from."""
    return await service.feed(session, query)
