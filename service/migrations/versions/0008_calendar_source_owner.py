"""A calendar source's owning cluster (none for the sources registered before).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('calendar_sources', sa.Column('cluster_id', sa.Uuid(), nullable=True))
    op.create_index('ix_calendar_sources_cluster_id', 'calendar_sources', ['cluster_id'], unique=False)
    op.create_foreign_key(op.f('fk_calendar_sources_cluster_id_clusters'), 'calendar_sources', 'clusters', ['cluster_id'], ['id'], ondelete='RESTRICT')


def downgrade() -> None:
    op.drop_constraint(op.f('fk_calendar_sources_cluster_id_clusters'), 'calendar_sources', type_='foreignkey')
    op.drop_index('ix_calendar_sources_cluster_id', table_name='calendar_sources')
    op.drop_column('calendar_sources', 'cluster_id')
