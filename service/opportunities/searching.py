"""Running a search: the page, then (when asked) facets and highlights."""

from datetime import date

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit.pagination import encode_cursor, sortable
from service.models import Mission, Opportunity
from service.opportunities import facets, highlight, search
from service.opportunities.schemas import Highlight, Organiser, SearchPage, SearchQuery, SearchResult

# The search query as the route takes it: `sort` is the enum of the search's sort tokens.
SearchListQuery = sortable(SearchQuery, search.SORTS, "`relevance` with `q`, else `deadline`", tokens=tuple(search.SORT_TOKENS))


# Results are built with model_construct: every value comes straight from typed columns,
# and validating fifty of them per page cost more than running the query.
def _organiser(row: dict) -> Organiser | None:
    if row["cluster_id"]:
        return Organiser.model_construct(type="cluster", id=row["cluster_id"], slug=row["cluster_slug"], name=row["cluster_name"])
    if row["partnership_id"]:
        return Organiser.model_construct(
            type="partnership", id=row["partnership_id"], slug=row["partnership_slug"], name=row["partnership_acronym"]
        )
    if row["organisation"]:
        return Organiser.model_construct(type="organisation", id=None, slug=None, name=row["organisation"])
    return None


def _result(row: dict) -> SearchResult:
    resource = "missions" if row["kind"] == "mission" else "opportunities"
    return SearchResult.model_construct(
        kind=row["kind"], id=row["id"], title=row["title"], summary=row["summary"], countries=row["countries"],
        sectors=row["sectors"], deadline=row["deadline"], organiser=_organiser(row),
        link=f"/v1/{resource}/{row['id']}", created_at=row["created_at"], score=row.get("rank"), highlight=None,
    )


async def _descriptions(session: AsyncSession, results: list[SearchResult]) -> dict:
    ids = {"mission": [], "other": []}
    for r in results:
        ids["mission" if r.kind == "mission" else "other"].append(r.id)
    found = {}
    for model, wanted in ((Opportunity, ids["other"]), (Mission, ids["mission"])):
        if wanted:
            found |= dict((await session.execute(select(model.id, model.description).where(model.id.in_(wanted)))).all())
    return found


async def _highlight(session: AsyncSession, q: str, results: list[SearchResult]) -> None:
    matched = await highlight.query_lexemes(session, q)
    descriptions = await _descriptions(session, results)
    texts = [(r, descriptions.get(r.id)) for r in results]
    lexemes = await highlight.word_lexemes(
        session, highlight.words_of(*(t for r, d in texts for t in (r.title, r.summary, d)))
    )
    for result, description in texts:
        title = highlight.mark(result.title, matched, lexemes)
        passage = None
        for source in (result.summary, description):
            passage = highlight.snippet(source, matched, lexemes) if source else None
            if passage:
                break
        result.highlight = Highlight(title=title, snippet=passage)


async def run(session: AsyncSession, query: SearchQuery, today: date) -> SearchPage:
    p = search.plan(query, today, limit=query.limit + 1)
    s = p.shape
    if s.text or s.country or s.sector or s.cluster or s.partnership:
        # Prepared statements are reused with generic plans after a few runs, but the best
        # plan for these depends on the values: a rare word or country wants its index, a
        # common one the walk in deadline order. Plan them for their values every time.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    # On the connection: the statement selects columns, and the ORM layer would only add cost.
    connection = await session.connection()
    rows = list(await connection.execute(search.page_statement(p.shape), p.params))
    # As dicts: a Row's attribute lookups cost more than the rest of building a result.
    results = [_result(r._asdict()) for r in rows[: query.limit]]
    cursor = None
    if len(rows) > query.limit:
        last = rows[query.limit - 1]
        cursor = encode_cursor(p.sort, getattr(last, p.sort.field.column.name), last.id, search.CURSOR_SCOPE)
    page = SearchPage(items=results, next_cursor=cursor)
    if query.facets:
        page.facets = await facets.counts(session, p.shape, p.params)
    if query.highlight and query.q:
        await _highlight(session, query.q, results)
    return page
