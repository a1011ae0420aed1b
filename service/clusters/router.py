from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.access.principal import WriteDep
from service.clusters import service
from service.clusters.schemas import Cluster, ClusterCreate, ClusterPatch
from service.db import SessionDep
from service.kit.http import conditional_read, created, link_next, with_etag
from service.kit.lookup import Ref
from service.kit.pagination import Page

router = APIRouter(prefix="/clusters", tags=["clusters"])


@router.get("", summary="List and filter clusters")
async def list_clusters(
    session: SessionDep, request: Request, response: Response, query: Annotated[service.ClusterListQuery, Query()]
) -> Page[Cluster]:
    page = await service.list_page(session, query)
    link_next(request, response, page.next_cursor)
    return page


@router.post("", status_code=201, summary="Register a cluster")
async def create_cluster(session: SessionDep, write: WriteDep, response: Response, body: ClusterCreate) -> Cluster:
    cluster = await service.create(session, body, write)
    created(response, f"/v1/clusters/{cluster.id}", cluster)
    return cluster


@router.get("/{cluster}", response_model=Cluster, summary="Get a cluster by id or slug")
async def get_cluster(session: SessionDep, request: Request, response: Response, cluster: Ref) -> Response:
    return conditional_read(request, response, await service.get(session, cluster))


@router.patch("/{cluster}", summary="Change a cluster (merge)")
async def update_cluster(
    session: SessionDep, write: WriteDep, response: Response, cluster: Ref, body: ClusterPatch
) -> Cluster:
    changed = await service.update(session, cluster, body, write)
    with_etag(response, changed)
    return changed


@router.delete("/{cluster}", status_code=204, summary="Delete a cluster that is no partnership's member")
async def delete_cluster(session: SessionDep, write: WriteDep, cluster: Ref) -> None:
    await service.delete(session, cluster, write)
