"""Service secrets (the cursor signing key) and idempotency answers kept without their secret.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_secrets',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_service_secrets'))
    )
    op.add_column('idempotency_records', sa.Column('secret_withheld', sa.Boolean(), server_default='false', nullable=False))


def downgrade() -> None:
    op.drop_column('idempotency_records', 'secret_withheld')
    op.drop_table('service_secrets')
