"""The answer cache (server/answers.py) (moved from test_workers.py, issue 12)."""
from __future__ import annotations

from tieslod.formats import result_format
from tieslod.querying.store import Answer
from tieslod.server.answers import AnswerCache


def test_answer_cache_is_bounded_and_lru():
    fmt = result_format("json")
    cache = AnswerCache(max_bytes=1000, max_entry_bytes=500)
    for key in "abc":
        cache.put(key, Answer("bindings", b"x" * 300, fmt))
    assert cache.get("a") is None and cache.get("b") is not None   # a was evicted first
    cache.put("d", Answer("bindings", b"x" * 300, fmt))
    assert cache.get("c") is None and cache.get("b") is not None    # b was used recently, c not
    cache.put("huge", Answer("bindings", b"x" * 600, fmt))
    assert cache.get("huge") is None and cache.size <= 1000
