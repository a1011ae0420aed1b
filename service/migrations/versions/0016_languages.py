"""Text in its own language: a language column on every text record (detected for existing
rows), tsvectors stemmed in that language beside an exact (simple) vector, and saved
searches that remember the languages their text query is stemmed in.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from service.kit.language_detection import detect

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

EU = ('bg', 'cs', 'da', 'de', 'el', 'en', 'es', 'et', 'fi', 'fr', 'ga', 'hr', 'hu', 'it', 'lt', 'lv', 'mt', 'nl', 'pl', 'pt', 'ro', 'sk', 'sl', 'sv')
STEMMERS = {
    'da': 'danish', 'de': 'german', 'el': 'greek', 'en': 'english', 'es': 'spanish', 'fi': 'finnish',
    'fr': 'french', 'ga': 'irish', 'hu': 'hungarian', 'it': 'italian', 'lt': 'lithuanian', 'nl': 'dutch',
    'pt': 'portuguese', 'ro': 'romanian', 'sv': 'swedish',
}
BATCH = 2000

# The configuration that stems a language; 'simple' (no stemming) for the EU languages
# PostgreSQL has no stemmer for. An unknown language (NULL: detection was unsure) is
# stemmed as English, as all text was before languages were recorded.
_BRANCHES = ' '.join(f"WHEN '{code}' THEN '{config}'::regconfig" for code, config in STEMMERS.items())
SEARCH_CONFIG = f"""
CREATE FUNCTION search_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN language IS NULL THEN 'english'::regconfig ELSE CASE language {_BRANCHES} ELSE 'simple'::regconfig END END $$
"""

# A text's words stemmed in its language, and again as they are written (folded only), so
# names, acronyms and codes match exactly whatever the language.
SEARCH_VECTOR = """
CREATE FUNCTION search_vector(language text, body text, weight "char") RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT setweight(to_tsvector(search_config(language), f) || to_tsvector('simple'::regconfig, f), weight)
  FROM search_fold(coalesce(body, '')) AS f
$$
"""

# The language a record is indexed in, as one lexeme no text can produce (the parser never
# keeps a space in a lexeme): a query's stemmed form in a language applies only to records
# in that language, so "photonics -mission" stemmed in Finnish ('missio') cannot match an
# English record that says "mission". Unknown languages are indexed as English.
SEARCH_LANGUAGE = """
CREATE FUNCTION search_language(language text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT array_to_tsvector(ARRAY['lang ' || coalesce(language, 'en')]) $$
"""

# A web-search query as written (folded), OR-ed with its stemmed form in each language with
# a stemmer, each for the records in that language. Languages that stem the query alike
# share one branch ('lang de' | 'lang nl') & ..., and a stemmed form equal to the written
# one adds nothing the written one does not match, which keeps the query short for ranking;
# nor does a stemmed form with no lexeme left (stop words only).
SEARCH_QUERY = """
CREATE FUNCTION search_query(languages text[], q text) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  folded text := search_fold(q);
  exact tsquery := websearch_to_tsquery('simple'::regconfig, folded);
  result tsquery := exact;
  stems tsquery[] := '{}';
  tags tsquery[] := '{}';
  stemmed tsquery;
  tag tsquery;
  at int;
  language text;
BEGIN
  FOR language IN SELECT DISTINCT l FROM unnest(languages) AS l WHERE search_config(l) <> 'simple'::regconfig LOOP
    stemmed := websearch_to_tsquery(search_config(language), folded);
    CONTINUE WHEN numnode(stemmed) = 0 OR stemmed = exact;
    tag := quote_literal('lang ' || language)::tsquery;
    at := array_position(stems, stemmed);
    IF at IS NULL THEN
      stems := stems || stemmed;
      tags := tags || tag;
    ELSE
      tags[at] := tags[at] || tag;
    END IF;
  END LOOP;
  FOR at IN 1 .. coalesce(array_length(stems, 1), 0) LOOP
    result := result || (tags[at] && stems[at]);
  END LOOP;
  RETURN result;
END
$$
"""

# table -> (text columns detection reads, the search vector)
TABLES = {
    'opportunities': (
        ('title', 'summary', 'description'),
        "search_vector(language, title, 'A') || search_vector(language, summary, 'B') || "
        "search_vector(language, description, 'C') || search_vector('en', sector_words(sectors), 'D') || search_language(language)",
    ),
    'missions': (
        ('title', 'description'),
        "search_vector(language, title, 'A') || "
        "search_vector(language, coalesce(destination_city, '') || ' ' || coalesce(external_organiser, ''), 'B') || "
        "search_vector(language, description, 'C') || search_vector('en', sector_words(sectors), 'D') || search_language(language)",
    ),
    'clusters': (
        ('name', 'description'),
        "search_vector(language, name, 'A') || search_vector(language, acronym, 'A') || search_vector(language, description, 'B') || search_language(language)",
    ),
    'partnerships': (
        ('name', 'objectives'),
        "search_vector(language, name, 'A') || search_vector(language, acronym, 'A') || search_vector(language, objectives, 'B') || search_language(language)",
    ),
    'agreements': (
        ('title', 'description'),
        "search_vector(language, title, 'A') || search_vector(language, description, 'C') || search_language(language)",
    ),
}

ENGLISH = {
    'opportunities': "setweight(to_tsvector('english', search_fold(coalesce(title, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(summary, ''))), 'B') || setweight(to_tsvector('english', search_fold(coalesce(description, ''))), 'C') || setweight(to_tsvector('english', coalesce(sector_words(sectors), '')), 'D')",
    'missions': "setweight(to_tsvector('english', search_fold(coalesce(title, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(destination_city, '') || ' ' || coalesce(external_organiser, ''))), 'B') || setweight(to_tsvector('english', search_fold(coalesce(description, ''))), 'C') || setweight(to_tsvector('english', coalesce(sector_words(sectors), '')), 'D')",
    'clusters': "setweight(to_tsvector('english', search_fold(coalesce(name, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(acronym, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(description, ''))), 'B')",
    'partnerships': "setweight(to_tsvector('english', search_fold(coalesce(name, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(acronym, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(objectives, ''))), 'B')",
    'agreements': "setweight(to_tsvector('english', search_fold(coalesce(title, ''))), 'A') || setweight(to_tsvector('english', search_fold(coalesce(description, ''))), 'C')",
}
DEFAULT_QUERY_LANGUAGES = '{' + ','.join(STEMMERS) + '}'


def _detect_languages(table: str, columns: tuple[str, ...]) -> None:
    """Each row's language from its text, in batches by id (keyset), detected in Python."""
    connection = op.get_bind()
    select = sa.text(f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > :after ORDER BY id LIMIT {BATCH}")
    update = sa.text(f"UPDATE {table} SET language = :language WHERE id = :id")
    after = '00000000-0000-0000-0000-000000000000'
    while rows := connection.execute(select, {'after': after}).all():
        found = [{'id': row[0], 'language': detect(*row[1:])} for row in rows]
        found = [f for f in found if f['language'] is not None]
        if found:
            connection.execute(update, found)
        after = rows[-1][0]


def _search_column(table: str, expression: str) -> None:
    op.drop_index(f'ix_{table}_search', table_name=table, postgresql_using='gin')
    op.drop_column(table, 'search')
    op.add_column(table, sa.Column('search', postgresql.TSVECTOR(), sa.Computed(expression, persisted=True), nullable=False))
    op.create_index(f'ix_{table}_search', table, ['search'], unique=False, postgresql_using='gin')


def _saved_search_text(expression: str) -> None:
    op.drop_column('saved_searches', 'text_query')
    op.add_column('saved_searches', sa.Column('text_query', postgresql.TSQUERY(), sa.Computed(expression, persisted=True), nullable=True))


def upgrade() -> None:
    for statement in (SEARCH_CONFIG, SEARCH_VECTOR, SEARCH_LANGUAGE, SEARCH_QUERY):
        op.execute(statement)
    for table, (columns, expression) in TABLES.items():
        op.add_column(table, sa.Column('language', sa.String(length=2), nullable=True))
        op.create_check_constraint(op.f(f'ck_{table}_language'), table, f"language IN {EU}")
        _detect_languages(table, columns)
        _search_column(table, expression)
    # Saved searches made so far were stemmed in English alone; from now on in the default
    # languages of a search, as a search without lang or Accept-Language is.
    op.add_column('saved_searches', sa.Column(
        'languages', postgresql.ARRAY(sa.String(length=2)), server_default=DEFAULT_QUERY_LANGUAGES, nullable=False
    ))
    op.alter_column('saved_searches', 'languages', server_default=None)
    _saved_search_text('search_query(languages, q)')


def downgrade() -> None:
    _saved_search_text("websearch_to_tsquery('english'::regconfig, search_fold(q))")
    op.drop_column('saved_searches', 'languages')
    for table in TABLES:
        _search_column(table, ENGLISH[table])
        op.drop_column(table, 'language')
    for function in ('search_query(text[], text)', 'search_language(text)', 'search_vector(text, text, "char")', 'search_config(text)'):
        op.execute(f'DROP FUNCTION {function}')
