"""Saved-search alerts: a consumer of the change feed that announces each opportunity that
newly matches a saved search with a `saved_search.matched` event.

Opportunities are looked up in the saved searches' inverted index (index_query), so the
cost per change is that of its candidates, not of every saved search. Pairs already
announced are remembered: a change that keeps an opportunity matching says nothing, one
that makes it stop matching forgets the pair (matching again is news again). Missions are
not matched: alerts follow opportunities only. An opportunity is matched as it stands when
the alert runs, and the alert carries that state.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from service.events import service as events
from service.kit.clock import Clock
from service.models import Event
from service.opportunities import service as opportunities
from service.saved_searches import index_query, repository
from service.saved_searches.schemas import SavedSearchMatched

OPPORTUNITY_CHANGES = frozenset({"opportunity.created", "opportunity.updated"})


def _changed(batch: list[Event]) -> list[uuid.UUID]:
    """Each changed opportunity once, in the order of its last change."""
    latest: dict[uuid.UUID, None] = {}
    for event in batch:
        if event.type in OPPORTUNITY_CHANGES:
            latest.pop(event.resource_id, None)
            latest[event.resource_id] = None
    return list(latest)


async def announce_matches(session: AsyncSession, batch: list[Event], clock: Clock | None = None) -> None:
    """Run in the dispatcher's transaction: the events it writes and the pairs it remembers
    commit with the dispatcher's new position, or neither does."""
    today = (clock or Clock()).today()
    for opportunity_id in _changed(batch):
        # Matched as it stands now (a later change may already have committed), and
        # announced in that same state.
        found = await index_query.lookup(session, opportunity_id, today)
        new = await repository.remember(session, opportunity_id, found.matched)
        if not new:
            continue
        opportunity = (await opportunities.get(session, str(opportunity_id), today)).model_dump(mode="json")
        owners = await repository.owners(session, new)
        for saved_id in new:
            matched = SavedSearchMatched(id=saved_id, saved_search_id=saved_id, opportunity=opportunity)
            # Only the saved search's key (its feed, its webhooks) learns what it follows.
            await events.record(session, "saved_search.matched", matched, audience=owners[saved_id])
