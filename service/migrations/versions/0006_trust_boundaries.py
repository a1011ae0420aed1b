"""Admin keys are never bound to a cluster; bulk jobs remember the key that started them.

Admin keys always ignored a cluster binding, so unbinding the existing ones changes what
they may do in nothing; it only stops the binding from suggesting a limit. Jobs created
before this revision have no key: only admins see them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE api_keys SET cluster_id = NULL WHERE scope = 'admin' AND cluster_id IS NOT NULL")
    op.create_check_constraint(op.f('ck_api_keys_admin_unbound'), 'api_keys', "scope <> 'admin' OR cluster_id IS NULL")
    op.add_column('bulk_jobs', sa.Column('api_key_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f('fk_bulk_jobs_api_key_id_api_keys'), 'bulk_jobs', 'api_keys', ['api_key_id'], ['id'],
                          ondelete='SET NULL')


def downgrade() -> None:
    # The bindings removed from admin keys are not restored: they never had an effect.
    op.drop_constraint(op.f('fk_bulk_jobs_api_key_id_api_keys'), 'bulk_jobs', type_='foreignkey')
    op.drop_column('bulk_jobs', 'api_key_id')
    op.drop_constraint(op.f('ck_api_keys_admin_unbound'), 'api_keys', type_='check')
