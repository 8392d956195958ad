"""Table tests for the human-label mappings of ``training/rollup_truth.py``: ASAP aspects and
SemEval opinions → touchpoint polarities, the overall scores, and the mention rows they become.
Hand-written inputs only; none of them needs ../shared/data or the model."""

import pytest

from training.rollup_truth import (asap_sign_polarities, human_mentions, majority, semeval_majority_polarities,
                                   semeval_overall, star_overall)
from voc.batch.records import MENTION_COLUMNS
from voc.rollup import RecordsSource, RollupConfig, rollup

NOT_MENTIONED = -2


def aspects(**given):
    from training.corpora import ASAP_ASPECTS

    out = dict.fromkeys(ASAP_ASPECTS, NOT_MENTIONED)
    out.update(given)
    return out


@pytest.mark.parametrize("given,expected", [
    ({}, {}),
    ({"dish_taste": 1}, {"product": "positive"}),
    ({"dish_taste": 1, "dish_portion": -1}, {"product": "neutral"}),                  # sum 0
    ({"dish_taste": 1, "dish_portion": 0, "dish_look": 0}, {"product": "positive"}),  # sign of the sum
    ({"service_wait_time": -1, "service_waiters_attitude": -1, "service_serving_speed": 1},
     {"service": "negative"}),
    ({"service_parking_convenience": -1}, {"location": "negative"}),                  # parking is getting there
    ({"location_traffic": 1, "service_parking_convenience": -1}, {"location": "neutral"}),
    ({"price_level": 0}, {"price": "neutral"}),
    ({"environment_noise": -1, "environment_cleaness": 1, "environment_space": 1}, {"store": "positive"}),
    ({"dish_taste": 1, "price_level": -1, "environment_decoration": 0},
     {"product": "positive", "price": "negative", "store": "neutral"}),
])
def test_asap_sign_polarities(given, expected):
    assert asap_sign_polarities(aspects(**given)) == expected


@pytest.mark.parametrize("pols,expected", [
    ([], None),
    (["positive"], "positive"),
    (["positive", "positive", "negative"], "positive"),
    (["positive", "negative"], "neutral"),               # tie → neutral
    (["positive", "neutral"], "neutral"),
    (["negative", "negative", "positive", "positive", "neutral"], "neutral"),
    (["neutral", "neutral", "negative"], "neutral"),
])
def test_majority(pols, expected):
    assert majority(pols) == expected


def op(category, polarity):
    return {"category": category, "polarity": polarity, "target": "NULL"}


@pytest.mark.parametrize("opinions,expected", [
    ([], {}),
    ([op("FOOD#QUALITY", "positive"), op("DRINKS#STYLE_OPTIONS", "negative"), op("FOOD#STYLE_OPTIONS", "positive")],
     {"product": "positive"}),
    ([op("FOOD#PRICES", "negative"), op("RESTAURANT#PRICES", "negative"), op("DRINKS#PRICES", "positive")],
     {"price": "negative"}),                              # *#PRICES → price, never product
    ([op("SERVICE#GENERAL", "positive"), op("SERVICE#GENERAL", "negative")], {"service": "neutral"}),
    ([op("AMBIENCE#GENERAL", "neutral")], {"store": "neutral"}),
    ([op("LOCATION#GENERAL", "positive")], {"location": "positive"}),
    ([op("RESTAURANT#GENERAL", "negative"), op("RESTAURANT#MISCELLANEOUS", "positive")], {}),  # overall: skipped
])
def test_semeval_majority_polarities(opinions, expected):
    assert semeval_majority_polarities(opinions) == expected


@pytest.mark.parametrize("opinions,expected", [
    ([], 0),
    ([op("RESTAURANT#GENERAL", "negative"), op("FOOD#QUALITY", "positive"), op("SERVICE#GENERAL", "positive")], -1),
    ([op("FOOD#QUALITY", "positive"), op("SERVICE#GENERAL", "positive"), op("AMBIENCE#GENERAL", "negative")], 1),
    ([op("FOOD#QUALITY", "positive"), op("SERVICE#GENERAL", "negative")], 0),
])
def test_semeval_overall(opinions, expected):
    assert semeval_overall(opinions) == expected


@pytest.mark.parametrize("star,expected", [(5, 1.0), (4, 0.5), (3, 0.0), (2, -0.5), (1, -1.0), (4.5, 0.75)])
def test_star_overall(star, expected):
    assert star_overall(star) == expected


@pytest.mark.parametrize("scale,scores", [(1.0, {"price": 0.0, "product": 10.0, "store": 5.0}),
                                          (0.8, {"price": 1.0, "product": 9.0, "store": 5.0})])
def test_human_mentions_rows(scale, scores):
    rows = human_mentions(3, "r3", {"product": "positive", "price": "negative", "store": "neutral"}, 0.5, scale, "en")
    assert [r["label"] for r in rows] == ["price", "product", "store"]
    for r in rows:
        assert set(r) == set(MENTION_COLUMNS)
        assert r["kind"] == "touchpoint" and r["row"] == 3 and r["id"] == "r3"
        assert r["score"] == pytest.approx(scores[r["label"]])
        assert r["doc_sentiment_score"] == pytest.approx(0.5 * scale)


def test_human_rows_roll_up_to_their_net_sentiment():
    """With ±1 mentions a touchpoint's score is its net sentiment on 0–10: 5 + net / 20."""
    labels = [{"service": "positive"}, {"service": "positive"}, {"service": "negative"}, {"service": "neutral"}]
    rows = [m for n, p in enumerate(labels) for m in human_mentions(n, str(n), p, 0.0)]
    (r,) = rollup(RecordsSource([], rows, source="human"))
    assert (r["volume"], r["net_sentiment"]) == (4, 25.0)
    assert r["score"] is None and r["suppressed"]        # default min_volume 30
    (r,) = rollup(RecordsSource([], rows), config=RollupConfig.from_yaml(overrides={"min_volume": 1}))
    assert r["score"] == pytest.approx(5 + r["net_sentiment"] / 20)
