"""Bulk loading: answers kept for Idempotency-Key retries, and background bulk jobs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bulk_idempotency_keys',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=False),
    sa.Column('response', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_bulk_idempotency_keys'))
    )
    op.create_index('ix_bulk_idempotency_keys_created_at', 'bulk_idempotency_keys', ['created_at'], unique=False)
    op.create_table('bulk_jobs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('resource', sa.String(length=40), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=10), server_default='queued', nullable=False),
    sa.Column('bytes_total', sa.BigInteger(), nullable=False),
    sa.Column('bytes_read', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rows_read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('problem', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'succeeded', 'failed')", name=op.f('ck_bulk_jobs_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_jobs'))
    )
    op.create_index('ix_bulk_jobs_created_at', 'bulk_jobs', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_bulk_jobs_created_at', table_name='bulk_jobs')
    op.drop_table('bulk_jobs')
    op.drop_index('ix_bulk_idempotency_keys_created_at', table_name='bulk_idempotency_keys')
    op.drop_table('bulk_idempotency_keys')
