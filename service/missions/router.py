from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.access.principal import WriteDep
from service.db import SessionDep
from service.kit.clock import ClockDep
from service.kit.http import conditional_read, created, link_next, with_etag
from service.kit.pagination import Page
from service.missions import service
from service.missions.schemas import (
    Mission,
    MissionCreate,
    MissionPatch,
    Participant,
    ParticipantIn,
    ParticipantPatch,
)

router = APIRouter(prefix="/missions", tags=["missions"])

MissionRef = Annotated[str, Path(min_length=1, max_length=80, description="The mission's id.")]
ClusterRef = Annotated[str, Path(min_length=1, max_length=80, description="The participating cluster's id or slug.")]


@router.get("", summary="List and filter missions (by start date)")
async def list_missions(
    session: SessionDep, clock: ClockDep, request: Request, response: Response,
    query: Annotated[service.MissionListQuery, Query()],
) -> Page[Mission]:
    page = await service.list_page(session, query, query.as_of or clock.today())
    link_next(request, response, page.next_cursor)
    return page


@router.post("", status_code=201, summary="Announce a mission")
async def create_mission(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, body: MissionCreate
) -> Mission:
    mission = await service.create(session, body, clock.today(), write)
    created(response, f"/v1/missions/{mission.id}", mission)
    return mission


@router.get("/{mission}", response_model=Mission, summary="Get a mission")
async def get_mission(
    session: SessionDep, clock: ClockDep, request: Request, response: Response, mission: MissionRef
) -> Response:
    return conditional_read(request, response, await service.get(session, mission, clock.today()))


@router.patch("/{mission}", summary="Change a mission (merge)")
async def update_mission(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, mission: MissionRef, body: MissionPatch,
) -> Mission:
    changed = await service.update(session, mission, body, write, clock.today())
    with_etag(response, changed)
    return changed


@router.delete("/{mission}", status_code=204, summary="Delete a mission")
async def delete_mission(session: SessionDep, write: WriteDep, clock: ClockDep, mission: MissionRef) -> None:
    await service.delete(session, mission, write, clock.today())


@router.get("/{mission}/participants", summary="List the clusters taking part")
async def list_mission_participants(session: SessionDep, clock: ClockDep, mission: MissionRef) -> Page[Participant]:
    return await service.list_participants(session, mission, clock.today())


@router.post("/{mission}/participants", status_code=201, summary="Add a participating cluster")
async def add_mission_participant(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, mission: MissionRef, body: ParticipantIn
) -> Participant:
    participant = await service.add_participant(session, mission, body, clock.today(), write)
    created(response, f"/v1/missions/{mission}/participants/{participant.cluster.slug}", participant)
    return participant


@router.get("/{mission}/participants/{cluster}", response_model=Participant, summary="Get one participation")
async def get_mission_participant(
    session: SessionDep, clock: ClockDep, request: Request, response: Response, mission: MissionRef, cluster: ClusterRef
) -> Response:
    return conditional_read(request, response, await service.get_participant(session, mission, cluster, clock.today()))


@router.patch("/{mission}/participants/{cluster}", summary="Change the number of SMEs")
async def update_mission_participant(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, mission: MissionRef, cluster: ClusterRef,
    body: ParticipantPatch,
) -> Participant:
    participant = await service.update_participant(session, mission, cluster, body, write, clock.today())
    with_etag(response, participant)
    return participant


@router.delete("/{mission}/participants/{cluster}", status_code=204, summary="Remove a participating cluster")
async def remove_mission_participant(
    session: SessionDep, write: WriteDep, clock: ClockDep, mission: MissionRef, cluster: ClusterRef
) -> None:
    await service.remove_participant(session, mission, cluster, write, clock.today())
