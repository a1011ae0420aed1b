from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.access.principal import WriteDep
from service.agreements import service
from service.agreements.schemas import Agreement, AgreementCreate, AgreementPatch
from service.db import SessionDep
from service.kit.clock import ClockDep
from service.kit.http import conditional_read, created, link_next, with_etag
from service.kit.pagination import Page

router = APIRouter(prefix="/agreements", tags=["agreements"])

AgreementRef = Annotated[str, Path(min_length=1, max_length=80, description="The agreement's id.")]


@router.get("", summary="List and filter cooperation agreements (newest signed first)")
async def list_agreements(
    session: SessionDep, clock: ClockDep, request: Request, response: Response,
    query: Annotated[service.AgreementListQuery, Query()],
) -> Page[Agreement]:
    page = await service.list_page(session, query, query.as_of or clock.today())
    link_next(request, response, page.next_cursor)
    return page


@router.post("", status_code=201, summary="Record a cooperation agreement")
async def create_agreement(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, body: AgreementCreate
) -> Agreement:
    agreement = await service.create(session, body, clock.today(), write)
    created(response, f"/v1/agreements/{agreement.id}", agreement)
    return agreement


@router.get("/{agreement}", response_model=Agreement, summary="Get an agreement")
async def get_agreement(
    session: SessionDep, clock: ClockDep, request: Request, response: Response, agreement: AgreementRef
) -> Response:
    return conditional_read(request, response, await service.get(session, agreement, clock.today()))


@router.patch("/{agreement}", summary="Change an agreement (merge)")
async def update_agreement(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, agreement: AgreementRef,
    body: AgreementPatch,
) -> Agreement:
    changed = await service.update(session, agreement, body, write, clock.today())
    with_etag(response, changed)
    return changed


@router.delete("/{agreement}", status_code=204, summary="Delete an agreement")
async def delete_agreement(
    session: SessionDep, write: WriteDep, clock: ClockDep, agreement: AgreementRef
) -> None:
    await service.delete(session, agreement, write, clock.today())
