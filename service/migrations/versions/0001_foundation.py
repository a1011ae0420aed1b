"""Foundation: clusters, partnerships and members, sectors, market profiles.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


# Accent folding without the unaccent extension (the embedded server lacks it): lower-case,
# then map the accented Latin letters of European languages to their base letters, then the
# ligatures. IMMUTABLE, so generated tsvector columns and indexes may use it.
_ACCENTED = (
    "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžſơưǎǐǒǔǖǘǚǜ"
    "ǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳøłđħıðŀ"
)
_PLAIN = (
    "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzsouaiouuuu"
    "uaagkoojgnaaaeeiioorruusthaeooooyoldhidl"
)
SEARCH_FOLD = f"""
CREATE FUNCTION search_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT replace(replace(replace(replace(
           translate(lower($1), '{_ACCENTED}', '{_PLAIN}'),
         'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th')
$$
"""

# Sector codes as words for the text index ("photonics", "medical devices"), so a search for
# a sector finds what is tagged with it. array_to_string is only STABLE in general; for
# varchar[] it cannot change, hence IMMUTABLE here.
SECTOR_WORDS = """
CREATE FUNCTION sector_words(varchar[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT translate(array_to_string($1, ' '), '-', ' ') $$
"""

# The countries of a target-market list ([{"country": "US", "priority": 1}]) as an array,
# for a GIN index that answers overlaps fast (filters, partner matching).
MARKET_COUNTRIES = """
CREATE FUNCTION market_countries(jsonb) RETURNS varchar[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT coalesce(array_agg(e->>'country'), '{}') FROM jsonb_array_elements($1) e $$
"""

SECTORS = Path(__file__).parent.parent / "data" / "0001_sectors.json"


def upgrade() -> None:
    _create_functions()
    _create_clusters()
    _create_market_profiles()
    _create_partnerships()
    _create_sectors()
    _create_partnership_members()
    _insert_sectors()


def _create_functions() -> None:
    op.execute(SEARCH_FOLD)
    op.execute(SECTOR_WORDS)
    op.execute(MARKET_COUNTRIES)


def _create_clusters() -> None:
    op.create_table('clusters',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('acronym', sa.String(length=120), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region_code', sa.String(length=5), nullable=True),
    sa.Column('region_name', sa.String(length=300), nullable=True),
    sa.Column('nuts_version', sa.String(length=4), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('website', sa.String(length=2000), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('sectors', sa.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=True),
    sa.Column('sme_count', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=10), server_default='none', nullable=False),
    sa.Column('founded_year', sa.SmallInteger(), nullable=True),
    sa.Column('target_markets', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('target_countries', postgresql.ARRAY(sa.String(length=2)), sa.Computed('market_countries(target_markets)', persisted=True), nullable=False),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('english', search_fold(coalesce(name, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(acronym, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(description, ''))), 'B')", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("label IN ('gold', 'silver', 'bronze', 'none')", name=op.f('ck_clusters_label')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters')),
    sa.UniqueConstraint('slug', name=op.f('uq_clusters_slug'))
    )
    op.create_index('ix_clusters_country', 'clusters', ['country'], unique=False)
    op.create_index('ix_clusters_name_id', 'clusters', ['name', 'id'], unique=False)
    op.create_index('ix_clusters_search', 'clusters', ['search'], unique=False, postgresql_using='gin')
    op.create_index('ix_clusters_sectors', 'clusters', ['sectors'], unique=False, postgresql_using='gin')
    op.create_index('ix_clusters_target_countries', 'clusters', ['target_countries'], unique=False, postgresql_using='gin')


def _create_market_profiles() -> None:
    op.create_table('market_profiles',
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('customer_segments', sa.Text(), nullable=True),
    sa.Column('market_size', sa.Text(), nullable=True),
    sa.Column('growth', sa.Text(), nullable=True),
    sa.Column('profitability', sa.Text(), nullable=True),
    sa.Column('trends', sa.Text(), nullable=True),
    sa.Column('key_success_factors', sa.Text(), nullable=True),
    sa.Column('support_organisations', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('country', name=op.f('pk_market_profiles'))
    )


def _create_partnerships() -> None:
    op.create_table('partnerships',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('acronym', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('programme', sa.String(length=20), nullable=False),
    sa.Column('generation', sa.SmallInteger(), nullable=True),
    sa.Column('strand', sa.String(length=120), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('objectives', sa.Text(), nullable=True),
    sa.Column('activities', sa.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('website', sa.String(length=2000), nullable=True),
    sa.Column('sectors', sa.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('target_markets', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('english', search_fold(coalesce(name, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(acronym, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(objectives, ''))), 'B')", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("programme IN ('escp-4i', 'escp-s3', 'other')", name=op.f('ck_partnerships_programme')),
    sa.CheckConstraint('period_end IS NULL OR period_start IS NULL OR period_end >= period_start', name=op.f('ck_partnerships_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnerships')),
    sa.UniqueConstraint('slug', name=op.f('uq_partnerships_slug'))
    )
    op.create_index('ix_partnerships_search', 'partnerships', ['search'], unique=False, postgresql_using='gin')
    op.create_index('ix_partnerships_sectors', 'partnerships', ['sectors'], unique=False, postgresql_using='gin')
    op.create_index('ix_partnerships_target_markets', 'partnerships', ['target_markets'], unique=False, postgresql_using='gin', postgresql_ops={'target_markets': 'jsonb_path_ops'})


def _create_sectors() -> None:
    op.create_table('sectors',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('nace_codes', sa.ARRAY(sa.String(length=10)), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.CheckConstraint("kind IN ('sector', 'emerging-industry')", name=op.f('ck_sectors_kind')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sectors'))
    )


def _create_partnership_members() -> None:
    op.create_table('partnership_members',
    sa.Column('partnership_id', sa.Uuid(), nullable=False),
    sa.Column('cluster_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.CheckConstraint("role IN ('coordinator', 'partner')", name=op.f('ck_partnership_members_role')),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_partnership_members_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_partnership_members_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('partnership_id', 'cluster_id', name=op.f('pk_partnership_members'))
    )
    op.create_index('ix_partnership_members_cluster_id', 'partnership_members', ['cluster_id'], unique=False)


def _insert_sectors() -> None:
    sectors = sa.table(
        "sectors",
        sa.column("code", sa.String), sa.column("name", sa.String), sa.column("kind", sa.String),
        sa.column("nace_codes", postgresql.ARRAY(sa.String)),
    )
    op.bulk_insert(sectors, json.loads(SECTORS.read_text(encoding="utf-8")))


def downgrade() -> None:
    op.drop_index('ix_partnership_members_cluster_id', table_name='partnership_members')
    op.drop_table('partnership_members')
    op.drop_table('sectors')
    op.drop_index('ix_partnerships_target_markets', table_name='partnerships', postgresql_using='gin', postgresql_ops={'target_markets': 'jsonb_path_ops'})
    op.drop_index('ix_partnerships_sectors', table_name='partnerships', postgresql_using='gin')
    op.drop_index('ix_partnerships_search', table_name='partnerships', postgresql_using='gin')
    op.drop_table('partnerships')
    op.drop_table('market_profiles')
    op.drop_index('ix_clusters_target_countries', table_name='clusters', postgresql_using='gin')
    op.drop_index('ix_clusters_sectors', table_name='clusters', postgresql_using='gin')
    op.drop_index('ix_clusters_search', table_name='clusters', postgresql_using='gin')
    op.drop_index('ix_clusters_name_id', table_name='clusters')
    op.drop_index('ix_clusters_country', table_name='clusters')
    op.drop_table('clusters')
    op.execute("DROP FUNCTION market_countries(jsonb)")
    op.execute("DROP FUNCTION sector_words(varchar[])")
    op.execute("DROP FUNCTION search_fold(text)")
