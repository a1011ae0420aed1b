"""Marking the words a text query matched, accent-insensitively.

PostgreSQL's ts_headline would compare the query's folded lexemes with the unfolded text
and miss "cooperación" for "cooperacion". Instead, each distinct word of the shown texts is
turned into its lexemes by the same folding and stemming as the index, in its document's
language (one round trip for the whole page), and the words whose lexemes the query holds
are marked.
"""

import html
import re

from sqlalchemy.ext.asyncio import AsyncSession

from service.opportunities import repository

WORD = re.compile(r"\w+", re.UNICODE)
SNIPPET_WORDS = 30


# A word's lexemes: its stem in its document's language and its exact form.
Lexemes = dict[str, frozenset[str]]


async def query_lexemes(session: AsyncSession, q: str, languages: list[str]) -> set[str]:
    """The lexemes of the query's positive terms (negated ones are not marked)."""
    tree = await repository.query_tree(session, q, languages)
    if not tree or tree == "T":
        return set()
    terms = re.findall(r"(!?)'((?:[^']|'')+)'", tree)
    return {term.replace("''", "'") for negated, term in terms if not negated}


async def word_lexemes(session: AsyncSession, words: dict[str, set[str]]) -> dict[str, Lexemes]:
    """language ('' unknown) -> word -> its lexemes, for the words of documents in each language."""
    pairs = {(language, word) for language, some in words.items() for word in some}
    found = await repository.word_lexemes(session, pairs) if pairs else {}
    by_language: dict[str, Lexemes] = {language: {} for language in words}
    for (language, word), lexemes in found.items():
        by_language[language][word] = lexemes
    return by_language


def _matches(word: str, matched: set[str], lexemes: Lexemes) -> bool:
    return not matched.isdisjoint(lexemes.get(word.lower(), ()))


def mark(text_value: str, matched: set[str], lexemes: Lexemes) -> str:
    """HTML-escaped text with the matched words in <mark>."""
    out: list[str] = []
    last = 0
    for word in WORD.finditer(text_value):
        out.append(html.escape(text_value[last:word.start()]))
        token = html.escape(word.group())
        out.append(f"<mark>{token}</mark>" if _matches(word.group(), matched, lexemes) else token)
        last = word.end()
    out.append(html.escape(text_value[last:]))
    return "".join(out)


def snippet(text_value: str, matched: set[str], lexemes: Lexemes) -> str | None:
    """About SNIPPET_WORDS words around the first match (None when nothing matches)."""
    words = list(WORD.finditer(text_value))
    marked_at = next((i for i, w in enumerate(words) if _matches(w.group(), matched, lexemes)), None)
    if marked_at is None:
        return None
    start = max(0, marked_at - SNIPPET_WORDS // 3)
    end = min(len(words), start + SNIPPET_WORDS)
    begin = words[start].start() if start else 0
    finish = words[end - 1].end() if end < len(words) else len(text_value)
    passage = mark(text_value[begin:finish], matched, lexemes)
    return ("…" if begin else "") + passage + ("…" if finish < len(text_value) else "")


def words_of(*texts: str | None) -> set[str]:
    return {w.group().lower() for t in texts if t for w in WORD.finditer(t)}
