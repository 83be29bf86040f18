"""The answer cache: answers already sent, kept for repeated queries."""
from __future__ import annotations

from collections.abc import Hashable

from cachetools import LRUCache

from ..querying.store import Answer


def _cost(answer: Answer) -> int:
    return len(answer.body) + 200   # the body plus a rough allowance for the key and the object


class AnswerCache:
    """Answers already sent, by (release, request): a release never changes, so neither do they.

    Repeated queries (entity pages, crawlers, dashboards) are answered from here without a trip to a
    query worker (docs/notes/issue-3.md, issue-13.md). A cachetools LRU bounded in bytes; queries using
    RAND/NOW/UUID/STRUUID/BNODE are never stored (the caller decides)."""

    def __init__(self, max_bytes: int, max_entry_bytes: int = 1_000_000) -> None:
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self._lru: LRUCache[Hashable, Answer] = LRUCache(maxsize=max(max_bytes, 1), getsizeof=_cost)
        self.hits = self.misses = 0

    @property
    def size(self) -> int:
        return int(self._lru.currsize)

    def get(self, key: Hashable) -> Answer | None:
        answer = self._lru.get(key)
        if answer is None:
            self.misses += 1
        else:
            self.hits += 1
        return answer

    def clear(self) -> None:
        self._lru.clear()

    def put(self, key: Hashable, answer: Answer) -> None:
        if _cost(answer) <= self.max_entry_bytes:
            self._lru[key] = answer
