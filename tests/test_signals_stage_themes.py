"""Table tests for the rule stages: signal patterns (the shipped file), stage and themes."""

from pathlib import Path

import pytest

from voc import components as C
from voc.errors import ModelError
from voc.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def nlp_patterns(tiny_nlp):
    comps = [C.SignalDetector(C.read_patterns(REPO / "data/signal_patterns.tsv")) if c.name == "signals" else c
             for c in tiny_nlp.components]
    return Pipeline(comps, meta=tiny_nlp.meta)


@pytest.mark.parametrize("text,present,absent", [
    ("再也不来了", "churn_risk", "repurchase"),
    ("再也不想来了", "churn_risk", "repurchase"),
    ("以后不去了", "churn_risk", None),
    ("下次还会再来", "repurchase", "churn_risk"),
    ("已经来了三次了", "repurchase", None),
    ("準備去12315投訴", "escalation", None),                # Traditional input
    ("找媒体曝光你们", "escalation", None),
    ("多媒体功能不错", None, "escalation"),                   # not "the media"
    ("110元一位", None, "escalation"),
    ("强烈推荐", "recommend", None),
    ("千万别去", "recommend", None),
    ("we won't be back", "churn_risk", "repurchase"),
    ("I will never come back here", "churn_risk", "repurchase"),
    ("we will definitely be back", "repurchase", "churn_risk"),
    ("can't wait to come back", "repurchase", "churn_risk"),
    ("I won't stop going back", "repurchase", "churn_risk"),
    ("I'm cancelling my account", "churn_risk", None),
    ("switching to another carrier", "churn_risk", None),
    ("I'll report this to the BBB", "escalation", None),
    ("highly recommend it", "recommend", None),
    ("been back several times", "repurchase", None),
])
def test_signal_patterns(nlp_patterns, text, present, absent):
    doc = nlp_patterns(text)
    got = {s["id"] for s in doc.signals}
    if present:
        assert present in got, (text, got)
    if absent:
        assert absent not in got, (text, got)
    for s in doc.signals:
        for e in s["evidence"]:
            assert text[e["start"]:e["end"]] == e["text"]


def test_bad_pattern_file_names_the_line(tmp_path):
    f = tmp_path / "p.tsv"
    f.write_text("churn_risk\ten\t(unclosed\n", encoding="utf-8")
    with pytest.raises(ModelError, match="p.tsv:1"):
        C.read_patterns(f)


def test_stage_from_words_and_touchpoint_priors(tiny_nlp):
    assert tiny_nlp("我今天下单了").stage["id"] == "purchase"
    assert tiny_nlp("we ate there").stage["id"] == "usage"
    assert tiny_nlp("送餐太慢了").stage["id"] == "purchase"        # delivery points to purchase
    assert tiny_nlp("hello there friend").stage is None


def test_theme_with_sentiment_and_evidence(tiny_nlp):
    doc = tiny_nlp("the waiter was rude")
    [theme] = [t for t in doc.themes if t["id"] == "respect"]
    assert theme["sentiment"]["label"] == "negative"
    assert theme["evidence"][0]["text"] == "rude"
