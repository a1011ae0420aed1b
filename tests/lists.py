"""Following keyset pages to the end."""


async def collect(client, path: str, params: dict) -> list[dict]:
    """Follow next_cursor (and the Link header) to the last page."""
    items, cursor = [], None
    for _ in range(100):
        response = await client.get(path, params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            return items
        assert f"cursor={cursor}" in response.headers["link"] and 'rel="next"' in response.headers["link"]
    raise AssertionError("paging did not end")
