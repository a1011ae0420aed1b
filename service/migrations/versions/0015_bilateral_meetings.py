"""Bilateral meetings at a mission: setup and sessions, availability, meeting requests,
meetings and agenda feed tokens.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

PARTICIPANT = ['mission_participants.mission_id', 'mission_participants.cluster_id']
BY_CLUSTER = ['mission_participants.cluster_id', 'mission_participants.mission_id']


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        'meeting_setups',
        sa.Column('mission_id', sa.Uuid(), nullable=False),
        sa.Column('meeting_minutes', sa.Integer(), nullable=False),
        sa.Column('tables', sa.Integer(), nullable=False),
        *_stamps(),
        sa.CheckConstraint('meeting_minutes BETWEEN 5 AND 480', name=op.f('ck_meeting_setups_meeting_minutes')),
        sa.CheckConstraint('tables BETWEEN 1 AND 10000', name=op.f('ck_meeting_setups_tables')),
        sa.ForeignKeyConstraint(['mission_id'], ['missions.id'], name=op.f('fk_meeting_setups_mission_id_missions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('mission_id', name=op.f('pk_meeting_setups')),
    )
    op.create_table(
        'meeting_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mission_id', sa.Uuid(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=False), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=False), nullable=False),
        sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_meeting_sessions_times')),
        sa.ForeignKeyConstraint(['mission_id'], ['meeting_setups.mission_id'], name=op.f('fk_meeting_sessions_mission_id_meeting_setups'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_sessions')),
        sa.UniqueConstraint('mission_id', 'name', name=op.f('uq_meeting_sessions_mission_id_name')),
    )
    op.create_table(
        'meeting_availability',
        sa.Column('mission_id', sa.Uuid(), nullable=False),
        sa.Column('cluster_id', sa.Uuid(), nullable=False),
        sa.Column('sessions', postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.ForeignKeyConstraint(['mission_id', 'cluster_id'], PARTICIPANT, name=op.f('fk_meeting_availability_mission_id_mission_participants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('mission_id', 'cluster_id', name=op.f('pk_meeting_availability')),
    )
    op.create_table(
        'meeting_requests',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('mission_id', sa.Uuid(), nullable=False),
        sa.Column('from_cluster_id', sa.Uuid(), nullable=False),
        sa.Column('to_cluster_id', sa.Uuid(), nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
        *_stamps(),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn')", name=op.f('ck_meeting_requests_status')),
        sa.CheckConstraint('from_cluster_id <> to_cluster_id', name=op.f('ck_meeting_requests_two_parties')),
        sa.ForeignKeyConstraint(['from_cluster_id', 'mission_id'], BY_CLUSTER, name=op.f('fk_meeting_requests_from_cluster_id_mission_participants'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['to_cluster_id', 'mission_id'], BY_CLUSTER, name=op.f('fk_meeting_requests_to_cluster_id_mission_participants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_requests')),
    )
    op.create_index('ix_meeting_requests_mission_id_created_at', 'meeting_requests', ['mission_id', 'created_at'])
    op.create_index('ix_meeting_requests_to', 'meeting_requests', ['mission_id', 'to_cluster_id'])
    op.create_index(
        'uq_meeting_requests_open_pair', 'meeting_requests',
        ['mission_id', sa.text('LEAST(from_cluster_id, to_cluster_id)'), sa.text('GREATEST(from_cluster_id, to_cluster_id)')],
        unique=True, postgresql_where=sa.text("status IN ('pending', 'accepted')"),
    )
    op.create_table(
        'meetings',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('mission_id', sa.Uuid(), nullable=False),
        sa.Column('request_id', sa.Uuid(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=False), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=False), nullable=False),
        sa.Column('table_number', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), server_default='scheduled', nullable=False),
        *_stamps(),
        sa.CheckConstraint("status IN ('scheduled', 'published', 'held', 'no-show')", name=op.f('ck_meetings_status')),
        sa.CheckConstraint('table_number >= 1', name=op.f('ck_meetings_table_number')),
        sa.ForeignKeyConstraint(['mission_id'], ['missions.id'], name=op.f('fk_meetings_mission_id_missions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['request_id'], ['meeting_requests.id'], name=op.f('fk_meetings_request_id_meeting_requests'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
        sa.UniqueConstraint('mission_id', 'starts_at', 'table_number', name=op.f('uq_meetings_mission_id_starts_at_table_number')),
        sa.UniqueConstraint('request_id', name=op.f('uq_meetings_request_id')),
    )
    op.create_table(
        'agenda_tokens',
        sa.Column('mission_id', sa.Uuid(), nullable=False),
        sa.Column('cluster_id', sa.Uuid(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
        sa.ForeignKeyConstraint(['mission_id', 'cluster_id'], PARTICIPANT, name=op.f('fk_agenda_tokens_mission_id_mission_participants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('mission_id', 'cluster_id', name=op.f('pk_agenda_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_agenda_tokens_token_hash')),
    )


def downgrade() -> None:
    op.drop_table('agenda_tokens')
    op.drop_table('meetings')
    op.drop_index('uq_meeting_requests_open_pair', table_name='meeting_requests')
    op.drop_index('ix_meeting_requests_to', table_name='meeting_requests')
    op.drop_index('ix_meeting_requests_mission_id_created_at', table_name='meeting_requests')
    op.drop_table('meeting_requests')
    op.drop_table('meeting_availability')
    op.drop_table('meeting_sessions')
    op.drop_table('meeting_setups')
