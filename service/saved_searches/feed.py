"""A saved search's newest matches as an Atom 1.0 feed (RFC 4287), built with feedgen.

The document depends only on the data: entry ids are the results' own (urn:uuid), and every
timestamp is a stored one, so an unchanged search serves the same bytes (and ETag) again.
"""

import uuid
from datetime import datetime

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]  # feedgen ships no type information

from service.opportunities.schemas import SearchResult
from service.saved_searches.schemas import SavedSearch

MEDIA_TYPE = "application/atom+xml"
ENTRIES = 50
AUTHOR = {"name": "Partnership Opportunity API"}


def _entry(feed: FeedGenerator, result: SearchResult, updated: datetime, base_url: str) -> None:
    entry = feed.add_entry(order="append")
    entry.id(uuid.UUID(str(result.id)).urn)
    entry.title(result.title)
    entry.link(href=f"{base_url}{result.link}", rel="alternate", type="application/json")
    entry.published(result.created_at)
    entry.updated(updated)
    entry.category(term=result.kind)
    if result.summary:
        entry.summary(result.summary)
    if result.organiser:
        entry.author({"name": result.organiser.name})


def atom(
    saved: SavedSearch, results: list[SearchResult], updated: dict[uuid.UUID, datetime], base_url: str, self_url: str
) -> bytes:
    """results: newest first; updated: when each last changed."""
    feed = FeedGenerator()
    feed.id(saved.id.urn)
    feed.title(saved.name)
    feed.author(AUTHOR)
    feed.link(href=self_url, rel="self", type=MEDIA_TYPE)
    feed.link(href=f"{base_url}{saved.results}", rel="alternate", type="application/json")
    stamps = [updated.get(r.id, r.created_at) for r in results]
    feed.updated(max([saved.updated_at, *stamps]))
    for result, stamp in zip(results, stamps, strict=True):
        _entry(feed, result, stamp, base_url)
    body: bytes = feed.atom_str(pretty=False)
    return body
