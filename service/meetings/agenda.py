"""A participant's agenda: JSON for its keys, iCalendar for whoever holds its feed token.

Calendar apps cannot send an Authorization header, so the feed's URL carries a secret token
(as calendar services do for private addresses). Only the token's SHA-256 is stored: a
database read does not give away working feed URLs. A new token replaces the old one; a
revoked or unknown token is a 404, the same as a feed that never existed.
"""

import hashlib
import secrets
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Principal, Write
from service.errors import NotFound
from service.meetings import ics, repository
from service.meetings.schemas import Agenda, AgendaToken
from service.meetings.service import meeting_schema, mission, participant
from service.missions import repository as missions
from service.models import Cluster
from service.models import Mission as MissionRow

# What a participant's agenda shows: the meetings the organiser has published, and after the
# event what became of them; drafts of a schedule may still move.
SHOWN = ("published", "held", "no-show")
FEED_PATH = "/v1/agendas/{token}.ics"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _own(session: AsyncSession, ref: str, cluster_ref: str, principal: Principal,
               today: date) -> tuple[MissionRow, Cluster]:
    row = await mission(session, ref, today)
    cluster = await participant(session, row, cluster_ref)
    if not principal.owns([cluster.id]):
        raise NotFound(f"Cluster '{cluster_ref}' does not take part in mission {row.id}.")
    return row, cluster


async def get(session: AsyncSession, ref: str, cluster_ref: str, principal: Principal, today: date) -> Agenda:
    row, cluster = await _own(session, ref, cluster_ref, principal, today)
    found = await repository.meetings(session, row.id, clusters=[cluster.id], statuses=SHOWN)
    return Agenda.model_validate({
        "cluster": cluster, "timezone": row.timezone, "meetings": [meeting_schema(*m) for m in found],
    })


async def new_token(session: AsyncSession, ref: str, cluster_ref: str, write: Write, base_url: str,
                    today: date) -> AgendaToken:
    row, cluster = await _own(session, ref, cluster_ref, write.principal, today)
    token = secrets.token_urlsafe(32)
    await repository.put_token(session, row.id, cluster.id, _hash(token))
    url = base_url.rstrip("/") + FEED_PATH.format(token=token)
    webcal = "webcal://" + url.split("://", 1)[1]
    return AgendaToken(token=token, url=url, webcal=webcal)


async def revoke(session: AsyncSession, ref: str, cluster_ref: str, write: Write, today: date) -> None:
    row, cluster = await _own(session, ref, cluster_ref, write.principal, today)
    if not await repository.drop_token(session, row.id, cluster.id):
        raise NotFound("This agenda has no feed token.")


async def feed(session: AsyncSession, token: str, today: date) -> bytes:
    found = await repository.token(session, _hash(token))
    if found is None:
        raise NotFound("There is no agenda feed at this address (the token is wrong or was revoked).")
    # The token's row goes with the participation, so both are there while it is.
    mission_row = await missions.get(session, found.mission_id, today)
    cluster = await repository.cluster(session, found.cluster_id)
    if mission_row is None or cluster is None:
        raise NotFound("There is no agenda feed at this address.")
    rows = await repository.meetings(session, found.mission_id, clusters=[found.cluster_id], statuses=SHOWN)
    return ics.agenda(mission_row[0], cluster, [(m, r, a, b) for m, r, a, b in rows])
