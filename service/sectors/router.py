from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.access.principal import AdminWriteDep
from service.db import SessionDep
from service.kit.http import conditional_read, created, link_next, with_etag
from service.kit.pagination import Page
from service.sectors import service
from service.sectors.schemas import Sector, SectorCode, SectorCreate, SectorPatch

router = APIRouter(prefix="/sectors", tags=["sectors"])

CodePath = Annotated[SectorCode, Path(description="The sector code.")]


@router.get("", summary="List the sector vocabulary")
async def list_sectors(
    session: SessionDep, request: Request, response: Response, query: Annotated[service.SectorListQuery, Query()]
) -> Page[Sector]:
    page = await service.list_page(session, query)
    link_next(request, response, page.next_cursor)
    return page


@router.post("", status_code=201, summary="Add a sector to the vocabulary")
async def create_sector(session: SessionDep, write: AdminWriteDep, response: Response, body: SectorCreate) -> Sector:
    sector = await service.create(session, body)
    created(response, f"/v1/sectors/{sector.code}", sector)
    return sector


@router.get("/{code}", response_model=Sector, summary="Get a sector")
async def get_sector(session: SessionDep, request: Request, response: Response, code: CodePath) -> Response:
    return conditional_read(request, response, await service.get(session, code))


@router.patch("/{code}", summary="Change a sector")
async def update_sector(
    session: SessionDep, write: AdminWriteDep, response: Response, code: CodePath, body: SectorPatch
) -> Sector:
    changed = await service.update(session, code, body, write)
    with_etag(response, changed)
    return changed


@router.delete("/{code}", status_code=204, summary="Remove an unused sector")
async def delete_sector(session: SessionDep, write: AdminWriteDep, code: CodePath) -> None:
    await service.delete(session, code, write)
