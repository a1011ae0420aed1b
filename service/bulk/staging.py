"""The SQL of a bulk load: staging, checks that need the database, and the merge.

Validated rows are COPYed into a temporary staging table (`bulk_stage`), with rows that
failed validation staged by key only (`ok = false`) so that duplicates are judged on the
file as written. Then, set-based:

1. duplicates: a key seen on an earlier line rejects the later rows (`bulk_rejected`);
2. references: the natural keys rows name are resolved once into `ref_<name>` maps
   (slug or external_id, else an id), and rows naming unknown ones are rejected;
3. the merge: one INSERT ... ON CONFLICT (key) DO UPDATE of the rows that are new or differ
   from what is stored (columns or child rows), which bumps version and updated_at of the
   rows it updates and never writes an unchanged one; then the child rows of merged parents;
   then (write_events) one change-feed event per created or updated record.

Everything runs in the request's transaction: an error or an interrupted upload leaves
nothing behind.
"""

from typing import Any

from asyncpg import Connection

from service.bulk.schemas import RowError
from service.bulk.spec import Resource

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
STAGE = "bulk_stage"
CHANGED = "bulk_changed"


def _ref_table(name: str) -> str:
    return f"ref_{name}"


def _temp_tables(resource: Resource) -> list[str]:
    return [STAGE, "bulk_rejected", "bulk_merged", CHANGED, *(_ref_table(r.name) for r in resource.references)]


async def create(conn: Connection, resource: Resource) -> list[str]:
    """Create the staging tables; returns the staging columns in COPY order."""
    await drop(conn, resource)
    columns = [("line", "integer"), ("ok", "boolean"), *resource.staging_columns]
    ddl = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
    await conn.execute(f"CREATE TEMPORARY TABLE {STAGE} ({ddl}) ON COMMIT DROP")
    await conn.execute("CREATE TEMPORARY TABLE bulk_rejected (line integer PRIMARY KEY) ON COMMIT DROP")
    if resource.children:
        kids = "".join(f", {name} {sql_type}" for name, sql_type in resource.children.types.items())
        await conn.execute(f"CREATE TEMPORARY TABLE bulk_merged (id uuid, created boolean{kids}) ON COMMIT DROP")
    if resource.event:
        await conn.execute(f"CREATE TEMPORARY TABLE {CHANGED} (id uuid, created boolean) ON COMMIT DROP")
    return [name for name, _ in columns]


async def copy(conn: Connection, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        await conn.copy_records_to_table(STAGE, records=rows, columns=columns)


async def drop(conn: Connection, resource: Resource) -> None:
    # ON COMMIT DROP removes them at the end of the transaction; dropping them as soon as the
    # load is done also frees a connection that runs several loads in one transaction.
    await conn.execute(f"DROP TABLE IF EXISTS {', '.join(_temp_tables(resource))}")


async def rejected_count(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM bulk_rejected"))


async def reject_duplicates(conn: Connection, resource: Resource, cap: int) -> tuple[int, list[RowError]]:
    """Reject every row whose key an earlier line already has (valid or not)."""
    key = resource.key
    rows = await conn.fetch(
        f"""
        WITH firsts AS (
            SELECT {key} AS key, min(line) AS first FROM {STAGE} WHERE {key} IS NOT NULL
            GROUP BY {key} HAVING count(*) > 1
        ), duplicates AS (
            SELECT s.line, f.first, f.key FROM {STAGE} s JOIN firsts f ON f.key = s.{key}
            WHERE s.ok AND s.line > f.first
        ), marked AS (
            INSERT INTO bulk_rejected (line) SELECT line FROM duplicates ON CONFLICT DO NOTHING
        )
        SELECT line, first, key, count(*) OVER () AS total FROM duplicates ORDER BY line LIMIT $1
        """,
        cap,
    )
    errors = [
        RowError(line=r["line"], field=key, message=f"duplicate {key} '{r['key']}': line {r['first']} has it already")
        for r in rows
    ]
    return (rows[0]["total"] if rows else 0), errors


async def reject_guarded(conn: Connection, resource: Resource, cap: int) -> tuple[int, list[RowError]]:
    """Reject every row still standing that would change its stored record against one of
    the resource's guards (the first it breaks is reported)."""
    total, errors = 0, []
    for guard in resource.guards:
        rows = await conn.fetch(
            f"""
            WITH broken AS (
                SELECT s.line FROM {STAGE} s JOIN {resource.table} t ON t.{resource.key} = s.{resource.key}
                WHERE s.ok AND NOT EXISTS (SELECT FROM bulk_rejected r WHERE r.line = s.line) AND ({guard.breaks})
            ), marked AS (
                INSERT INTO bulk_rejected (line) SELECT line FROM broken ON CONFLICT DO NOTHING
            )
            SELECT line, count(*) OVER () AS total FROM broken ORDER BY line LIMIT $1
            """,
            cap,
        )
        total += rows[0]["total"] if rows else 0
        errors += [RowError(line=r["line"], field=guard.field, message=guard.message) for r in rows]
    return total, errors


async def resolve_references(conn: Connection, resource: Resource, cap: int) -> tuple[int, list[RowError]]:
    """Map every natural key rows name to an id (`ref_<name>`) and reject rows naming
    unknown ones, or the same record twice (once by key, once by id)."""
    total, errors = 0, []
    for ref in resource.references:
        table = _ref_table(ref.name)
        named = f"unnest(s.{ref.name})" if ref.many else f"s.{ref.name}"
        await conn.execute(
            f"""
            CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS
            SELECT r.ref, coalesce(k.id, i.id) AS id, k.id IS NULL AND i.id IS NOT NULL AS by_id
            FROM (SELECT DISTINCT {named} AS ref FROM {STAGE} s WHERE s.ok) r
            LEFT JOIN {ref.target} k ON k.{ref.key} = r.ref
            LEFT JOIN {ref.target} i ON k.id IS NULL
                AND i.id = CASE WHEN r.ref ~ '{UUID_PATTERN}' THEN r.ref::uuid END
            WHERE r.ref IS NOT NULL
            """
        )
        await conn.execute(f"ANALYZE {table}")
        named = (
            f"CROSS JOIN LATERAL unnest(s.{ref.name}) WITH ORDINALITY AS u(ref, n)" if ref.many
            else f"CROSS JOIN LATERAL (SELECT s.{ref.name} AS ref, 1::bigint AS n) u"
        )
        rows = await conn.fetch(
            f"""
            WITH unknown AS (
                SELECT s.line, u.n, u.ref FROM {STAGE} s {named} JOIN {table} m ON m.ref = u.ref
                WHERE s.ok AND m.id IS NULL
            ), marked AS (
                INSERT INTO bulk_rejected (line) SELECT DISTINCT line FROM unknown ON CONFLICT DO NOTHING
            )
            SELECT line, n, ref, count(*) OVER () AS total FROM unknown ORDER BY line, n LIMIT $1
            """,
            cap,
        )
        total += rows[0]["total"] if rows else 0
        errors += [
            RowError(line=r["line"], field=ref.field.format(r["n"] - 1), message=f"there is no {ref.what} '{r['ref']}'")
            for r in rows
        ]
        if ref.many and await conn.fetchval(f"SELECT bool_or(by_id) FROM {table}"):
            rows = await conn.fetch(
                f"""
                WITH twice AS (
                    SELECT s.line FROM {STAGE} s
                    WHERE s.ok AND (SELECT count(m.id) <> count(DISTINCT m.id)
                                    FROM unnest(s.{ref.name}) AS u(ref) JOIN {table} m ON m.ref = u.ref)
                ), marked AS (
                    INSERT INTO bulk_rejected (line) SELECT line FROM twice ON CONFLICT DO NOTHING
                )
                SELECT line, count(*) OVER () AS total FROM twice ORDER BY line LIMIT $1
                """,
                cap,
            )
            total += rows[0]["total"] if rows else 0
            field = ref.field.split(".{}")[0]
            errors += [RowError(line=r["line"], field=field, message=f"names the same {ref.what} twice") for r in rows]
    return total, errors


def _source(resource: Resource) -> str:
    """The accepted rows with the values to write, the stored row they match and whether
    they are new or changed (columns or child rows)."""
    t_key = resource.key
    joins, values = [], [f"s.{c.name}" for c in resource.columns]
    for ref in resource.references:
        if ref.sets:
            alias = f"r_{ref.name}"
            joins.append(f"LEFT JOIN {_ref_table(ref.name)} {alias} ON {alias}.ref = s.{ref.name}")
            values.append(f"{alias}.id AS {ref.sets}")
    children = resource.children
    if children:
        values += [f"{expr} AS {name}" for name, expr in children.wanted.items()]
    written = resource.written_columns
    columns_differ = f"({', '.join(f't.{c}' for c in written)}) IS DISTINCT FROM ({', '.join(f'x.{c}' for c in written)})"
    current_id = "t.id" if resource.has_id else "NULL::uuid"
    kids_differ, lateral = "false", ""
    if children:
        names = list(children.wanted)
        kids_differ = f"({', '.join(f'cur.{n}' for n in names)}) IS DISTINCT FROM ({', '.join(f'x.{n}' for n in names)})"
        lateral = f"LEFT JOIN LATERAL ({children.current}) cur ON true"
    return f"""
        SELECT x.*, {current_id} AS current_id, t.{t_key} IS NULL AS is_new,
               {kids_differ} AS children_changed,
               t.{t_key} IS NOT NULL AND ({columns_differ} OR {kids_differ}) AS is_changed
        FROM (
            SELECT s.line, {', '.join(values)}
            FROM {STAGE} s {' '.join(joins)}
            WHERE s.ok AND NOT EXISTS (SELECT 1 FROM bulk_rejected r WHERE r.line = s.line)
        ) x
        LEFT JOIN {resource.table} t ON t.{t_key} = x.{t_key}
        {lateral}
    """


async def classify(conn: Connection, resource: Resource) -> tuple[int, int, int]:
    """(created, updated, unchanged) a merge would count, writing nothing."""
    row = await conn.fetchrow(
        f"""
        WITH src AS ({_source(resource)})
        SELECT count(*) FILTER (WHERE is_new) AS created, count(*) FILTER (WHERE is_changed) AS updated,
               count(*) AS accepted
        FROM src
        """
    )
    return row["created"], row["updated"], row["accepted"] - row["created"] - row["updated"]


def _upsert(resource: Resource) -> str:
    written = resource.written_columns
    key = resource.key
    updated = [c for c in written if c != key]
    id_column, id_value, returning_id = ("id, ", "coalesce(current_id, gen_random_uuid()), ", "t.id, ") if resource.has_id else ("", "", "")
    differs = f"({', '.join(f't.{c}' for c in updated)}) IS DISTINCT FROM ({', '.join(f'excluded.{c}' for c in updated)})"
    if resource.children:
        # A row found changed carries the stored id, so it is updated even when only its child
        # rows differ; a row that was new when classified but was inserted meanwhile carries
        # a fresh id and is updated only when its columns differ.
        differs = f"t.id = excluded.id OR {differs}"
    return f"""
        INSERT INTO {resource.table} AS t ({id_column}{', '.join(written)})
        SELECT {id_value}{', '.join(written)} FROM src WHERE is_new OR is_changed
        ON CONFLICT ({key}) DO UPDATE SET
            {', '.join(f'{c} = excluded.{c}' for c in updated)},
            version = t.version + 1, updated_at = statement_timestamp()
        WHERE {differs}
        RETURNING {returning_id}t.{key} AS key, (t.xmax = 0) AS created
    """


async def write_events(conn: Connection, resource: Resource) -> None:
    """One event per record the merge created or updated, its data the stored row as it now
    is (its columns by name, computed ones left out, plus its child rows in the form the
    merge compares them): set-based, where the API's representation would cost an ORM load
    per record."""
    if not resource.event:
        return
    children = resource.children
    data, lateral = "to_jsonb(t)", ""
    if children:
        data += " || to_jsonb(cur)"
        lateral = f"LEFT JOIN LATERAL ({children.current}) cur ON true"
    await conn.execute(f"""
        INSERT INTO events (type, resource_id, resource_version, data)
        SELECT CASE WHEN c.created THEN '{resource.event}.created' ELSE '{resource.event}.updated' END,
               t.id, t.version, {data}
        FROM {CHANGED} c
        JOIN (SELECT {', '.join(resource.stored_columns)} FROM {resource.table}) t ON t.id = c.id {lateral}
    """)


async def merge(conn: Connection, resource: Resource) -> tuple[int, int, int]:
    """Apply the accepted rows, listing in bulk_changed the records written; (created,
    updated, unchanged)."""
    children = resource.children
    more = ""
    if resource.event:
        more = f", changed AS (INSERT INTO {CHANGED} (id, created) SELECT id, created FROM up)"
    if children:
        names = list(children.wanted)
        more += f""", kids AS (
            INSERT INTO bulk_merged (id, created, {', '.join(names)})
            SELECT up.id, up.created, {', '.join(f'src.{n}' for n in names)}
            FROM up JOIN src ON src.{resource.key} = up.key WHERE src.children_changed
        )"""
    row = await conn.fetchrow(
        f"""
        WITH src AS ({_source(resource)}), up AS ({_upsert(resource)}){more}
        SELECT count(*) FILTER (WHERE created) AS created, count(*) FILTER (WHERE NOT created) AS updated,
               (SELECT count(*) FROM src) AS accepted
        FROM up
        """
    )
    if children:
        for statement in children.merge:
            await conn.execute(statement)
    return row["created"], row["updated"], row["accepted"] - row["created"] - row["updated"]
