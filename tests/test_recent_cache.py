"""RecentCache keeps the values used most recently and makes each value once while kept."""

from engine.recent_cache import RecentCache


def test_a_kept_value_is_made_once_and_the_one_used_longest_ago_goes_first():
    made = []

    def maker(key):
        return lambda: made.append(key) or key.upper()

    cache = RecentCache(2)
    assert cache.get("a", maker("a")) == "A"
    assert cache.get("b", maker("b")) == "B"
    assert cache.get("a", maker("a")) == "A"  # kept: not made again, and now the newest
    cache.get("c", maker("c"))  # one too many: "b", used longest ago, goes
    assert cache.get("a", maker("a")) == "A"
    assert cache.get("b", maker("b")) == "B"
    assert made == ["a", "b", "c", "b"]
