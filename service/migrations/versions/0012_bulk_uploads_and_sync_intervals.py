"""Uploads of async bulk jobs kept in the database (any worker reads them), and calendar
sources' sync intervals.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bulk_uploads',
        sa.Column('job_id', sa.Uuid(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['bulk_jobs.id'], name=op.f('fk_bulk_uploads_job_id_bulk_jobs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('job_id', 'seq', name=op.f('pk_bulk_uploads')),
    )
    op.add_column('calendar_sources', sa.Column('sync_interval', sa.Interval(), nullable=True))


def downgrade() -> None:
    op.drop_column('calendar_sources', 'sync_interval')
    op.drop_table('bulk_uploads')
