from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.access.principal import WriteDep
from service.db import SessionDep
from service.kit.http import conditional_read, link_next, with_etag
from service.kit.pagination import Page
from service.kit.types import CountryCode
from service.markets import service
from service.markets.schemas import MarketProfileIn, MarketProfilePatch, TargetMarket

router = APIRouter(prefix="/target-markets", tags=["target markets"])

CountryPath = Annotated[CountryCode, Path(description="ISO 3166-1 alpha-2 code (EL and UK accepted).")]


@router.get("", summary="List target markets with their derived counts")
async def list_target_markets(
    session: SessionDep, request: Request, response: Response, query: Annotated[service.TargetMarketListQuery, Query()]
) -> Page[TargetMarket]:
    page = await service.list_page(session, query)
    link_next(request, response, page.next_cursor)
    return page


@router.get("/{country}", response_model=TargetMarket, summary="Get a target market")
async def get_target_market(session: SessionDep, request: Request, response: Response, country: CountryPath) -> Response:
    return conditional_read(request, response, await service.get(session, country))


@router.put("/{country}", summary="Write the market study of a country (replaces it whole)",
            responses={201: {"model": TargetMarket, "description": "The market study was created."}})
async def put_target_market(
    session: SessionDep, response: Response, country: CountryPath, body: MarketProfileIn, write: WriteDep
) -> TargetMarket:
    market, is_new = await service.put_profile(session, country, body, write)
    if is_new:
        response.status_code = 201
        response.headers["Location"] = f"/v1/target-markets/{country}"
    with_etag(response, market)
    return market


@router.patch("/{country}", summary="Change fields of the market study (merge)")
async def update_target_market(
    session: SessionDep, response: Response, country: CountryPath, body: MarketProfilePatch, write: WriteDep
) -> TargetMarket:
    changed = await service.patch_profile(session, country, body, write)
    with_etag(response, changed)
    return changed


@router.delete("/{country}", status_code=204, summary="Remove the market study (the market stays while targeted)")
async def delete_target_market(session: SessionDep, write: WriteDep, country: CountryPath) -> None:
    await service.delete_profile(session, country, write)
