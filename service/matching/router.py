from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.db import SessionDep
from service.kit.http import link_next
from service.kit.lookup import Ref
from service.kit.pagination import Page
from service.matching import service
from service.matching.schemas import Match

router = APIRouter(tags=["matching"])

OpportunityRef = Annotated[str, Path(min_length=1, max_length=80, description="The opportunity's id.")]


@router.get("/clusters/{cluster}/matches", summary="Rank clusters as partners for this one, with reasons")
async def match_cluster(
    session: SessionDep, request: Request, response: Response, cluster: Ref, query: Annotated[service.MatchListQuery, Query()]
) -> Page[Match]:
    page = await service.for_cluster(session, cluster, query)
    link_next(request, response, page.next_cursor)
    return page


@router.get("/opportunities/{opportunity}/matches", summary="Rank clusters that fit an opportunity, with reasons")
async def match_opportunity(
    session: SessionDep, request: Request, response: Response, opportunity: OpportunityRef,
    query: Annotated[service.MatchListQuery, Query()],
) -> Page[Match]:
    page = await service.for_opportunity(session, opportunity, query)
    link_next(request, response, page.next_cursor)
    return page
