"""Migration 0016 on a database with records: their languages are detected and their text
is indexed again, stemmed in them."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.migrate import upgrade
from tests.conftest import create_scratch_database, drop_database

OPPORTUNITY = (
    "INSERT INTO opportunities (id, kind, title, summary, poster_name) "
    "VALUES (gen_random_uuid(), 'call', :title, :summary, 'ECCP') RETURNING id"
)

SAVED_SEARCH = """
WITH k AS (
  INSERT INTO api_keys (id, prefix, secret_hash, name, scope) VALUES (gen_random_uuid(), 'old', '\\x00', 'old', 'write')
  RETURNING id
)
INSERT INTO saved_searches (id, owner_key_id, name, query, feed_token, kinds, countries, sectors, clusters,
                            partnerships, open_only, q)
SELECT gen_random_uuid(), k.id, 'Partnerschaften', '{"q": "Partnerschaften"}', 'token', '{*}', '{*}', '{*}', '{*}',
       '{*}', true, 'Partnerschaften' FROM k
"""


async def test_existing_rows_get_their_language_and_its_stemming(server_url):
    url = await create_scratch_database(server_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        await upgrade(engine, "0015")
        async with engine.begin() as connection:
            german = await connection.scalar(text(OPPORTUNITY), {
                "title": "Neue Partnerschaft für Wasserstofftechnik",
                "summary": "Ein Cluster aus Bayern sucht eine Partnerschaft mit Firmen.",
            })
            short = await connection.scalar(text(OPPORTUNITY), {"title": "BioValley", "summary": None})
            await connection.execute(text(
                "INSERT INTO clusters (id, slug, name, country, description) VALUES (gen_random_uuid(), 'pole', "
                "'Pôle', 'FR', 'Le pôle réunit des entreprises et des laboratoires de recherche en Bretagne.')"
            ))
            await connection.execute(text(SAVED_SEARCH))
        await upgrade(engine)
        async with engine.connect() as connection:
            languages = dict((await connection.execute(text("SELECT id, language FROM opportunities"))).all())
            assert languages == {german: "de", short: None}
            assert await connection.scalar(text("SELECT language FROM clusters")) == "fr"
            stemmed = text(
                "SELECT id FROM opportunities WHERE search @@ search_query(CAST(:languages AS text[]), :q) ORDER BY id"
            )
            assert (await connection.execute(stemmed, {"languages": ["de"], "q": "Partnerschaften"})).scalars().all() == [german]
            assert (await connection.execute(stemmed, {"languages": ["it"], "q": "Partnerschaften"})).scalars().all() == []
            assert (await connection.execute(stemmed, {"languages": ["pl"], "q": "biovalley"})).scalars().all() == [short]
            laboratory = text("SELECT count(*) FROM clusters WHERE search @@ search_query('{fr}', 'laboratoire')")
            assert await connection.scalar(laboratory) == 1
            # A saved search made before: stemmed in the default languages from now on.
            saved = (await connection.execute(text("SELECT languages, text_query FROM saved_searches"))).one()
            assert "de" in saved.languages and "en" in saved.languages
            alerted = text("SELECT o.id FROM opportunities o, saved_searches s WHERE o.search @@ s.text_query")
            assert (await connection.execute(alerted)).scalars().all() == [german]
    finally:
        await engine.dispose()
        await drop_database(server_url, url)
