"""The committed OpenAPI document is the app's, and follows the API's conventions."""

import json
from pathlib import Path

from service.cli import openapi_text
from service.main import create_app

COMMITTED = Path(__file__).parent.parent / "openapi" / "openapi.json"


def test_committed_openapi_document_is_current():
    assert COMMITTED.exists(), "run `partnerships openapi` and commit openapi/openapi.json"
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(create_app()), (
        "openapi/openapi.json is stale: run `partnerships openapi` and commit the result"
    )


def test_operation_ids_are_unique_and_named_for_handlers():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert {"list_clusters", "get_cluster", "create_cluster", "update_cluster", "delete_cluster"} <= set(ids)


def test_every_operation_documents_problem_responses():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "422" in operation["responses"], (method, path)
            assert "application/problem+json" in operation["responses"]["422"]["content"], (method, path)


def test_required_acronym_is_stated_as_non_empty():
    # The service refuses an empty acronym; a client generated from the document must too.
    document = create_app().openapi()
    acronym = document["components"]["schemas"]["PartnershipCreate"]["properties"]["acronym"]
    assert acronym["minLength"] == 1 and acronym["maxLength"] == 120
