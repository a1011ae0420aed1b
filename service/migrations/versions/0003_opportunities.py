"""Opportunities posted for clusters: partner searches, offers, requests, calls, events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('opportunities',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.String(length=1000), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('countries', postgresql.ARRAY(sa.String(length=2)), server_default='{}', nullable=False),
    sa.Column('sectors', postgresql.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('posted_by_cluster_id', sa.Uuid(), nullable=True),
    sa.Column('posted_by_partnership_id', sa.Uuid(), nullable=True),
    sa.Column('poster_name', sa.String(length=300), nullable=True),
    sa.Column('poster_url', sa.String(length=2000), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('contact', sa.String(length=300), nullable=True),
    sa.Column('withdrawn', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('english', search_fold(coalesce(title, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(summary, ''))), 'B') || setweight(to_tsvector('english', search_fold(coalesce(description, ''))), 'C') || setweight(to_tsvector('english', coalesce(sector_words(sectors), '')), 'D')", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("kind IN ('partner-search', 'cooperation-offer', 'cooperation-request', 'call', 'event')", name=op.f('ck_opportunities_kind')),
    sa.CheckConstraint('num_nonnulls(posted_by_cluster_id, posted_by_partnership_id, poster_name) = 1', name=op.f('ck_opportunities_one_poster')),
    sa.ForeignKeyConstraint(['posted_by_cluster_id'], ['clusters.id'], name=op.f('fk_opportunities_posted_by_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['posted_by_partnership_id'], ['partnerships.id'], name=op.f('fk_opportunities_posted_by_partnership_id_partnerships'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities')),
    sa.UniqueConstraint('external_id', name=op.f('uq_opportunities_external_id'))
    )
    op.create_index('ix_opportunities_countries', 'opportunities', ['countries'], unique=False, postgresql_using='gin')
    op.create_index('ix_opportunities_created_at_id', 'opportunities', ['created_at', 'id'], unique=False)
    op.create_index('ix_opportunities_deadline_key', 'opportunities', [sa.text("COALESCE(deadline, '9999-12-31'::date)"), 'id'], unique=False)
    op.create_index('ix_opportunities_posted_by_cluster_id', 'opportunities', ['posted_by_cluster_id'], unique=False)
    op.create_index('ix_opportunities_posted_by_partnership_id', 'opportunities', ['posted_by_partnership_id'], unique=False)
    op.create_index('ix_opportunities_search', 'opportunities', ['search'], unique=False, postgresql_using='gin')
    op.create_index('ix_opportunities_sectors', 'opportunities', ['sectors'], unique=False, postgresql_using='gin')


def downgrade() -> None:
    op.drop_index('ix_opportunities_sectors', table_name='opportunities', postgresql_using='gin')
    op.drop_index('ix_opportunities_search', table_name='opportunities', postgresql_using='gin')
    op.drop_index('ix_opportunities_posted_by_partnership_id', table_name='opportunities')
    op.drop_index('ix_opportunities_posted_by_cluster_id', table_name='opportunities')
    op.drop_index('ix_opportunities_deadline_key', table_name='opportunities')
    op.drop_index('ix_opportunities_created_at_id', table_name='opportunities')
    op.drop_index('ix_opportunities_countries', table_name='opportunities', postgresql_using='gin')
    op.drop_table('opportunities')
