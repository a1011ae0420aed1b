"""Expressions of interest in opportunities.

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'interests',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('opportunity_id', sa.Uuid(), nullable=False),
        sa.Column('cluster_id', sa.Uuid(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('contact', sa.String(length=300), nullable=True),
        sa.Column('poster_contact', sa.String(length=300), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'withdrawn')", name=op.f('ck_interests_status')
        ),
        sa.ForeignKeyConstraint(
            ['cluster_id'], ['clusters.id'], name=op.f('fk_interests_cluster_id_clusters'), ondelete='RESTRICT'
        ),
        sa.ForeignKeyConstraint(
            ['opportunity_id'], ['opportunities.id'], name=op.f('fk_interests_opportunity_id_opportunities'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_interests')),
    )
    op.create_index('ix_interests_cluster_id', 'interests', ['cluster_id'], unique=False)
    op.create_index(
        'ix_interests_opportunity_id_created_at_id', 'interests', ['opportunity_id', 'created_at', 'id'], unique=False
    )
    op.create_index(
        'uq_interests_standing', 'interests', ['opportunity_id', 'cluster_id'], unique=True,
        postgresql_where=sa.text("status IN ('pending', 'accepted')"),
    )


def downgrade() -> None:
    op.drop_index('uq_interests_standing', table_name='interests')
    op.drop_index('ix_interests_opportunity_id_created_at_id', table_name='interests')
    op.drop_index('ix_interests_cluster_id', table_name='interests')
    op.drop_table('interests')
