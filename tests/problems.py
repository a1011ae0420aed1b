"""Assertions about RFC 9457 problem responses."""

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, location: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("/problems/")
    if location:
        assert location in [e["location"] for e in body.get("errors", [])], body
    return body
