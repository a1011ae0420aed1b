"""How the search package holds together: modules use each other's public names only, the
cache of planner estimates and facet counts stays bounded without forgetting the searches
in use, and the page is ordered the way its indexes are read."""

import ast
from pathlib import Path

from cachetools import TTLCache
from sqlalchemy.dialects import postgresql

from service.opportunities import facets
from service.opportunities.page_query import page_statement
from service.opportunities.search_plan import Shape

PACKAGE = Path(facets.__file__).parent


def _private_names_used_across(path: Path) -> list[str]:
    """`module._name` and `from module import _name` of the package's other modules."""
    siblings = {p.stem for p in PACKAGE.glob("*.py")} - {path.stem}
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in siblings:
            if node.attr.startswith("_"):
                found.append(f"{node.value.id}.{node.attr}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("service.opportunities"):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_search_modules_reach_into_no_private_names_of_each_other():
    assert {p.name: _private_names_used_across(p) for p in PACKAGE.glob("*.py")} == {
        p.name: [] for p in PACKAGE.glob("*.py")
    }


def test_estimates_keep_the_searches_in_use_when_a_burst_of_new_ones_arrives():
    estimates: TTLCache[str, float] = TTLCache(maxsize=3, ttl=300)
    estimates["typed"] = 10.0
    for n in range(100):
        estimates.get("typed")  # the search being typed is asked for again and again
        estimates[f"other {n}"] = float(n)
    assert len(estimates) == 3
    assert estimates.get("typed") == 10.0
    assert estimates.get("other 99") == 99.0
    assert estimates.get("other 0") is None


def test_estimates_are_asked_again_once_old():
    estimates: TTLCache[str, float] = TTLCache(maxsize=3, ttl=0)
    estimates["q"] = 10.0
    assert estimates.get("q") is None


def _shape(sort: str) -> Shape:
    return Shape(
        text=sort == "-rank", kinds=(), country=False, sector=False, deadline_after=False, deadline_before=False,
        language=False, open=True, cluster=False, partnership=False, sort=sort, after_cursor=True,
    )


def test_newest_first_reads_the_created_index_backwards():
    # The sort keys are never null; NULLS LAST on a descending sort would stop PostgreSQL
    # reading the ascending created_at index backwards and make it sort the whole table.
    sql = str(page_statement(_shape("-created")).compile(dialect=postgresql.dialect()))
    assert "created_at DESC" in sql
    assert "NULLS LAST" not in sql
