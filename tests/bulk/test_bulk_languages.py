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
