"""The task queue's schema (procrastinate) and the change feed's outbox.

The queue's schema is the one shipped with the pinned procrastinate version (pyproject pins
it): a version bump comes with a migration applying procrastinate's own migration files.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql
from sqlalchemy.util import await_only

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Every insert into events queues one dispatch of the feed to its consumers (webhooks, saved
# searches), in the writer's transaction: a dispatch exists if and only if the change
# committed. The queueing lock keeps at most one waiting; a dispatch already running is
# followed by the waiting one, so no event is left behind. No job lock: the dispatcher's
# position row is locked while a dispatch runs, so the next one waits there and starts the
# moment the first commits (a job lock would leave it for the worker's next poll, seconds on).
DISPATCH_TRIGGER = """
CREATE FUNCTION events_queue_dispatch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args)
    VALUES ('events', 'events:dispatch', 'events:dispatch', '{}')
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER events_queue_dispatch AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_queue_dispatch();
"""

DROP_PROCRASTINATE = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'procrastinate%' LOOP
        EXECUTE format('DROP TABLE %I CASCADE', r.tablename);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate%' LOOP
        EXECUTE format('DROP FUNCTION %s CASCADE', r.sig);
    END LOOP;
    FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate%' AND t.typtype IN ('e', 'c') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
    END LOOP;
END;
$$;
"""


def _script(sql: str) -> None:
    """Run a script of many statements (asyncpg prepares one statement at a time otherwise)."""
    dbapi = op.get_bind().connection.dbapi_connection
    if dbapi is None:
        raise RuntimeError("the migration's connection was closed")
    await_only(dbapi.driver_connection.execute(sql))


def upgrade() -> None:
    _script(SchemaManager.get_schema())
    op.create_table(
        'events',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('txid', sa.BigInteger(), server_default=sa.text('pg_current_xact_id()::text::bigint'), nullable=False),
        sa.Column('type', sa.String(length=60), nullable=False),
        sa.Column('resource_id', sa.Uuid(), nullable=False),
        sa.Column('resource_version', sa.Integer(), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
        sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('audience_key_id', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['audience_key_id'], ['api_keys.id'], name=op.f('fk_events_audience_key_id_api_keys'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    )
    op.create_index('ix_events_audience_key_id', 'events', ['audience_key_id'], unique=False)
    op.create_index('ix_events_txid_id', 'events', ['txid', 'id'], unique=False)
    op.create_index('ix_events_type_txid_id', 'events', ['type', 'txid', 'id'], unique=False)
    op.create_table(
        'event_consumers',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('txid', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('event_id', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_event_consumers')),
    )
    _script(DISPATCH_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER events_queue_dispatch ON events")
    op.execute("DROP FUNCTION events_queue_dispatch()")
    op.drop_table('event_consumers')
    op.drop_index('ix_events_audience_key_id', table_name='events')
    op.drop_index('ix_events_type_txid_id', table_name='events')
    op.drop_index('ix_events_txid_id', table_name='events')
    op.drop_table('events')
    op.execute(DROP_PROCRASTINATE)
