"""Bulk loads carry a record's language like any other field: given, it is kept; left out,
it is detected from the text, as on create."""

import pytest

from tests import factories
from tests.bulk.helpers import counts, file_of, report

GERMAN = {"title": "Neue Partnerschaft für Wasserstofftechnik", "summary": "Ein Cluster aus Bayern sucht eine Partnerschaft."}


@pytest.mark.parametrize("format", ["ndjson", "csv"])
async def test_languages_given_or_detected_in_bulk(client, format):
    given = factories.opportunity(**GERMAN, language="it")
    detected = factories.opportunity(**GERMAN)
    body, content_type = file_of("opportunities", [given, detected], format)
    assert counts(await report(client, "opportunities", body, content_type)) == (2, 0, 0, 0)
    items = (await client.get("/v1/opportunities", params={"limit": 200})).json()["items"]
    assert sorted(i["language"] for i in items) == ["de", "it"]


TEXTS = {
    "de": "Neue Partnerschaft für Wasserstofftechnik in Bayern gesucht",
    "fr": "Nouveau partenariat pour les technologies de l'hydrogène en Bretagne",
    "it": "Nuovo partenariato per le tecnologie dell'idrogeno in Lombardia",
    None: "BioValley",  # too short to tell
    "es": "Nueva asociación para las tecnologías del hidrógeno en Cataluña",
    "nl": "Nieuw partnerschap voor waterstoftechnologie in Brabant gezocht",
}


@pytest.mark.parametrize("format", ["ndjson", "csv"])
async def test_a_batchs_languages_are_detected_together_each_for_its_own_row(client, format):
    # Detected in one call at the end of the batch: each answer must reach its own row, the
    # rows too short to tell and the rejected ones in between notwithstanding.
    rows = []
    for title in TEXTS.values():
        rows.append(factories.opportunity(title=title, summary=None, description=None))
        rows.append(factories.opportunity(title=f"{title} (rejected)", countries=["XX"]))
    body, content_type = file_of("opportunities", rows, format)
    assert counts(await report(client, "opportunities", body, content_type, mode="partial")) == (len(TEXTS), 0, 0, len(TEXTS))
    items = (await client.get("/v1/opportunities", params={"limit": 200})).json()["items"]
    assert {i["title"]: i["language"] for i in items} == {title: language for language, title in TEXTS.items()}
