"""What a build plans (plan.py): one task per named graph, each keyed by everything its chunk reads."""
from __future__ import annotations

from tieslod.building.cache import Cache
from tieslod.building.pipeline import file_digests, plan
from tieslod.config import Settings


def test_one_task_per_graph_and_keys_follow_the_inputs(mini_settings: Settings) -> None:
    cache = Cache(mini_settings.out_dir / "cache")
    first = plan(mini_settings, file_digests(mini_settings), cache)
    keys = {t.key: t.cache_key for t in first.tasks}
    assert {"mini", "entities", "ontology"} <= set(keys)
    article = mini_settings.data_dir / "articles" / "mini.ttl"
    article.write_text(article.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    again = {t.key: t.cache_key for t in plan(mini_settings, file_digests(mini_settings), cache).tasks}
    assert again["mini"] != keys["mini"] and again["entities"] == keys["entities"]
