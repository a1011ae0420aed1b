"""A mission's meeting sessions, keyed by mission + start, with the mission's meeting setup.

Each row is one session and repeats the setup (meeting length and tables), so that a
spreadsheet of sessions is the whole setup: the rows of one mission give the same setup,
which is created or changed with them. Unlike `PUT .../meeting-setup`, a load upserts: stored
sessions the file does not name stay. The API's rules hold for what the mission ends up
with: names differ, sessions do not overlap, each holds a meeting, at most MAX_SLOTS slots,
nothing changes once meetings are published, and a change drops an unpublished schedule.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from asyncpg import Connection
from pydantic import Field, model_validator

from service.bulk.csvcodec import value
from service.bulk.resources.meeting_rows import (
    ACCEPTED,
    KEY,
    MISSION,
    MeetingRow,
    cancelling_meetings,
    counted,
    planned_rules,
    reject,
    reject_all,
    same_record,
)
from service.bulk.schemas import RowError
from service.bulk.spec import Column, Resource
from service.meetings.schemas import SessionIn
from service.meetings.service import MAX_SLOTS, RECORDED

MINUTE = "'YYYY-MM-DD\"T\"HH24:MI'"
FIELDS = ("mission", "name", "starts_at", "ends_at", "meeting_minutes", "tables")
PLAN = "bulk_meeting_sessions"


class SessionRow(MeetingRow, SessionIn):
    meeting_minutes: int = Field(ge=5, le=480, description="The mission's meeting length (the same on its every row).")
    tables: int = Field(ge=1, le=10_000, description="The mission's tables (the same on its every row).")

    @model_validator(mode="after")
    def _holds_a_meeting(self) -> "SessionRow":
        if self.ends_at - self.starts_at < timedelta(minutes=self.meeting_minutes):
            raise ValueError("a session holds at least one meeting of meeting_minutes")
        return self

    @property
    def key(self) -> str:
        return self.key_of(self.starts_at.isoformat())


def _final(rows: str) -> str:
    """Every session the missions of `rows` would have: the rows, and the stored sessions
    that no row replaces (line NULL)."""
    return f"""
        SELECT line, mission_id, name, starts_at, ends_at FROM ({rows}) r
        UNION ALL
        SELECT NULL, ms.mission_id, ms.name, ms.starts_at, ms.ends_at FROM meeting_sessions ms
        WHERE ms.mission_id IN (SELECT mission_id FROM ({rows}) r)
          AND NOT EXISTS (SELECT 1 FROM ({rows}) r WHERE r.mission_id = ms.mission_id AND r.starts_at = ms.starts_at)"""


SETUP_DIFFERS = f"""
    SELECT line, 'meeting_minutes' AS field,
           format('line %s gives mission ''%s'' meetings of %s minutes at %s tables; every session row of a mission '
                  'gives the same', first, mission, minutes, first_tables) AS message
    FROM (SELECT a.*, first_value(line) OVER w AS first, first_value(meeting_minutes) OVER w AS minutes,
                 first_value(tables) OVER w AS first_tables
          FROM ({ACCEPTED}) a WINDOW w AS (PARTITION BY mission_id ORDER BY line)) x
    WHERE (meeting_minutes, tables) <> (minutes, first_tables)"""

NAME_TWICE = f"""
    SELECT line, 'name' AS field, format('session ''%s'' is on line %s already', name, first) AS message
    FROM (SELECT line, name, min(line) OVER (PARTITION BY mission_id, name) AS first FROM ({ACCEPTED}) a) x
    WHERE line > first"""

PUBLISHED = f"""
    SELECT a.line, NULL AS field,
           'meetings of this mission are published: its sessions cannot change (schedule again with '
           'reschedule=all first, before publishing)' AS message
    FROM ({ACCEPTED}) a
    LEFT JOIN meeting_setups st ON st.mission_id = a.mission_id
    LEFT JOIN meeting_sessions ms ON ms.mission_id = a.mission_id AND ms.starts_at = a.starts_at
    WHERE EXISTS (SELECT 1 FROM meetings m WHERE m.mission_id = a.mission_id
                                             AND m.status IN ('published', {', '.join(f"'{s}'" for s in RECORDED)}))
      AND (ms.id IS NULL OR (ms.name, ms.ends_at) IS DISTINCT FROM (a.name, a.ends_at)
           OR (st.meeting_minutes, st.tables) IS DISTINCT FROM (a.meeting_minutes, a.tables))"""

# A row clashing with an earlier row or with a stored session it does not replace.
CLASHES = f"""
    WITH f AS ({_final(ACCEPTED)})
    SELECT DISTINCT ON (a.line) a.line,
           CASE WHEN f.name = a.name THEN 'name' ELSE 'starts_at' END AS field,
           CASE WHEN f.name = a.name
                THEN format('session ''%s'' is already the one at %s', a.name, to_char(f.starts_at, {MINUTE}))
                ELSE format('overlaps session ''%s'' (%s to %s)', f.name, to_char(f.starts_at, {MINUTE}),
                            to_char(f.ends_at, {MINUTE})) END AS message
    FROM ({ACCEPTED}) a
    JOIN f ON f.mission_id = a.mission_id AND f.starts_at <> a.starts_at AND (f.line IS NULL OR f.line < a.line)
          AND (f.name = a.name OR (a.starts_at < f.ends_at AND f.starts_at < a.ends_at))
    ORDER BY a.line, f.starts_at"""

SLOTS = f"""
    WITH setup AS (SELECT DISTINCT ON (mission_id) mission_id, meeting_minutes FROM ({ACCEPTED}) a
                   ORDER BY mission_id, line),
         counts AS (SELECT f.mission_id,
                           min(floor(extract(epoch FROM f.ends_at - f.starts_at) / 60 / s.meeting_minutes)) AS fewest,
                           sum(floor(extract(epoch FROM f.ends_at - f.starts_at) / 60 / s.meeting_minutes)) AS total
                    FROM ({_final(ACCEPTED)}) f JOIN setup s ON s.mission_id = f.mission_id GROUP BY f.mission_id)
    SELECT a.line, 'meeting_minutes' AS field,
           CASE WHEN c.fewest < 1 THEN 'a session of this mission would hold no meeting of meeting_minutes'
                ELSE format('the mission''s sessions would hold %s slots, more than {MAX_SLOTS}; use longer meetings',
                            c.total) END AS message
    FROM ({ACCEPTED}) a JOIN counts c ON c.mission_id = a.mission_id
    WHERE c.fewest < 1 OR c.total > {MAX_SLOTS}"""


async def _check(conn: Connection, cap: int) -> tuple[int, list[RowError]]:
    total, errors = await reject_all(
        conn, [same_record(ACCEPTED, "mission_id, starts_at", "session"), SETUP_DIFFERS, NAME_TWICE, PUBLISHED], cap
    )
    # Rejecting a row brings back the stored session it would have replaced, which may clash
    # with another row: until nothing more clashes.
    while True:
        count, found = await reject(conn, CLASHES, cap)
        total, errors = total + count, errors + found
        if not count:
            break
    count, found = await reject(conn, SLOTS, cap)
    return total + count, errors + found


async def _plan(conn: Connection) -> tuple[int, int, int]:
    """Classify the accepted rows into the plan table; (created, updated, unchanged)."""
    await conn.execute(f"DROP TABLE IF EXISTS {PLAN}")
    await conn.execute(f"""
        CREATE TEMPORARY TABLE {PLAN} ON COMMIT DROP AS
        SELECT a.line, a.mission_id, a.name, a.starts_at, a.ends_at, a.meeting_minutes, a.tables,
               ms.id AS stored_id, ms.id IS NULL AS is_new,
               ms.id IS NOT NULL AND (ms.name, ms.ends_at) IS DISTINCT FROM (a.name, a.ends_at) AS session_changed,
               (st.meeting_minutes, st.tables) IS DISTINCT FROM (a.meeting_minutes, a.tables) AS setup_changed
        FROM ({ACCEPTED}) a
        LEFT JOIN meeting_sessions ms ON ms.mission_id = a.mission_id AND ms.starts_at = a.starts_at
        LEFT JOIN meeting_setups st ON st.mission_id = a.mission_id""")
    return counted(await conn.fetchrow(f"""
        SELECT count(*) FILTER (WHERE is_new) AS created,
               count(*) FILTER (WHERE NOT is_new AND (session_changed OR setup_changed)) AS updated,
               count(*) AS accepted
        FROM {PLAN}"""))


async def _apply(conn: Connection) -> None:
    # The setup moves with its sessions too (version, updated_at, and its row lock), as a
    # scheduler run reads it: a run that read the old sessions is then stale.
    await conn.execute(f"""
        INSERT INTO meeting_setups AS t (mission_id, meeting_minutes, tables)
        SELECT DISTINCT ON (mission_id) mission_id, meeting_minutes, tables FROM {PLAN}
        WHERE is_new OR session_changed OR setup_changed
        ORDER BY mission_id, line
        ON CONFLICT (mission_id) DO UPDATE SET meeting_minutes = excluded.meeting_minutes, tables = excluded.tables,
            version = t.version + 1, updated_at = statement_timestamp()""")
    # As a new setup does: the unpublished schedule was cut from the old slots.
    await conn.execute(cancelling_meetings(f"""status = 'scheduled' AND mission_id IN (
            SELECT mission_id FROM {PLAN} WHERE is_new OR session_changed OR setup_changed)"""))
    # Changed sessions are replaced (nothing refers to a session row), in two statements so
    # that two sessions trading names never meet the unique name in between.
    await conn.execute(f"DELETE FROM meeting_sessions WHERE id IN (SELECT stored_id FROM {PLAN} WHERE session_changed)")
    await conn.execute(f"""
        INSERT INTO meeting_sessions (mission_id, name, starts_at, ends_at)
        SELECT mission_id, name, starts_at, ends_at FROM {PLAN} WHERE is_new OR session_changed""")


def _export(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name].strftime("%Y-%m-%dT%H:%M") if name.endswith("_at") else row[name] for name in FIELDS}


RESOURCE = Resource(
    name="meeting-sessions",
    model=SessionRow,
    table="meeting_sessions",
    key="key",
    columns=(Column("name"), Column("starts_at"), Column("ends_at")),
    references=(MISSION,),
    staged=(KEY, Column("meeting_minutes", sql_type="integer"), Column("tables", sql_type="integer")),
    rules=planned_rules(_check, _plan, PLAN, _apply),
    csv=tuple(value(name) for name in FIELDS),
    export_query="""
        SELECT coalesce(m.external_id, m.id::text) AS mission, ms.name, ms.starts_at, ms.ends_at,
               st.meeting_minutes, st.tables
        FROM meeting_sessions ms JOIN meeting_setups st ON st.mission_id = ms.mission_id
        JOIN missions m ON m.id = ms.mission_id
        ORDER BY 1, ms.starts_at
    """,
    export_row=_export,
)
