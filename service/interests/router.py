from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from service.access.principal import Principal, WriteDep, authenticate
from service.db import SessionDep
from service.interests import service
from service.interests.schemas import (
    Interest,
    InterestCreate,
    InterestPatch,
    InterestSummary,
    OpportunityFunnel,
)
from service.kit.clock import ClockDep
from service.kit.http import conditional_read, created, link_next, with_etag
from service.kit.pagination import Page
from service.opportunities.router import OpportunityRef

router = APIRouter(prefix="/opportunities", tags=["interests"])

InterestRef = Annotated[str, Path(min_length=1, max_length=80, description="The interest's id.")]
PrincipalDep = Annotated[Principal, Depends(authenticate)]


@router.post("/{opportunity}/interests", status_code=201, summary="Express a cluster's interest in an opportunity")
async def create_interest(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, opportunity: OpportunityRef,
    body: InterestCreate,
) -> Interest:
    """By the interested cluster: its bound key, or an unbound or admin key naming it in
    `cluster`. One pending or accepted interest per cluster and opportunity (409 on another);
    the opportunity must be open."""
    interest = await service.create(session, opportunity, body, clock.today(), write)
    created(response, f"/v1/opportunities/{opportunity}/interests/{interest.id}", interest)
    return interest


@router.get("/{opportunity}/interests", response_model=Page[Interest], summary="List the interests in an opportunity that you may see")
async def list_interests(
    session: SessionDep, principal: PrincipalDep, clock: ClockDep, request: Request, response: Response,
    opportunity: OpportunityRef, query: Annotated[service.InterestListQuery, Query()],
) -> Response:
    """The poster sees every interest; a sender its own; anyone else an empty list (the
    counts are public: `/interests/summary`, `/funnel`). Oldest first."""
    page = await service.list_page(session, opportunity, query, principal, clock.today())
    link_next(request, response, page.next_cursor)
    return conditional_read(request, response, page)


@router.get("/{opportunity}/interests/summary", response_model=InterestSummary, summary="Count the interests in an opportunity (public)")
async def get_interest_summary(
    session: SessionDep, clock: ClockDep, request: Request, response: Response, opportunity: OpportunityRef
) -> Response:
    return conditional_read(request, response, await service.summary(session, opportunity, clock.today()))


@router.get("/{opportunity}/interests/{interest}", response_model=Interest, summary="Get an interest (its poster or its sender)")
async def get_interest(
    session: SessionDep, principal: PrincipalDep, clock: ClockDep, request: Request, response: Response,
    opportunity: OpportunityRef, interest: InterestRef,
) -> Response:
    found = await service.get(session, opportunity, interest, principal, clock.today())
    return conditional_read(request, response, found)


@router.patch("/{opportunity}/interests/{interest}", summary="Accept, decline or withdraw an interest")
async def update_interest(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, opportunity: OpportunityRef,
    interest: InterestRef, body: InterestPatch,
) -> Interest:
    """`accepted` or `declined` by the poster (the posting cluster, a coordinator of the
    posting partnership), `withdrawn` by the sender, each from `pending` only (409 otherwise).
    Accepting shows each side the other's contact; `contact` gives the poster's."""
    changed = await service.update(session, opportunity, interest, body, write, clock.today())
    with_etag(response, changed)
    return changed


@router.get("/{opportunity}/funnel", response_model=OpportunityFunnel, summary="The opportunity's funnel: interests by status (public)")
async def get_opportunity_funnel(
    session: SessionDep, clock: ClockDep, request: Request, response: Response, opportunity: OpportunityRef
) -> Response:
    return conditional_read(request, response, await service.funnel(session, opportunity, clock.today()))
