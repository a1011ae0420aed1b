"""The opportunities' deadline index also carries the columns the search's filters and
facet counts read (withdrawn, deadline, kind, countries, sectors, language, poster), so an open
search's facets are counted from the index alone instead of the whole table.

Revision ID: 0018
Revises: 0016
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None

KEY: list[str | sa.TextClause] = [sa.text("COALESCE(deadline, '9999-12-31'::date)"), 'id']
COVERED = ['withdrawn', 'deadline', 'kind', 'countries', 'sectors', 'language', 'posted_by_cluster_id', 'posted_by_partnership_id']


def upgrade() -> None:
    op.drop_index('ix_opportunities_deadline_key', table_name='opportunities')
    op.create_index('ix_opportunities_deadline_key', 'opportunities', KEY, unique=False, postgresql_include=COVERED)


def downgrade() -> None:
    op.drop_index('ix_opportunities_deadline_key', table_name='opportunities')
    op.create_index('ix_opportunities_deadline_key', 'opportunities', KEY, unique=False)
