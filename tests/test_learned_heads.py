"""The learned themes, signals and stage heads and the shared calibration searches, on a tiny
pipeline these tests build themselves (no shipped model, no ../shared/data)."""

from __future__ import annotations

import numpy as np
import pytest

import voc
from voc.calibration import biased_labels, f1, tune_biases, tune_detection
from voc.components.touchpoints import touchpoint_score
from voc.features import LinearHead


def _head(nlp, labels, kind, weights):
    """A head over the tiny vocabulary that fires on the given feature strings."""
    vocab = nlp.get_pipe("features").vocab
    coef = np.zeros((len(vocab), len(labels)), dtype=np.float32)
    for lab, feats in weights.items():
        for f in feats:
            if f in vocab.index_:
                coef[vocab.index_[f], labels.index(lab)] = 60.0  # rows are l2-normalised
    head = LinearHead(labels, kind)
    head._set(coef, np.full(len(labels), -3.0))
    return head


@pytest.fixture
def headed(tiny_nlp, tmp_path):
    path = tmp_path / "m"
    tiny_nlp.to_disk(path)
    nlp = voc.load(path)
    nlp.get_pipe("themes").head = _head(nlp, ["convenience", "respect"], "sigmoid",
                                        {"convenience": ["w=slow", "w=慢"], "respect": ["w=rude", "c=态度"]})
    nlp.get_pipe("signals").head = _head(nlp, ["complaint", "recommend", "recommend_negative", "churn_risk"],
                                         "sigmoid", {"complaint": ["w=slow", "w=rude"]})
    nlp.get_pipe("stage").head = _head(nlp, ["none", "purchase", "usage"], "softmax",
                                       {"purchase": ["w=ordered", "w=下单"], "usage": ["w=food", "c=好吃"]})
    return nlp


def test_heads_decide_and_survive_a_round_trip(headed, tmp_path):
    text = "the waiter was rude and delivery was slow"
    before = headed(text).to_dict()
    assert {t["id"] for t in before["themes"]} == {"convenience", "respect"}
    assert [s["id"] for s in before["signals"]] == ["complaint"]
    headed.to_disk(tmp_path / "again")
    after = voc.load(tmp_path / "again")(text).to_dict()
    assert after["themes"] == before["themes"] and after["signals"] == before["signals"]
    assert after["stage"] == before["stage"]


def test_stage_head_says_none_as_null(headed):
    assert headed("I ordered on Monday").stage["id"] == "purchase"
    assert headed("hello").stage is None


def test_theme_evidence_is_a_clause_of_the_text(headed):
    doc = headed("the food is fine, the waiter was rude")
    respect = next(t for t in doc.themes if t["id"] == "respect")
    for e in respect["evidence"]:
        assert doc.text[e["start"]:e["end"]] == e["text"] and "rude" in e["text"]


def test_warn_off_is_a_negative_recommendation(headed):
    sig = headed.get_pipe("signals")
    sig.lexicon_weights = {"recommend": 0.9, "recommend_negative": 0.9}
    sig.thresholds = {"recommend": 0.5, "recommend_negative": 0.5}
    import re

    sig.patterns = [("recommend_negative", "en", re.compile(r"\bstay away\b")),
                    ("recommend", "en", re.compile(r"\brecommend\w*"))]
    sig.__init__(sig.patterns, head=sig.head, thresholds=sig.thresholds, lexicon_weights=sig.lexicon_weights)
    recs = {s["id"]: s for s in headed("stay away from this place").signals}
    assert recs["recommend"]["polarity"] == "negative"
    recs = {s["id"]: s for s in headed("I recommend the noodles").signals}
    assert recs["recommend"]["polarity"] == "positive"
    assert "recommend" not in {s["id"] for s in headed("a friend recommended it to me").signals}


def test_touchpoint_score_is_a_noisy_or():
    assert touchpoint_score(0.2, 0, 0.9) == pytest.approx(0.2)
    assert touchpoint_score(0.2, 1, 0.5) == pytest.approx(1 - 0.8 * 0.5)
    np.testing.assert_allclose(touchpoint_score(np.array([[0.1, 0.5]]), np.array([[1.0, 0.0]]), np.array([0.9, 0.9])),
                               [[1 - 0.9 * 0.1, 0.5]])


def test_tune_detection_finds_the_separating_threshold():
    gold = np.array([True, True, False, False, False])
    model = np.array([0.9, 0.15, 0.2, 0.1, 0.05])  # the second needs its lexicon hit
    hits = np.array([0, 1, 0, 0, 0])
    lw, th, score = tune_detection(lambda w: touchpoint_score(model, hits, w), gold, plateau=False)
    assert score == 1.0 and lw > 0
    assert ((touchpoint_score(model, hits, lw) >= th) == gold).all()
    assert f1(np.array([True, False]), np.array([False, False])) == 0.0


def test_tune_biases_moves_toward_the_neutral_class():
    P = np.array([[0.5, 0.4, 0.1]] * 10 + [[0.1, 0.2, 0.7]] * 10)
    gold = np.array([1] * 10 + [2] * 10)
    b, q, s = tune_biases(lambda b, q: float(np.mean(biased_labels(P, b, q) == gold)))
    assert s == 1.0 and b > 0.1
