"""Participants' availability at a mission's meetings, keyed by mission + cluster.

A row lists the sessions (by name) the participant can meet in, replacing what is stored,
as `PUT .../participants/{cluster}/availability` does; the same rules hold: the cluster
takes part in the mission, the mission has sessions, and every session named is one of them.
"""

from collections.abc import Mapping
from typing import Any

from asyncpg import Connection
from pydantic import Field, field_validator

from service.bulk.csvcodec import listing, value
from service.bulk.resources.meeting_rows import (
    ACCEPTED,
    KEY,
    MISSION,
    ClusterKey,
    MeetingRow,
    cluster,
    counted,
    participant,
    reject_all,
    same_record,
)
from service.bulk.schemas import RowError
from service.bulk.spec import Column, Resource, Rules
from service.meetings.schemas import SessionName


class AvailabilityRow(MeetingRow):
    cluster: ClusterKey
    sessions: list[SessionName] = Field(max_length=100, description="The sessions this participant can meet in.")

    @field_validator("sessions")
    @classmethod
    def _once(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(names))  # as the API keeps them: each once, in the order given

    @property
    def key(self) -> str:
        return self.key_of(self.cluster)


RESOLVED = f"SELECT a.*, rc.id AS cluster_id FROM ({ACCEPTED}) a JOIN ref_cluster rc ON rc.ref = a.cluster"

CHECKS = [
    same_record(RESOLVED, "mission_id, cluster_id", "participant"),
    participant(RESOLVED, "cluster_id", "cluster", "cluster"),
    f"""SELECT a.line, 'mission' AS field, format('mission ''%s'' has no meeting sessions yet', a.mission) AS message
        FROM ({RESOLVED}) a
        WHERE NOT EXISTS (SELECT 1 FROM meeting_sessions ms WHERE ms.mission_id = a.mission_id)""",
    f"""SELECT a.line, 'sessions' AS field, 'no such session: ' || string_agg(u.name, ', ' ORDER BY u.n) AS message
        FROM ({RESOLVED}) a CROSS JOIN LATERAL unnest(a.sessions) WITH ORDINALITY AS u(name, n)
        WHERE NOT EXISTS (SELECT 1 FROM meeting_sessions ms WHERE ms.mission_id = a.mission_id AND ms.name = u.name)
        GROUP BY a.line""",
]

SOURCE = f"""
    SELECT a.mission_id, a.cluster_id, a.sessions, t.sessions AS stored, t.cluster_id IS NULL AS is_new
    FROM ({RESOLVED}) a
    LEFT JOIN meeting_availability t ON t.mission_id = a.mission_id AND t.cluster_id = a.cluster_id"""


async def _check(conn: Connection, cap: int) -> tuple[int, list[RowError]]:
    return await reject_all(conn, CHECKS, cap)


async def _classify(conn: Connection) -> tuple[int, int, int]:
    return counted(await conn.fetchrow(f"""
        WITH src AS ({SOURCE})
        SELECT count(*) FILTER (WHERE is_new) AS created,
               count(*) FILTER (WHERE NOT is_new AND stored IS DISTINCT FROM sessions) AS updated,
               count(*) AS accepted
        FROM src"""))


async def _merge(conn: Connection) -> tuple[int, int, int]:
    return counted(await conn.fetchrow(f"""
        WITH src AS ({SOURCE}), up AS (
            INSERT INTO meeting_availability AS t (mission_id, cluster_id, sessions)
            SELECT mission_id, cluster_id, sessions FROM src WHERE is_new OR stored IS DISTINCT FROM sessions
            ON CONFLICT (mission_id, cluster_id) DO UPDATE SET sessions = excluded.sessions
            WHERE t.sessions IS DISTINCT FROM excluded.sessions
            RETURNING (t.xmax = 0) AS created
        )
        SELECT count(*) FILTER (WHERE created) AS created, count(*) FILTER (WHERE NOT created) AS updated,
               (SELECT count(*) FROM src) AS accepted
        FROM up"""))


def _export(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"mission": row["mission"], "cluster": row["cluster"], "sessions": list(row["sessions"])}


RESOURCE = Resource(
    name="meeting-availability",
    model=AvailabilityRow,
    table="meeting_availability",
    key="key",
    columns=(Column("sessions"),),
    references=(MISSION, cluster("cluster", "cluster", "cluster")),
    staged=(KEY,),
    has_id=False,
    rules=Rules(_check, _classify, _merge),
    private=True,
    csv=(value("mission"), value("cluster"), listing("sessions")),
    export_query="""
        SELECT coalesce(m.external_id, m.id::text) AS mission, c.slug AS cluster, a.sessions
        FROM meeting_availability a JOIN missions m ON m.id = a.mission_id JOIN clusters c ON c.id = a.cluster_id
        ORDER BY 1, 2
    """,
    export_row=_export,
)
