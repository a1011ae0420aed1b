from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.access.principal import WriteDep
from service.db import SessionDep
from service.kit.http import conditional_read, created, link_next, with_etag
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
)

router = APIRouter(prefix="/partnerships", tags=["partnerships"])

ClusterRef = Annotated[str, Path(min_length=1, max_length=80, description="The member cluster's id or slug.")]


@router.get("", summary="List and filter partnerships")
async def list_partnerships(
    session: SessionDep, request: Request, response: Response, query: Annotated[service.PartnershipListQuery, Query()]
) -> Page[Partnership]:
    page = await service.list_page(session, query)
    link_next(request, response, page.next_cursor)
    return page


@router.post("", status_code=201, summary="Register a partnership, with its members")
async def create_partnership(session: SessionDep, write: WriteDep, response: Response, body: PartnershipCreate) -> Partnership:
    partnership = await service.create(session, body, write)
    created(response, f"/v1/partnerships/{partnership.id}", partnership)
    return partnership


@router.get("/{partnership}", response_model=Partnership, summary="Get a partnership by id or slug")
async def get_partnership(session: SessionDep, request: Request, response: Response, partnership: Ref) -> Response:
    return conditional_read(request, response, await service.get(session, partnership))


@router.patch("/{partnership}", summary="Change a partnership (merge)")
async def update_partnership(
    session: SessionDep, write: WriteDep, response: Response, partnership: Ref, body: PartnershipPatch
) -> Partnership:
    changed = await service.update(session, partnership, body, write)
    with_etag(response, changed)
    return changed


@router.delete("/{partnership}", status_code=204, summary="Delete a partnership and its memberships")
async def delete_partnership(session: SessionDep, write: WriteDep, partnership: Ref) -> None:
    await service.delete(session, partnership, write)


@router.get("/{partnership}/members", summary="List a partnership's members")
async def list_partnership_members(session: SessionDep, partnership: Ref) -> Page[Member]:
    return await service.list_members(session, partnership)


@router.post("/{partnership}/members", status_code=201, summary="Add a member cluster")
async def add_partnership_member(
    session: SessionDep, write: WriteDep, response: Response, partnership: Ref, body: MemberIn
) -> Member:
    member = await service.add_member(session, partnership, body, write)
    response.headers["Location"] = f"/v1/partnerships/{partnership}/members/{member.cluster.slug}"
    return member


@router.get("/{partnership}/members/{cluster}", summary="Get one membership")
async def get_partnership_member(session: SessionDep, partnership: Ref, cluster: ClusterRef) -> Member:
    return await service.get_member(session, partnership, cluster)


@router.patch("/{partnership}/members/{cluster}", summary="Change a member's role")
async def update_partnership_member(
    session: SessionDep, write: WriteDep, partnership: Ref, cluster: ClusterRef, body: MemberPatch
) -> Member:
    return await service.update_member(session, partnership, cluster, body, write)


@router.delete("/{partnership}/members/{cluster}", status_code=204, summary="Remove a member cluster")
async def remove_partnership_member(
    session: SessionDep, write: WriteDep, partnership: Ref, cluster: ClusterRef
) -> None:
    await service.remove_member(session, partnership, cluster, write)
