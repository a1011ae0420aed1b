"""Text in its own language: detected or given, stemmed in it, matched exactly in any
language, searched in the languages a client asks for, filtered and counted by language."""

import pytest
from sqlalchemy import text

from tests import factories
from tests.lists import collect
from tests.problems import assert_problem

TEXTS = {
    "de": ("Neue Partnerschaft für Wasserstofftechnik", "Ein Cluster aus Bayern sucht eine Partnerschaft mit Firmen aus Zürich."),
    "it": ("Innovazione nel settore agroalimentare", "Il cluster cerca partner per l'innovazione delle piccole imprese."),
    "nl": ("Nieuwe verbinding tussen havens", "Een cluster zoekt een verbinding met logistieke bedrijven in Europa."),
    "fr": ("Recherche de partenaires en santé numérique", "Le pôle cherche des partenaires pour des projets de santé numérique."),
    "es": ("Buscamos socios para proyectos de energía", "El clúster busca socios para proyectos de energía renovable."),
    "pl": ("Poszukujemy partnerów do projektów badawczych", "Klaster szuka partnerów do projektów w dziedzinie energii."),
}


@pytest.fixture
async def texts(client):
    """One opportunity per language, its language left to the detector."""
    made = {}
    for code, (title, summary) in TEXTS.items():
        made[code] = await factories.create(client, "/v1/opportunities", factories.opportunity(
            title=title, summary=f"{summary} ECCP BioValley", countries=["DE"],
        ))
    return made


async def found(client, params: dict, headers: dict | None = None) -> set[str]:
    response = await client.get("/v1/opportunities", params=params | {"limit": 100}, headers=headers or {})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_the_language_is_detected(texts):
    assert {code: o["language"] for code, o in texts.items()} == {code: code for code in TEXTS}


@pytest.mark.parametrize(
    ("language", "q"),
    [("de", "Partnerschaften"), ("it", "innovazioni"), ("nl", "verbindingen"), ("fr", "partenaire"), ("es", "proyecto")],
)
async def test_words_are_stemmed_in_their_language(client, texts, language, q):
    assert await found(client, {"q": q, "lang": language}) == {texts[language]["id"]}
    assert await found(client, {"q": q}) == {texts[language]["id"]}  # every configured language by default
    other = "en" if language != "en" else "de"
    assert texts[language]["id"] not in await found(client, {"q": q, "lang": other})


async def test_polish_has_no_stemmer_and_matches_exactly(client, texts):
    assert await found(client, {"q": "projektów", "lang": "pl"}) == {texts["pl"]["id"]}
    assert await found(client, {"q": "projektow"}) == {texts["pl"]["id"]}  # accents folded
    assert await found(client, {"q": "projekt", "lang": "pl"}) == set()


@pytest.mark.parametrize("language", ["en", "de", "it", "pl", "fi"])
async def test_names_and_acronyms_match_exactly_in_every_language(client, texts, language):
    everyone = {o["id"] for o in texts.values()}
    assert await found(client, {"q": "ECCP", "lang": language}) == everyone
    assert await found(client, {"q": "BioValley", "lang": language}) == everyone
    assert await found(client, {"q": "Zurich", "lang": language}) == {texts["de"]["id"]}
    assert await found(client, {"q": "Zürich", "lang": language}) == {texts["de"]["id"]}
    # A word as written, though its German stem differs ('wasserstofftechn', 'firm').
    assert await found(client, {"q": "Wasserstofftechnik Firmen", "lang": language}) == {texts["de"]["id"]}


async def test_a_mixed_language_page_ranks_title_matches_first(client):
    made = [
        await factories.create(client, "/v1/opportunities", factories.opportunity(title=title, summary=summary))
        for title, summary in [
            ("Innovationen in der Medizintechnik gesucht", "Ein bayerischer Cluster sucht Partner für neue Produkte."),
            ("Cluster cherche partenaires au Canada", "Des projets communs autour de l'innovation dans la santé."),
            ("Innovation partnership for photonics", "A cluster looks for partners in North America."),
        ]
    ]
    assert [m["language"] for m in made] == ["de", "fr", "en"]
    items = await collect(client, "/v1/opportunities", {"q": "innovation", "limit": 10})
    ranked = [i["id"] for i in items]
    assert set(ranked[:2]) == {made[0]["id"], made[2]["id"]}  # in the title, in its own language's stemming
    assert ranked[2] == made[1]["id"]  # in the summary only


async def test_the_writer_overrides_the_detector_on_create_and_patch(client):
    title, summary = TEXTS["de"]
    given = await factories.create(client, "/v1/opportunities", factories.opportunity(title=title, summary=summary, language="it"))
    assert given["language"] == "it"
    assert given["id"] not in await found(client, {"q": "Partnerschaften", "lang": "de"})

    path = f"/v1/opportunities/{given['id']}"
    patched = await client.patch(path, json={"language": "de"})
    assert patched.status_code == 200 and patched.json()["language"] == "de"
    assert given["id"] in await found(client, {"q": "Partnerschaften", "lang": "de"})

    assert (await client.patch(path, json={"language": "fr"})).json()["language"] == "fr"
    redetected = await client.patch(path, json={"language": None})
    assert redetected.json()["language"] == "de"


async def test_short_texts_are_left_undetected(client):
    short = await factories.create(client, "/v1/opportunities", factories.opportunity(title="BioValley", summary="ECCP"))
    assert short["language"] is None
    assert await found(client, {"q": "BioValley"}) == {short["id"]}


async def test_other_records_take_a_language_too(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster(
        name="Pôle de compétitivité", description="Le pôle réunit des entreprises et des laboratoires de recherche.",
    ))
    assert cluster["language"] == "fr"
    mission = await factories.create(client, "/v1/missions", factories.mission(language="es"))
    assert mission["language"] == "es"
    found_clusters = await collect(client, "/v1/clusters", {"q": "laboratoire", "limit": 10})
    assert cluster["id"] in {c["id"] for c in found_clusters}


async def test_lang_wins_over_accept_language_which_wins_over_the_defaults(client, texts):
    german = {texts["de"]["id"]}
    q = {"q": "Partnerschaften"}
    assert await found(client, q, {"Accept-Language": "it"}) == set()
    assert await found(client, q, {"Accept-Language": "it, de-CH;q=0.8"}) == german
    assert await found(client, q, {"Accept-Language": "it, de;q=0"}) == set()  # q=0: not acceptable
    assert await found(client, q, {"Accept-Language": "zh, ja;q=0.5, *"}) == german  # none known: the defaults
    assert await found(client, q | {"lang": "it"}, {"Accept-Language": "de"}) == set()
    assert await found(client, q | {"lang": "de"}, {"Accept-Language": "it"}) == german
    response = await client.get("/v1/opportunities", params=q)
    assert "Accept-Language" in response.headers.get_list("Vary")


async def test_a_query_of_stop_words_matches_only_where_written(client, texts):
    # "und" is a German stop word: its German stemming is empty and must not stand for
    # "every German record"; written as such, it matches where it is written.
    assert await found(client, {"q": "und", "lang": "de"}) == set()


@pytest.mark.parametrize("params", [{"q": "x", "lang": "xx"}, {"lang": "klingon"}, {"language": "zh"}])
async def test_unknown_languages_are_refused(client, params):
    response = await client.get("/v1/opportunities", params=params)
    assert_problem(response, 422)


async def test_language_filter_and_facet(client, texts):
    response = await client.get("/v1/opportunities", params={"language": ["de", "it"], "facets": True, "country": "DE"})
    body = response.json()
    assert {i["id"] for i in body["items"]} == {texts["de"]["id"], texts["it"]["id"]}
    assert {i["language"] for i in body["items"]} == {"de", "it"}
    languages = {f["value"]: f["count"] for f in body["facets"]["language"]}
    assert languages == {code: 1 for code in TEXTS}  # the language facet ignores its own filter
    countries = {f["value"]: f["count"] for f in body["facets"]["country"]}
    assert countries == {"DE": 2}  # the other facets obey it


async def test_highlights_mark_stems_in_the_result_language(client, texts):
    response = await client.get("/v1/opportunities", params={"q": "Partnerschaften", "lang": "de", "highlight": True})
    [item] = response.json()["items"]
    assert item["highlight"]["title"] == "Neue <mark>Partnerschaft</mark> für Wasserstofftechnik"
    assert "<mark>Partnerschaft</mark> mit" in item["highlight"]["snippet"]


async def test_the_text_index_answers_a_query_in_several_languages(session):
    # search_query is IMMUTABLE: with constant arguments the planner folds it into a tsquery
    # the GIN index can look up. Seq scans off: a near-empty table would not need the index.
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = await session.execute(text(
        "EXPLAIN SELECT id FROM opportunities WHERE search @@ search_query(ARRAY['de', 'it'], 'Partnerschaften')"
    ))
    lines = "\n".join(row[0] for row in plan)
    assert "Bitmap Index Scan on ix_opportunities_search" in lines, lines
    assert "''lang de'' & ''partnerschaft''" in lines  # folded into a constant
