"""Table tests for the pieces the default model's training is built from: which features the
sentiment head may not use, the derived Chinese polarity forms, and the calibration's choice
of a bias on a noisy grid. None of them needs ../shared/data."""

from pathlib import Path

import numpy as np
import pytest

from voc.features import Vocabulary
from voc.train import function_word_columns


@pytest.mark.parametrize("feature,masked", [
    ("w=the", True),          # function word: genre, not opinion
    ("w=¬the", True),         # also inside a negation scope ("no one at the counter")
    ("b=i|have", True),
    ("w=very", True),         # intensifier alone: echoes the training mix
    ("w=¬really", True),
    ("w=pretty", True),       # "pretty bad": a degree word, whatever VADER says
    ("b=very|loud", False),   # ... but what it intensifies stays
    ("w=loud", False),
    ("w=not", False),         # negators stay
    ("w=too", False),
    ("w=服务", False),
])
def test_sentiment_masked_features(feature, masked):
    vocab = Vocabulary(min_df=1).fit([[feature]])
    assert (len(function_word_columns(vocab)) == 1) is masked


@pytest.mark.parametrize("term,expected", [
    ("不贵", "pos"),      # negated negative, one jieba word: the negation scope never sees it
    ("太贵", "neg"),      # intensified keeps the polarity
    ("不干净", "neg"),
    ("干净", None),       # the base terms themselves are not re-derived
])
def test_derived_chinese_polarity(term, expected):
    pytest.importorskip("jieba")
    from training.train_default import derived_polarity_rows, taxonomy_lexicons
    from voc.train import user_dict_words

    derived = {t: lab for lab, _, t in derived_polarity_rows([("neg", "zh", "贵"), ("pos", "zh", "干净")],
                                                             user_dict_words(taxonomy_lexicons()))}
    assert derived.get(term) == expected


def test_plateau_beats_a_spike():
    pytest.importorskip("scipy")
    from voc.calibration import plateau_argmax

    S = np.full((5, 5), 0.5)
    S[1, 1] = 0.9            # a lone spike
    S[3:, 3:] = 0.7          # a plateau
    assert tuple(plateau_argmax(S, np.zeros_like(S))) in {(3, 3), (3, 4), (4, 3), (4, 4)}
    flat = np.zeros((3, 3))
    tie = -np.abs(np.arange(3) - 1.0)[:, None] - np.abs(np.arange(3) - 1.0)[None, :]
    assert tuple(plateau_argmax(flat, tie)) == (1, 1)   # ties go to the smallest bias


def test_english_polarity_list_is_well_formed():
    from voc.lexicon import read_tsv

    rows = read_tsv(Path(__file__).resolve().parents[1] / "data/lexicons/polarity_en.tsv")
    assert len(rows) >= 100
    assert {lab for lab, _, _ in rows} <= {"pos1", "pos2", "neg1", "neg2"}
    assert {lang for _, lang, _ in rows} == {"en"}
    terms = [t for _, _, t in rows]
    assert len(terms) == len(set(terms))
    by_term = {t: lab for lab, _, t in rows}
    assert by_term["bland"].startswith("neg") and by_term["attentive"].startswith("pos")


def test_vader_keeps_its_rating_over_our_lists():
    pytest.importorskip("vaderSentiment")
    pytest.importorskip("jieba")
    from training.train_default import polarity_rows, taxonomy_lexicons

    en = {t: lab for lab, lang, t in polarity_rows(taxonomy_lexicons()) if lang == "en"}
    assert en["loud"] == "neg1" and en["decent"] == "pos1"   # ours: VADER has neither
    assert en["rude"] == "neg2"                             # VADER's -2.0, untouched
    assert en["noisy"] == "neg1"                            # VADER's -0.7 is below its cut; ours counts
    assert "super" not in en and "pretty" not in en          # degree words, not opinions ("super slow")
