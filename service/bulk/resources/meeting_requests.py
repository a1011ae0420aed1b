"""Meeting requests, keyed by mission + asking cluster + asked cluster.

A pair may have asked more than once (a request withdrawn, then made again): a row stands
for the pair's open request (pending or accepted) if there is one, else its latest, and the
export holds that one per pair. A new row is a request made; a row for a stored request may
move its status only as the API lets its parties (pending to accepted, declined or
withdrawn; accepted to withdrawn, which cancels its meeting unless that is recorded), and
its message, once sent, stays. As in the API: both clusters take part, a cluster does not
ask itself, and one open request at most joins a pair, whichever side asked.
"""

from collections.abc import Mapping
from typing import Any

from asyncpg import Connection
from pydantic import ConfigDict, Field

from service.bulk.csvcodec import value
from service.bulk.resources.meeting_rows import (
    ACCEPTED,
    KEY,
    MISSION,
    ClusterKey,
    MeetingRow,
    cancelling_meetings,
    cluster,
    counted,
    participant,
    planned_rules,
    reject_all,
    request_events,
    same_record,
)
from service.bulk.schemas import RowError
from service.bulk.spec import Column, Resource
from service.kit.types import LongText
from service.meetings.schemas import RequestStatus
from service.meetings.service import RECORDED, TRANSITIONS

FIELDS = ("mission", "from", "to", "message", "status")
PLAN = "bulk_meeting_requests"
OPEN = "('pending', 'accepted')"
ALLOWED = ", ".join(f"('{was}', '{becomes}')" for was, becomes in TRANSITIONS)


class RequestRow(MeetingRow):
    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    from_: ClusterKey = Field(alias="from", description="The asking participant's slug (or id).")
    to: ClusterKey = Field(description="The participant asked (slug or id).")
    message: LongText | None = None
    status: RequestStatus = "pending"

    @property
    def key(self) -> str:
        return self.key_of(self.from_, self.to)


RESOLVED = f"""
    SELECT a.*, rf.id AS from_id, rt.id AS to_id
    FROM ({ACCEPTED}) a JOIN ref_from_cluster rf ON rf.ref = a.from_cluster JOIN ref_to_cluster rt ON rt.ref = a.to_cluster"""

# Each row with the stored request it stands for (the pair's open one, else its latest).
MATCHED = f"""
    SELECT a.*, q.id AS stored_id, q.status AS stored_status, q.message AS stored_message, mt.status AS meeting_status
    FROM ({RESOLVED}) a
    LEFT JOIN LATERAL (
        SELECT q.id, q.status, q.message FROM meeting_requests q
        WHERE q.mission_id = a.mission_id AND q.from_cluster_id = a.from_id AND q.to_cluster_id = a.to_id
        ORDER BY q.status IN {OPEN} DESC, q.created_at DESC, q.id LIMIT 1
    ) q ON true
    LEFT JOIN meetings mt ON mt.request_id = q.id"""

CHECKS = [
    same_record(RESOLVED, "mission_id, from_id, to_id", "meeting request"),
    f"""SELECT line, 'to' AS field, 'a cluster does not ask itself for a meeting' AS message
        FROM ({RESOLVED}) a WHERE from_id = to_id""",
    participant(RESOLVED, "from_id", "from_cluster", "from"),
    participant(RESOLVED, "to_id", "to_cluster", "to"),
    f"""SELECT line, 'message' AS field, 'the message of a sent meeting request does not change' AS message
        FROM ({MATCHED}) a WHERE stored_id IS NOT NULL AND message IS DISTINCT FROM stored_message""",
    f"""SELECT line, 'status' AS field, format('a %s meeting request cannot become %s', stored_status, status) AS message
        FROM ({MATCHED}) a
        WHERE stored_id IS NOT NULL AND status <> stored_status AND (stored_status, status) NOT IN ({ALLOWED})""",
    f"""SELECT line, 'status' AS field,
               'the meeting of this request is recorded as held or no-show; it can no longer be withdrawn' AS message
        FROM ({MATCHED}) a
        WHERE status = 'withdrawn' AND stored_status <> 'withdrawn'
          AND meeting_status IN ({', '.join(f"'{s}'" for s in RECORDED)})""",
]

# An open row whose pair has another open request: an earlier open row, or a stored one no
# row stands for (a row standing for it gives its status now). Windows and a hashed NOT IN,
# not correlated subqueries over the rows: those cost rows x rows.
PAIR_OPEN = f"""
    WITH m AS (
        SELECT x.*, min(line) FILTER (WHERE status IN {OPEN})
                    OVER (PARTITION BY mission_id, least(from_id, to_id), greatest(from_id, to_id)) AS first_open
        FROM ({MATCHED}) x
    )
    SELECT a.line, 'to' AS field, 'a pending or accepted meeting request already joins these two clusters' AS message
    FROM m a
    WHERE a.status IN {OPEN} AND (
        a.first_open < a.line
        OR EXISTS (SELECT 1 FROM meeting_requests q
                   WHERE q.mission_id = a.mission_id AND least(q.from_cluster_id, q.to_cluster_id) = least(a.from_id, a.to_id)
                     AND greatest(q.from_cluster_id, q.to_cluster_id) = greatest(a.from_id, a.to_id)
                     AND q.status IN {OPEN} AND q.id IS DISTINCT FROM a.stored_id
                     AND q.id NOT IN (SELECT stored_id FROM m WHERE stored_id IS NOT NULL)))"""


async def _check(conn: Connection, cap: int) -> tuple[int, list[RowError]]:
    # Last, and once: it judges the rows the other checks left (a rejected row that would
    # have closed a request leaves it open), and what it rejects only ever opens fewer.
    return await reject_all(conn, [*CHECKS, PAIR_OPEN], cap)


async def _plan(conn: Connection) -> tuple[int, int, int]:
    await conn.execute(f"DROP TABLE IF EXISTS {PLAN}")
    await conn.execute(f"CREATE TEMPORARY TABLE {PLAN} ON COMMIT DROP AS {MATCHED}")
    return counted(await conn.fetchrow(f"""
        SELECT count(*) FILTER (WHERE stored_id IS NULL) AS created,
               count(*) FILTER (WHERE status <> stored_status) AS updated, count(*) AS accepted
        FROM {PLAN}"""))


async def _apply(conn: Connection) -> None:
    # Withdrawing a request cancels its meeting, as in the API.
    await conn.execute(cancelling_meetings(f"""request_id IN (
            SELECT stored_id FROM {PLAN} WHERE status = 'withdrawn' AND stored_status <> 'withdrawn')"""))
    # Stored requests change first (an update never opens a closed one), then new ones go in:
    # a pair that changes sides in one file has one open request at every step.
    await conn.execute(request_events(f"""
        UPDATE meeting_requests q SET status = p.status, version = q.version + 1, updated_at = statement_timestamp()
        FROM {PLAN} p WHERE q.id = p.stored_id AND p.status <> p.stored_status
        RETURNING q.id, q.mission_id, q.status, q.version""", created=False))
    await conn.execute(request_events(f"""
        INSERT INTO meeting_requests (id, mission_id, from_cluster_id, to_cluster_id, message, status)
        SELECT gen_random_uuid(), mission_id, from_id, to_id, message, status FROM {PLAN} WHERE stored_id IS NULL
        ORDER BY line
        RETURNING id, mission_id, status, version""", created=True))


def _export(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in FIELDS}


RESOURCE = Resource(
    name="meeting-requests",
    model=RequestRow,
    table="meeting_requests",
    key="key",
    columns=(Column("message"), Column("status")),
    references=(MISSION, cluster("from_cluster", "from_", "from"), cluster("to_cluster", "to", "to")),
    staged=(KEY,),
    rules=planned_rules(_check, _plan, PLAN, _apply),
    private=True,
    csv=tuple(value(name) for name in FIELDS),
    export_query=f"""
        SELECT * FROM (
            SELECT DISTINCT ON (q.mission_id, q.from_cluster_id, q.to_cluster_id)
                   coalesce(m.external_id, m.id::text) AS mission, f.slug AS "from", t.slug AS "to", q.message, q.status
            FROM meeting_requests q JOIN missions m ON m.id = q.mission_id
            JOIN clusters f ON f.id = q.from_cluster_id JOIN clusters t ON t.id = q.to_cluster_id
            ORDER BY q.mission_id, q.from_cluster_id, q.to_cluster_id, q.status IN {OPEN} DESC, q.created_at DESC, q.id
        ) x ORDER BY 1, 2, 3
    """,
    export_row=_export,
)
