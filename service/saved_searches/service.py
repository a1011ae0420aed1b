"""Rules about saved searches. Never commits: the request boundary does.

A saved search belongs to the API key that created it: only that key sees or changes it
(an admin key, every one); to anyone else it does not exist.
"""

import hmac
import secrets
import uuid
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Principal, Write
from service.errors import FieldError, InvalidInput
from service.kit.http import ListQuery
from service.kit.lookup import flush
from service.kit.pagination import Page, parse_sort, sortable
from service.kit.patching import merge
from service.kit.repository import id_or_404, not_found, or_404
from service.models import SavedSearch as SavedSearchRow
from service.opportunities import search_service
from service.opportunities.schemas import SearchPage
from service.opportunities.search_plan import plan
from service.saved_searches import feed as atom
from service.saved_searches import index_query, repository
from service.saved_searches.schemas import (
    Feed,
    ResultsQuery,
    SavedQuery,
    SavedSearch,
    SavedSearchCreate,
    SavedSearchPatch,
)

KIND = "saved search"
DEFAULT_SORT = "created_at"
if TYPE_CHECKING:
    SavedSearchListQuery = ListQuery
else:
    # The list query as routes take it: `sort` is the enum of the repository's sort fields.
    SavedSearchListQuery = sortable(ListQuery, repository.SORTS, DEFAULT_SORT)


def _path(search_id: uuid.UUID) -> str:
    return f"/v1/saved-searches/{search_id}"


def to_schema(row: SavedSearchRow) -> SavedSearch:
    path = _path(row.id)
    return SavedSearch(
        # Searches saved before languages were recorded show the languages they are stemmed in.
        id=row.id, name=row.name, query=SavedQuery.model_validate({"lang": row.languages} | row.query), results=f"{path}/results",
        feed=Feed(url=f"{path}/feed.atom?token={row.feed_token}", token=row.feed_token),
        created_at=row.created_at, updated_at=row.updated_at,
    )


def _owner(principal: Principal) -> uuid.UUID | None:
    """Whose saved searches the principal sees: its key's, or everyone's for an admin."""
    return None if principal.is_admin else principal.key_id


async def _row(session: AsyncSession, ref: str, principal: Principal, *, for_update: bool = False) -> SavedSearchRow:
    lookup = repository.get(session, id_or_404(ref, KIND), _owner(principal), for_update=for_update)
    return await or_404(lookup, KIND, ref)


def _checked(query: SavedQuery, today: date) -> SavedQuery:
    """The query, refused as the search itself would refuse it (sort rules), the error
    located in the body."""
    try:
        plan(query, today, limit=query.limit)
    except InvalidInput as exc:
        errors = [FieldError(location=f"body.{e.location}", message=e.message) for e in exc.errors or []]
        raise InvalidInput(exc.detail, errors=errors) from None
    return query


def _apply(row: SavedSearchRow, data: SavedSearchCreate, today: date, languages: list[str]) -> None:
    query = _checked(data.query, today)
    if not query.lang:
        query = query.model_copy(update={"lang": languages})
    row.languages = list(query.lang)
    row.name = data.name
    row.query = query.model_dump(mode="json", exclude_defaults=True)
    for column, value in index_query.filter_columns(query).items():
        setattr(row, column, value)


async def _save(session: AsyncSession, row: SavedSearchRow) -> SavedSearch:
    await flush(session)
    await session.refresh(row)
    return to_schema(row)


async def create(
    session: AsyncSession, data: SavedSearchCreate, write: Write, today: date, languages: list[str]
) -> SavedSearch:
    owner = write.principal.key_id
    if owner is None:  # writes always come with a key; a system write has no key to own it
        raise InvalidInput("A saved search belongs to an API key: send one.")
    row = SavedSearchRow(owner_key_id=owner, feed_token=secrets.token_urlsafe(32))
    _apply(row, data, today, languages)
    session.add(row)
    return await _save(session, row)


async def get(session: AsyncSession, ref: str, principal: Principal) -> SavedSearch:
    return to_schema(await _row(session, ref, principal))


async def list_page(session: AsyncSession, principal: Principal, query: ListQuery) -> Page[SavedSearch]:
    sort = parse_sort(query.sort, repository.SORTS, default=DEFAULT_SORT)
    rows, cursor = await repository.page(session, _owner(principal), query, sort)
    return Page[SavedSearch](items=[to_schema(r) for r in rows], next_cursor=cursor)


async def _writable(session: AsyncSession, ref: str, write: Write) -> SavedSearchRow:
    row = await _row(session, ref, write.principal, for_update=True)
    write.preconditions.check(to_schema(row))
    return row


async def update(
    session: AsyncSession, ref: str, patch: SavedSearchPatch, write: Write, today: date, languages: list[str]
) -> SavedSearch:
    row = await _writable(session, ref, write)
    current = {"name": row.name, "query": {"lang": row.languages} | row.query}
    _apply(row, merge(SavedSearchCreate, current, patch), today, languages)
    return await _save(session, row)


async def rotate_token(session: AsyncSession, ref: str, write: Write) -> SavedSearch:
    row = await _writable(session, ref, write)
    row.feed_token = secrets.token_urlsafe(32)
    return await _save(session, row)


async def delete(session: AsyncSession, ref: str, write: Write) -> None:
    await session.delete(await _writable(session, ref, write))
    await flush(session)


async def results(session: AsyncSession, ref: str, principal: Principal, page: ResultsQuery, today: date) -> SearchPage:
    saved = (await get(session, ref, principal)).query
    query = saved.model_copy(update={"cursor": page.cursor, "limit": page.limit or saved.limit})
    return await search_service.run(session, query, query.as_of or today)


async def by_feed_token(session: AsyncSession, ref: str, token: str) -> SavedSearchRow:
    """The saved search whose feed this is; a wrong token is answered as an unknown search."""
    row = await or_404(repository.get(session, id_or_404(ref, KIND), None), KIND, ref)
    if not hmac.compare_digest(row.feed_token.encode(), token.encode()):
        raise not_found(KIND, ref)
    return row


async def feed(session: AsyncSession, ref: str, token: str, today: date, base_url: str, self_url: str) -> bytes:
    saved = to_schema(await by_feed_token(session, ref, token))
    query = saved.query.model_copy(update={"sort": "-created", "limit": atom.ENTRIES, "facets": False, "highlight": False})
    page = await search_service.run(session, query, query.as_of or today)
    updated = await repository.updated_at(session, [r.id for r in page.items])
    return atom.atom(saved, page.items, updated, base_url, self_url)
