"""Missions (organisers, participants), cooperation agreements (parties), calendar sources.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_calendar_sources()
    _create_missions()
    _create_agreements()
    _create_mission_organisers()
    _create_mission_participants()
    _create_agreement_parties()


def _create_calendar_sources() -> None:
    op.create_table('calendar_sources',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('organiser', sa.String(length=300), nullable=True),
    sa.Column('default_kind', sa.String(length=30), nullable=False),
    sa.Column('default_sectors', postgresql.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('default_country', sa.String(length=2), nullable=True),
    sa.Column('etag', sa.String(length=500), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('last_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_report', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("format IN ('ics', 'json')", name=op.f('ck_calendar_sources_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_sources')),
    sa.UniqueConstraint('url', name=op.f('uq_calendar_sources_url'))
    )


def _create_missions() -> None:
    op.create_table('missions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('destination_country', sa.String(length=2), nullable=False),
    sa.Column('destination_city', sa.String(length=120), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('applications_open_on', sa.Date(), nullable=True),
    sa.Column('application_deadline', sa.Date(), nullable=True),
    sa.Column('sectors', postgresql.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('external_organiser', sa.String(length=300), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('cost_reimbursement_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('cancelled', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('participating_smes', sa.Integer(), nullable=True),
    sa.Column('bilateral_meetings', sa.Integer(), nullable=True),
    sa.Column('business_contracts', sa.Integer(), nullable=True),
    sa.Column('agreements_signed', sa.Integer(), nullable=True),
    sa.Column('source_id', sa.Uuid(), nullable=True),
    sa.Column('source_uid', sa.String(length=500), nullable=True),
    sa.Column('source_sequence', sa.Integer(), nullable=True),
    sa.Column('source_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('english', search_fold(coalesce(title, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(destination_city, '') || ' ' || coalesce(external_organiser, ''))), 'B') || setweight(to_tsvector('english', search_fold(coalesce(description, ''))), 'C') || setweight(to_tsvector('english', coalesce(sector_words(sectors), '')), 'D')", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("direction IN ('outbound', 'inbound')", name=op.f('ck_missions_direction')),
    sa.CheckConstraint("kind IN ('business-mission', 'trade-mission', 'fact-finding', 'matchmaking-event', 'trade-fair', 'inbound-mission', 'study-visit')", name=op.f('ck_missions_kind')),
    sa.CheckConstraint('application_deadline IS NULL OR application_deadline <= starts_on', name=op.f('ck_missions_deadline')),
    sa.CheckConstraint('cost_reimbursement_percent BETWEEN 0 AND 100', name=op.f('ck_missions_reimbursement')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_missions_dates')),
    sa.ForeignKeyConstraint(['source_id'], ['calendar_sources.id'], name=op.f('fk_missions_source_id_calendar_sources'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_missions')),
    sa.UniqueConstraint('external_id', name=op.f('uq_missions_external_id')),
    sa.UniqueConstraint('source_id', 'source_uid', name=op.f('uq_missions_source_id_source_uid'))
    )
    op.create_index('ix_missions_destination_country', 'missions', ['destination_country'], unique=False)
    op.create_index('ix_missions_search', 'missions', ['search'], unique=False, postgresql_using='gin')
    op.create_index('ix_missions_sectors', 'missions', ['sectors'], unique=False, postgresql_using='gin')
    op.create_index('ix_missions_starts_on_id', 'missions', ['starts_on', 'id'], unique=False)
    op.create_index('ix_missions_deadline_key', 'missions', [sa.text("COALESCE(application_deadline, '9999-12-31'::date)"), 'id'], unique=False)
    op.create_index('uq_missions_upload_uid', 'missions', ['source_uid'], unique=True, postgresql_where=sa.text('source_id IS NULL'))


def _create_agreements() -> None:
    op.create_table('agreements',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('partnership_id', sa.Uuid(), nullable=True),
    sa.Column('counterparts', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('sectors', postgresql.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('document_url', sa.String(length=2000), nullable=True),
    sa.Column('mission_id', sa.Uuid(), nullable=True),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('english', search_fold(coalesce(title, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(description, ''))), 'C')", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("kind IN ('mou', 'cooperation-agreement', 'letter-of-intent', 'business-contract', 'collaboration-project', 'administrative-arrangement')", name=op.f('ck_agreements_kind')),
    sa.CheckConstraint("status IN ('draft', 'negotiating', 'signed', 'terminated')", name=op.f('ck_agreements_status')),
    sa.CheckConstraint('valid_until IS NULL OR signed_on IS NULL OR valid_until >= signed_on', name=op.f('ck_agreements_validity')),
    sa.ForeignKeyConstraint(['mission_id'], ['missions.id'], name=op.f('fk_agreements_mission_id_missions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_agreements_partnership_id_partnerships'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements')),
    sa.UniqueConstraint('external_id', name=op.f('uq_agreements_external_id'))
    )
    op.create_index('ix_agreements_counterparts', 'agreements', ['counterparts'], unique=False, postgresql_using='gin', postgresql_ops={'counterparts': 'jsonb_path_ops'})
    op.create_index(op.f('ix_agreements_mission_id'), 'agreements', ['mission_id'], unique=False)
    op.create_index(op.f('ix_agreements_partnership_id'), 'agreements', ['partnership_id'], unique=False)
    op.create_index('ix_agreements_search', 'agreements', ['search'], unique=False, postgresql_using='gin')
    op.create_index('ix_agreements_sectors', 'agreements', ['sectors'], unique=False, postgresql_using='gin')
    op.create_index('ix_agreements_signed_on_id', 'agreements', ['signed_on', 'id'], unique=False)


def _create_mission_organisers() -> None:
    op.create_table('mission_organisers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mission_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Uuid(), nullable=True),
    sa.Column('partnership_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint('num_nonnulls(cluster_id, partnership_id) = 1', name=op.f('ck_mission_organisers_one_organiser')),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_mission_organisers_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['mission_id'], ['missions.id'], name=op.f('fk_mission_organisers_mission_id_missions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_mission_organisers_partnership_id_partnerships'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mission_organisers')),
    sa.UniqueConstraint('mission_id', 'cluster_id', name=op.f('uq_mission_organisers_mission_id_cluster_id')),
    sa.UniqueConstraint('mission_id', 'partnership_id', name=op.f('uq_mission_organisers_mission_id_partnership_id'))
    )
    op.create_index('ix_mission_organisers_cluster_id', 'mission_organisers', ['cluster_id'], unique=False)
    op.create_index('ix_mission_organisers_partnership_id', 'mission_organisers', ['partnership_id'], unique=False)


def _create_mission_participants() -> None:
    op.create_table('mission_participants',
    sa.Column('mission_id', sa.Uuid(), nullable=False),
    sa.Column('cluster_id', sa.Uuid(), nullable=False),
    sa.Column('smes', sa.Integer(), nullable=True),
    sa.Column('joined_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_mission_participants_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['mission_id'], ['missions.id'], name=op.f('fk_mission_participants_mission_id_missions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mission_id', 'cluster_id', name=op.f('pk_mission_participants'))
    )
    op.create_index('ix_mission_participants_cluster_id', 'mission_participants', ['cluster_id'], unique=False)


def _create_agreement_parties() -> None:
    op.create_table('agreement_parties',
    sa.Column('agreement_id', sa.Uuid(), nullable=False),
    sa.Column('cluster_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_parties_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_agreement_parties_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('agreement_id', 'cluster_id', name=op.f('pk_agreement_parties'))
    )
    op.create_index('ix_agreement_parties_cluster_id', 'agreement_parties', ['cluster_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_agreement_parties_cluster_id', table_name='agreement_parties')
    op.drop_table('agreement_parties')
    op.drop_index('ix_mission_participants_cluster_id', table_name='mission_participants')
    op.drop_table('mission_participants')
    op.drop_index('ix_mission_organisers_partnership_id', table_name='mission_organisers')
    op.drop_index('ix_mission_organisers_cluster_id', table_name='mission_organisers')
    op.drop_table('mission_organisers')
    op.drop_index('ix_agreements_signed_on_id', table_name='agreements')
    op.drop_index('ix_agreements_sectors', table_name='agreements', postgresql_using='gin')
    op.drop_index('ix_agreements_search', table_name='agreements', postgresql_using='gin')
    op.drop_index(op.f('ix_agreements_partnership_id'), table_name='agreements')
    op.drop_index(op.f('ix_agreements_mission_id'), table_name='agreements')
    op.drop_index('ix_agreements_counterparts', table_name='agreements', postgresql_using='gin', postgresql_ops={'counterparts': 'jsonb_path_ops'})
    op.drop_table('agreements')
    op.drop_index('uq_missions_upload_uid', table_name='missions', postgresql_where=sa.text('source_id IS NULL'))
    op.drop_index('ix_missions_deadline_key', table_name='missions')
    op.drop_index('ix_missions_starts_on_id', table_name='missions')
    op.drop_index('ix_missions_sectors', table_name='missions', postgresql_using='gin')
    op.drop_index('ix_missions_search', table_name='missions', postgresql_using='gin')
    op.drop_index('ix_missions_destination_country', table_name='missions')
    op.drop_table('missions')
    op.drop_table('calendar_sources')
