from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.access.principal import WriteDep
from service.db import SessionDep
from service.kit.app_state import SettingsDep
from service.kit.clock import ClockDep
from service.kit.http import conditional_read, created, json_body, link_next, with_etag
from service.kit.request_languages import RequestLanguagesDep
from service.opportunities import search_service, service
from service.opportunities.schemas import Opportunity, OpportunityCreate, OpportunityPatch, SearchPage

router = APIRouter(prefix="/opportunities", tags=["opportunities"])

OpportunityRef = Annotated[str, Path(min_length=1, max_length=80, description="The opportunity's id.")]


@router.get("", response_model=SearchPage, summary="Search open opportunities and missions taking applications")
async def search_opportunities(
    session: SessionDep, clock: ClockDep, settings: SettingsDep, request: Request, response: Response,
    query: Annotated[search_service.SearchListQuery, Query()], languages: RequestLanguagesDep,
) -> Response:
    """One list of posted opportunities (partner searches, offers, requests, calls, events) and
    missions whose applications are open (kind `mission`). Sorted by relevance when `q` is
    given, else by deadline (open-ended last); also `sort=-created`. `q` matches words exactly
    and stemmed in the languages of `lang`, else of Accept-Language, else the configured ones."""
    query = query.model_copy(update={"lang": query.lang or languages})
    # The answer to the same URL differs with Accept-Language (when lang is not given).
    response.headers.append("Vary", "Accept-Language")
    page = await search_service.run(session, query, query.as_of or clock.today(), settings.search.reuse_facets)
    link_next(request, response, page.next_cursor)
    return json_body(response, page)


@router.post("", status_code=201, summary="Post an opportunity")
async def create_opportunity(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, body: OpportunityCreate
) -> Opportunity:
    opportunity = await service.create(session, body, clock.today(), write)
    created(response, f"/v1/opportunities/{opportunity.id}", opportunity)
    return opportunity


@router.get("/{opportunity}", response_model=Opportunity, summary="Get an opportunity")
async def get_opportunity(
    session: SessionDep, clock: ClockDep, request: Request, response: Response, opportunity: OpportunityRef
) -> Response:
    return conditional_read(request, response, await service.get(session, opportunity, clock.today()))


@router.patch("/{opportunity}", summary="Change an opportunity (merge); withdraw it with withdrawn=true")
async def update_opportunity(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, opportunity: OpportunityRef,
    body: OpportunityPatch,
) -> Opportunity:
    changed = await service.update(session, opportunity, body, write, clock.today())
    with_etag(response, changed)
    return changed


@router.delete("/{opportunity}", status_code=204, summary="Delete an opportunity")
async def delete_opportunity(
    session: SessionDep, write: WriteDep, clock: ClockDep, opportunity: OpportunityRef
) -> None:
    await service.delete(session, opportunity, write, clock.today())
