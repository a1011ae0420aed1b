from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from service.access.principal import Principal, WriteDep, requires
from service.db import SessionDep
from service.kit.clock import ClockDep
from service.kit.http import conditional_body, conditional_read, created, link_next, with_etag
from service.kit.pagination import Page
from service.kit.request_languages import RequestLanguagesDep
from service.opportunities.schemas import SearchPage
from service.saved_searches import service
from service.saved_searches.feed import MEDIA_TYPE
from service.saved_searches.schemas import FeedQuery, ResultsQuery, SavedSearch, SavedSearchCreate, SavedSearchPatch

router = APIRouter(prefix="/saved-searches", tags=["saved searches"])

SavedSearchRef = Annotated[str, Path(min_length=1, max_length=80, description="The saved search's id.")]
# Saved searches are their owners' own: reading them takes a key even where reads are public.
KeyHolder = Annotated[Principal, Depends(requires("read"))]
ATOM_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {MEDIA_TYPE: {"schema": {"type": "string"}}}, "description": "An Atom 1.0 feed."}}


@router.get("", summary="List your saved searches (an admin key: everyone's)")
async def list_saved_searches(
    session: SessionDep, principal: KeyHolder, request: Request, response: Response,
    query: Annotated[service.SavedSearchListQuery, Query()],
) -> Page[SavedSearch]:
    page = await service.list_page(session, principal, query)
    link_next(request, response, page.next_cursor)
    return page


@router.post("", status_code=201, summary="Save a search of opportunities")
async def create_saved_search(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, body: SavedSearchCreate,
    languages: RequestLanguagesDep,
) -> SavedSearch:
    """`query` holds the parameters of `GET /v1/opportunities`, checked as that search checks
    them. Opportunities that newly match it are announced as `saved_search.matched` events.
    Without `lang` in the query, the languages of Accept-Language (else the configured ones)
    are saved as its `lang`, so its results and alerts stem alike whoever asks later."""
    saved = await service.create(session, body, write, clock.today(), languages)
    created(response, f"/v1/saved-searches/{saved.id}", saved)
    return saved


@router.get("/{saved_search}", response_model=SavedSearch, summary="Get a saved search")
async def get_saved_search(
    session: SessionDep, principal: KeyHolder, request: Request, response: Response, saved_search: SavedSearchRef
) -> Response:
    return conditional_read(request, response, await service.get(session, saved_search, principal))


@router.patch("/{saved_search}", summary="Change a saved search (merge)")
async def update_saved_search(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, saved_search: SavedSearchRef,
    body: SavedSearchPatch, languages: RequestLanguagesDep,
) -> SavedSearch:
    saved = await service.update(session, saved_search, body, write, clock.today(), languages)
    with_etag(response, saved)
    return saved


@router.delete("/{saved_search}", status_code=204, summary="Delete a saved search")
async def delete_saved_search(session: SessionDep, write: WriteDep, saved_search: SavedSearchRef) -> None:
    await service.delete(session, saved_search, write)


@router.post("/{saved_search}/feed-token", summary="Give the feed a new token (the old URL stops working)")
async def rotate_feed_token(
    session: SessionDep, write: WriteDep, response: Response, saved_search: SavedSearchRef
) -> SavedSearch:
    saved = await service.rotate_token(session, saved_search, write)
    with_etag(response, saved)
    return saved


@router.get("/{saved_search}/results", summary="Run a saved search")
async def saved_search_results(
    session: SessionDep, principal: KeyHolder, clock: ClockDep, request: Request, response: Response,
    saved_search: SavedSearchRef, query: Annotated[ResultsQuery, Query()],
) -> SearchPage:
    """The answer `GET /v1/opportunities` gives for the saved query, paged by `cursor` and `limit`."""
    page = await service.results(session, saved_search, principal, query, clock.today())
    link_next(request, response, page.next_cursor)
    return page


@router.get(
    "/{saved_search}/feed.atom", response_class=Response, responses=ATOM_RESPONSE,
    summary="The newest matches of a saved search as an Atom feed",
)
async def saved_search_feed(
    session: SessionDep, clock: ClockDep, request: Request, saved_search: SavedSearchRef,
    query: Annotated[FeedQuery, Query()],
) -> Response:
    """The 50 newest results. Feed readers send no API key: the URL's `token` (see the saved
    search's `feed`) admits them until it is rotated. Poll with If-None-Match."""
    base_url = str(request.base_url).rstrip("/")
    body = await service.feed(session, saved_search, query.token, clock.today(), base_url, str(request.url))
    return conditional_body(request, body, MEDIA_TYPE)
