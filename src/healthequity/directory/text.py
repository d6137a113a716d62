"""Words for free-text search: a text's words without stop words, and how close a typed word
is to a word of a record, so that spelling slips still find it."""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    ["a", "an", "and", "the", "of", "for", "in", "on", "to", "with", "at", "by", "or", "my"]
)


def tokens(text: str) -> frozenset[str]:
    """The words of a text, lower-cased, without stop words."""
    return frozenset(word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS)


def query_tokens(text: str) -> list[str]:
    seen: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in STOP_WORDS and word not in seen:
            seen.append(word)
    return seen


def allowed_edits(word: str) -> int:
    return 0 if len(word) < 3 else 1 if len(word) < 7 else 2


@lru_cache(maxsize=200_000)
def token_similarity(query: str, word: str) -> float:
    """1 for the same word or a word the query begins; less for a near miss; 0 otherwise."""
    if query == word or (len(query) >= 3 and word.startswith(query)):
        return 1.0
    limit = allowed_edits(query)
    if limit == 0 or abs(len(query) - len(word)) > limit:
        # A slip in a word the query begins: "advi" of "advice" is a prefix, "advic" too;
        # also compare with the word cut to the query's length ("benefit" of "benefits").
        return 0.0
    distance = _edit_distance(query, word, limit)
    if distance > limit:
        if len(word) > len(query) and _edit_distance(query, word[: len(query)], limit) <= limit:
            return 0.6
        return 0.0
    return 1.0 - 0.2 * distance


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap counts one), or limit + 1 if above it."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
