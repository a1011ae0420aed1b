"""Saved searches (with their filters as an inverted index for alerts) and the pairs of
saved search and opportunity already alerted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _filter(name: str) -> sa.Column[list[str]]:
    return sa.Column(name, postgresql.ARRAY(sa.String()), nullable=False)


def upgrade() -> None:
    op.create_table(
        'saved_searches',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('owner_key_id', sa.Uuid(), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('query', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('feed_token', sa.String(length=64), nullable=False),
        _filter('kinds'), _filter('countries'), _filter('sectors'), _filter('clusters'), _filter('partnerships'),
        sa.Column('deadline_after', sa.Date(), nullable=True),
        sa.Column('deadline_before', sa.Date(), nullable=True),
        sa.Column('open_only', sa.Boolean(), nullable=False),
        sa.Column('q', sa.String(length=500), nullable=True),
        sa.Column('text_query', postgresql.TSQUERY(), sa.Computed("websearch_to_tsquery('english'::regconfig, search_fold(q))", persisted=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.ForeignKeyConstraint(['owner_key_id'], ['api_keys.id'], name=op.f('fk_saved_searches_owner_key_id_api_keys'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
    )
    op.create_index('ix_saved_searches_owner_key_id', 'saved_searches', ['owner_key_id'], unique=False)
    op.create_index(
        'ix_saved_searches_filters', 'saved_searches', ['kinds', 'countries', 'sectors', 'clusters', 'partnerships'],
        unique=False, postgresql_using='gin',
    )
    op.create_table(
        'saved_search_matches',
        sa.Column('saved_search_id', sa.Uuid(), nullable=False),
        sa.Column('opportunity_id', sa.Uuid(), nullable=False),
        sa.Column('matched_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
        sa.ForeignKeyConstraint(['saved_search_id'], ['saved_searches.id'], name=op.f('fk_saved_search_matches_saved_search_id_saved_searches'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_saved_search_matches_opportunity_id_opportunities'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('saved_search_id', 'opportunity_id', name=op.f('pk_saved_search_matches')),
    )
    op.create_index('ix_saved_search_matches_opportunity_id', 'saved_search_matches', ['opportunity_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_saved_search_matches_opportunity_id', table_name='saved_search_matches')
    op.drop_table('saved_search_matches')
    op.drop_index('ix_saved_searches_filters', table_name='saved_searches')
    op.drop_index('ix_saved_searches_owner_key_id', table_name='saved_searches')
    op.drop_table('saved_searches')
