from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.db import SessionDep
from service.kit.http import PreconditionsDep, conditional_read, created, link_next, with_etag
from service.kit.lookup import Ref
from service.kit.pagination import Page
from service.partnerships import service
from service.partnerships.schemas import (
    Member,
    MemberIn,
    MemberPatch,
    Partnership,
    PartnershipCreate,
    PartnershipPatch,
    PartnershipQuery,
)

router = APIRouter(prefix="/partnerships", tags=["partnerships"])

ClusterRef = Annotated[str, Path(min_length=1, max_length=80, description="The member cluster's id or slug.")]


@router.get("", summary="List and filter partnerships")
async def list_partnerships(
    session: SessionDep, request: Request, response: Response, query: Annotated[PartnershipQuery, Query()]
) -> Page[Partnership]:
    page = await service.list_page(session, query)
    link_next(request, response, page.next_cursor)
    return page


@router.post("", status_code=201, summary="Register a partnership, with its members")
async def create_partnership(session: SessionDep, response: Response, body: PartnershipCreate) -> Partnership:
    partnership = await service.create(session, body)
    return created(response, f"/v1/partnerships/{partnership.id}", partnership)


@router.get("/{partnership}", summary="Get a partnership by id or slug")
async def get_partnership(session: SessionDep, request: Request, response: Response, partnership: Ref) -> Partnership:
    return conditional_read(request, response, await service.get(session, partnership))


@router.patch("/{partnership}", summary="Change a partnership (merge)")
async def update_partnership(
    session: SessionDep, response: Response, partnership: Ref, body: PartnershipPatch, preconditions: PreconditionsDep
) -> Partnership:
    return with_etag(response, await service.update(session, partnership, body, preconditions))


@router.delete("/{partnership}", status_code=204, summary="Delete a partnership and its memberships")
async def delete_partnership(session: SessionDep, partnership: Ref, preconditions: PreconditionsDep) -> None:
    await service.delete(session, partnership, preconditions)


@router.get("/{partnership}/members", summary="List a partnership's members")
async def list_partnership_members(session: SessionDep, partnership: Ref) -> Page[Member]:
    return await service.list_members(session, partnership)


@router.post("/{partnership}/members", status_code=201, summary="Add a member cluster")
async def add_partnership_member(
    session: SessionDep, response: Response, partnership: Ref, body: MemberIn, preconditions: PreconditionsDep
) -> Member:
    member = await service.add_member(session, partnership, body, preconditions)
    response.headers["Location"] = f"/v1/partnerships/{partnership}/members/{member.cluster.slug}"
    return member


@router.get("/{partnership}/members/{cluster}", summary="Get one membership")
async def get_partnership_member(session: SessionDep, partnership: Ref, cluster: ClusterRef) -> Member:
    return await service.get_member(session, partnership, cluster)


@router.patch("/{partnership}/members/{cluster}", summary="Change a member's role")
async def update_partnership_member(
    session: SessionDep, partnership: Ref, cluster: ClusterRef, body: MemberPatch, preconditions: PreconditionsDep
) -> Member:
    return await service.update_member(session, partnership, cluster, body, preconditions)


@router.delete("/{partnership}/members/{cluster}", status_code=204, summary="Remove a member cluster")
async def remove_partnership_member(
    session: SessionDep, partnership: Ref, cluster: ClusterRef, preconditions: PreconditionsDep
) -> None:
    await service.remove_member(session, partnership, cluster, preconditions)
