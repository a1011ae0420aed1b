"""What the three meeting resources share: their references, the rows still accepted, and
rejecting rows by a rule the database judges.

Meeting data hangs off a mission and its participating clusters, so its natural keys are
made of several references (mission + start, mission + cluster, mission + from + to). A row
stages them as text (the generic checks find unknown missions and clusters and duplicate
keys as written); `key` joins them, and the rules below compare the resolved ids.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from asyncpg import Connection
from pydantic import Field

from service.bulk.schemas import RowError
from service.bulk.spec import Column, Reference, Rules
from service.kit.schemas import InputModel
from service.kit.types import Text

# A mission by external_id (or id), a cluster by slug (or id), as the other resources name them.
MissionKey = Annotated[str, Text(200, min_length=1), Field(description="The mission's external_id (or id).")]
ClusterKey = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9-]+$",
                                  description="A participating cluster's slug (or id).")]

MISSION = Reference("mission", "mission", "missions", "external_id", "mission", "mission")
KEY = Column("key", sql_type="text")


def cluster(name: str, path: str, field: str) -> Reference:
    return Reference(name, path, "clusters", "slug", "cluster", field)


class MeetingRow(InputModel):
    mission: MissionKey

    def key_of(self, *parts: object) -> str:
        # A unit separator cannot appear in a slug or a time: keys of different rows never collide.
        return "\x1f".join(str(p) for p in (self.mission, *parts))


# The staged rows that passed every check so far, with their mission's id.
ACCEPTED = """
    SELECT s.*, rm.id AS mission_id FROM bulk_stage s JOIN ref_mission rm ON rm.ref = s.mission
    WHERE s.ok AND NOT EXISTS (SELECT 1 FROM bulk_rejected r WHERE r.line = s.line)"""


async def reject(conn: Connection, bad: str, cap: int) -> tuple[int, list[RowError]]:
    """Reject the rows `bad` selects (line, field, message; one row a line) and report them."""
    rows = await conn.fetch(
        f"""
        WITH bad AS ({bad}), marked AS (
            INSERT INTO bulk_rejected (line) SELECT line FROM bad ON CONFLICT DO NOTHING
        )
        SELECT line, field, message, count(*) OVER () AS total FROM bad ORDER BY line LIMIT $1
        """,
        cap,
    )
    errors = [RowError(line=r["line"], field=r["field"], message=r["message"]) for r in rows]
    return (rows[0]["total"] if rows else 0), errors


async def reject_all(conn: Connection, checks: list[str], cap: int) -> tuple[int, list[RowError]]:
    """Run the checks in order: each sees the rows the earlier ones left."""
    total, errors = 0, list[RowError]()
    for bad in checks:
        count, found = await reject(conn, bad, cap)
        total, errors = total + count, errors + found
    return total, errors


def same_record(resolved: str, columns: str, what: str) -> str:
    """Rows naming one record twice once references are resolved (a mission by id on one
    line and by external_id on another): the later lines are rejected."""
    return f"""
        SELECT line, NULL AS field, format('names the same %s as line %s', '{what}', first) AS message
        FROM (SELECT line, min(line) OVER (PARTITION BY {columns}) AS first FROM ({resolved}) x) d
        WHERE line > first"""


def participant(resolved: str, column: str, reference: str, field: str) -> str:
    """Rows naming a cluster that does not take part in the mission, as the API refuses them."""
    return f"""
        SELECT a.line, '{field}' AS field,
               format('cluster ''%s'' does not take part in mission ''%s''', a.{reference}, a.mission) AS message
        FROM ({resolved}) a
        WHERE NOT EXISTS (SELECT 1 FROM mission_participants p
                          WHERE p.mission_id = a.mission_id AND p.cluster_id = a.{column})"""


def counted(row: Mapping[str, Any]) -> tuple[int, int, int]:
    return row["created"], row["updated"], row["accepted"] - row["created"] - row["updated"]


def cancelling_meetings(where: str) -> str:
    """DELETE of the meetings `where` selects, writing each one's `meeting.cancelled` event as
    the API does (service/meetings/feed.py: ids and status only)."""
    return f"""
        WITH gone AS (DELETE FROM meetings WHERE {where}
                      RETURNING id, mission_id, request_id, status, version)
        INSERT INTO events (type, resource_id, resource_version, data)
        SELECT 'meeting.cancelled', id, version,
               jsonb_build_object('id', id, 'mission_id', mission_id, 'request_id', request_id, 'status', status)
        FROM gone"""


def request_events(changed: str, *, created: bool) -> str:
    """The `meeting_request.*` event of each request `changed` (a statement RETURNING id,
    mission_id, status, version) wrote, as the API writes them: `created` for a new one (an
    imported request may arrive already answered: its data says so), else its new status."""
    kind = "'meeting_request.created'" if created else "'meeting_request.' || status"
    return f"""
        WITH changed AS ({changed})
        INSERT INTO events (type, resource_id, resource_version, data)
        SELECT {kind}, id, version, jsonb_build_object('id', id, 'mission_id', mission_id, 'status', status)
        FROM changed"""


def planned_rules(
    check: Callable[[Connection, int], Awaitable[tuple[int, list[RowError]]]],
    plan: Callable[[Connection], Awaitable[tuple[int, int, int]]],
    table: str,
    apply: Callable[[Connection], Awaitable[None]],
) -> Rules:
    """Rules of a resource that first classifies its accepted rows into the temporary table
    `table` (`plan` makes it and counts it): a dry run only counts, a load also applies."""

    async def classify(conn: Connection) -> tuple[int, int, int]:
        counts = await plan(conn)
        await conn.execute(f"DROP TABLE {table}")
        return counts

    async def merge(conn: Connection) -> tuple[int, int, int]:
        counts = await plan(conn)
        await apply(conn)
        await conn.execute(f"DROP TABLE {table}")
        return counts

    return Rules(check, classify, merge)
