"""Library pieces for training: turn texts into feature strings with the untrained front of
the pipeline, fit the learned heads, and assemble a complete :class:`Pipeline`.

``training/train_default.py`` (the shipped model) and the tests both go through here, so
there is one definition of how a training text becomes features.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

from . import components as C
from .document import Clause, Document
from .features import LinearHead, Vocabulary
from .lexicon import Lexicon
from .pipeline import Pipeline

SENTIMENT_LABELS = ("negative", "neutral", "positive")


def user_dict_words(lexicons: Dict[str, Lexicon]) -> set:
    """The Chinese taxonomy terms: jieba's user dictionary, so each segments as one word."""
    return {t for kind in ("touchpoints", "themes", "stages", "signals") if kind in lexicons
            for (_, lang, t) in lexicons[kind].rows if not t.isascii() and " " not in t}


def write_user_dict(lexicons: Dict[str, Lexicon], path: Path) -> int:
    """Every Chinese taxonomy term goes into jieba's user dictionary, or it could never match."""
    words = sorted(user_dict_words(lexicons))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(f"{w} 20000\n" for w in words), encoding="utf-8")
    return len(words)


class Front:
    """The untrained stages (normalize → lexicon) used to featurize training texts."""

    def __init__(self, lexicons: Dict[str, Lexicon], user_dict: Optional[Path] = None, rules: Sequence[tuple] = ()):
        self.stages = [C.Normalizer(), C.LanguageDetector(), C.Tokenizer(str(user_dict) if user_dict else None),
                       C.ClauseSplitter(), C.LexiconTagger(lexicons, rules)]
        self._feat = C.Featurizer(Vocabulary())

    def doc(self, text: str) -> Document:
        d = Document(text)
        for s in self.stages:
            d = s(d)
        return d

    def units(self, text: str, unit: str = "text"):
        """``[(feature_strings, clause, doc)]``: the whole text as one unit, or one per clause."""
        d = self.doc(text)
        if unit == "text":
            # the union of the clauses' features, exactly as ``merge_clauses`` builds the
            # whole-text unit at run time (no bigram or negation scope across a clause boundary)
            c = Clause(0, len(text), False, 0, len(d.tokens), [m for cl in d.clauses for m in cl.matches])
            feats = dict.fromkeys(f for cl in d.clauses for f in self._feat.clause_strings(d, cl))
            return [(list(feats), c, d)]
        return [(self._feat.clause_strings(d, c), c, d) for c in d.clauses]


# Degree words: no opinion of their own ("pretty bad", "super slow"), so neither a unigram feature
# of the sentiment head nor a polarity word, although VADER rates "super", "pretty" and "truly".
EN_INTENSIFIERS = frozenset({"very", "really", "so", "extremely", "quite", "super", "totally", "absolutely",
                             "truly", "highly", "incredibly", "especially", "particularly", "pretty"})


def function_word_columns(vocab: Vocabulary) -> np.ndarray:
    """Columns of English function-word unigrams and bigrams (``w=was``, ``b=i|have``).

    They carry the genre of the training corpora (past-tense airline complaints) rather
    than opinion; the sentiment head is trained without them so it leans on opinion
    words, which carry over to other domains. Negators are kept. Intensifiers ("very",
    "really", "so") are masked as single words: alone they only echo the training mix
    ("very" leaned positive, so "the air conditioner was very loud" read positive); their
    bigrams ("very|loud") keep what they intensify.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from . import resources as R

    keep = set(R.EN_NEGATORS) | {"no", "not", "nor", "never", "nothing", "none", "cannot", "too", "least",
                                  "most", "less", "more", "well", "few", "enough"}
    stops = {w for w in ENGLISH_STOP_WORDS if w not in keep}
    stops |= {"i'm", "it's", "i've", "we're", "they're", "i'd", "i'll", "we've", "you're", "that's", "<s>", "</s>"}
    stops |= EN_INTENSIFIERS
    cols = []
    for f, i in vocab.index_.items():
        if f.startswith("w=") and f[2:].lstrip("¬") in stops:  # negated too: "no one at the counter"
            cols.append(i)
        elif f.startswith("b="):
            a, _, b = f[2:].partition("|")
            if a in stops and b in stops:
                cols.append(i)
    return np.asarray(sorted(cols), dtype=np.int64)


def assemble(front: Front, vocab: Vocabulary, sentiment_head: LinearHead, touchpoint_head: LinearHead,
             meta: Optional[dict] = None, neutral_bias: float = 0.0, touchpoint_threshold: float = 0.5,
             lexicon_weight: float = 0.6, signal_patterns: Sequence[tuple] = ()) -> Pipeline:
    """A complete pipeline from fitted parts."""
    comps = front.stages + [
        C.Featurizer(vocab),
        C.SentimentClassifier(sentiment_head, neutral_bias=neutral_bias),
        C.TouchpointClassifier(touchpoint_head, threshold=touchpoint_threshold, lexicon_weight=lexicon_weight,
                               neutral_bias=neutral_bias),
        C.ThemeTagger(neutral_bias=neutral_bias),
        C.SignalDetector(signal_patterns),
        C.StageClassifier(),
    ]
    return Pipeline(comps, meta=meta or {})


def fit_small(texts: Sequence[str], sentiments: Sequence[str], touchpoints: Sequence[Sequence[str]],
              touchpoint_labels: Sequence[str], lexicons: Dict[str, Lexicon], user_dict: Optional[Path] = None,
              C_: float = 10.0, seed: int = 0, meta: Optional[dict] = None) -> Pipeline:
    """Fit a whole pipeline on a handful of labelled texts (tests, demos, tiny taxonomies)."""
    front = Front(lexicons, user_dict)
    feats = [front.units(t)[0][0] for t in texts]
    vocab = Vocabulary(min_df=1).fit(feats)
    X = vocab.transform(feats)
    y = np.array([SENTIMENT_LABELS.index(s) for s in sentiments])
    sent = LinearHead(list(SENTIMENT_LABELS), "softmax", C=C_, class_weight=None, seed=seed).fit(X, y)
    Y = np.array([[int(lab in tps) for lab in touchpoint_labels] for tps in touchpoints])
    tp = LinearHead(list(touchpoint_labels), "sigmoid", C=C_, class_weight=None, seed=seed).fit(X, Y)
    return assemble(front, vocab, sent, tp, meta=meta or {"name": "small", "version": "0"})
