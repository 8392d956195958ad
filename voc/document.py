"""The Document: raw text, its normalized twin, tokens, clauses and every annotation.

Offsets are code-point offsets into the raw text; ``doc.text[start:end]`` is always the
customer's own words (normalization never changes the length, see :mod:`voc.normalize`).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np


@dataclass
class Clause:
    start: int
    end: int
    contrast: bool = False
    tok_start: int = 0
    tok_end: int = 0
    matches: List[Tuple[int, int, str, str, bool]] = field(default_factory=list)  # (i, j, kind, label, negated)
    breaks: Optional[List[bool]] = None      # per token: punctuation before it (ends a negation scope)
    x: Optional[np.ndarray] = None           # feature column indices
    sentiment: Optional[np.ndarray] = None   # probabilities (negative, neutral, positive)
    touchpoints: Dict[str, float] = field(default_factory=dict)
    tp_model: Optional[np.ndarray] = None    # touchpoint model probabilities, one per label
    tp_lexicon: Optional[np.ndarray] = None  # touchpoint lexicon hits (0/1), one per label
    emb: Optional[np.ndarray] = None         # transformer embedding (models with a backbone)


@dataclass
class Document:
    text: str
    id: Optional[str] = None
    norm: str = ""
    language: str = "other"
    tokens: List[Tuple[str, int, int]] = field(default_factory=list)
    clauses: List[Clause] = field(default_factory=list)
    sentiment: Optional[dict] = None
    touchpoints: List[dict] = field(default_factory=list)
    themes: List[dict] = field(default_factory=list)
    stage: Optional[dict] = None
    signals: List[dict] = field(default_factory=list)
    error: Optional[dict] = None
    user_data: Dict[str, Any] = field(default_factory=dict)
    # working state between stages (not pickled, dropped by ``Pipeline`` after analysis):
    warning: Optional[dict] = None           # an input problem worked around (E107), reported as the error
    full_text: Optional[str] = None          # an oversized text, while its head is analysed
    whole: Optional[Clause] = None           # the whole text as one unit (union of the clauses' features)
    whole_tp_model: Optional[np.ndarray] = None  # touchpoint model probabilities of ``whole``

    def __reduce__(self):
        # Compact pickling for worker processes (``nlp.pipe(n_process=2)``): tokens as an offset
        # array (their text is ``norm[start:end]``) and clauses as two arrays. Unpickling a
        # Document built from ~200 tuples and ~30 dataclasses cost the parent more than a third
        # of the analysis time; this keeps the parent's share small. Per-clause working state
        # (lexicon matches, feature columns, touchpoint scores) is not carried.
        n = len(self.tokens)
        offs = np.fromiter((x for _, s, e in self.tokens for x in (s, e)), dtype=np.int32, count=2 * n)
        odd = {i: w for i, (w, s, e) in enumerate(self.tokens) if w != self.norm[s:e]}
        cl = np.array([(c.start, c.end, c.contrast, c.tok_start, c.tok_end) for c in self.clauses],
                      dtype=np.int32).reshape(-1, 5)
        cs = np.array([c.sentiment if c.sentiment is not None else (np.nan,) * 3 for c in self.clauses],
                      dtype=np.float64).reshape(-1, 3)
        return (_rebuild_document, (self.text, self.id, self.norm, self.language, offs.tobytes(), odd, cl.tobytes(),
                                    cs.tobytes(), self.sentiment, self.touchpoints, self.themes, self.stage,
                                    self.signals, self.error, self.user_data))

    def span(self, start: int, end: int) -> dict:
        return {"start": start, "end": end, "text": self.text[start:end]}

    def to_dict(self, tokens: bool = False, clauses: bool = False) -> dict:
        """The one JSON form of an analysis (see README, "Output record")."""
        out = {
            "id": self.id,
            "language": self.language,
            "sentiment": self.sentiment,
            "touchpoints": self.touchpoints,
            "themes": self.themes,
            "stage": self.stage,
            "signals": self.signals,
            "error": self.error,
        }
        if tokens:
            out["tokens"] = [{"text": self.text[s:e], "start": s, "end": e} for _, s, e in self.tokens]
        if clauses:
            out["clauses"] = [
                {**self.span(c.start, c.end), "contrast": c.contrast,
                 "sentiment": sentiment_record(c.sentiment) if c.sentiment is not None else None}
                for c in self.clauses
            ]
        return out


def _rebuild_document(text, id, norm, language, offs, odd, cl, cs, sentiment, touchpoints, themes, stage, signals,
                      error, user_data) -> Document:
    o = array("i", offs).tolist()
    tokens = [(norm[s:e], s, e) for s, e in zip(o[0::2], o[1::2])]
    for i, w in odd.items():
        tokens[i] = (w,) + tokens[i][1:]
    c = array("i", cl).tolist()
    sent = np.frombuffer(cs, dtype=np.float64).reshape(-1, 3)
    missing = array("d", cs).tolist()[0::3]
    clauses = [Clause(c[k], c[k + 1], bool(c[k + 2]), c[k + 3], c[k + 4],
                      sentiment=None if missing[j] != missing[j] else sent[j])
               for j, k in enumerate(range(0, len(c), 5))]
    return Document(text, id, norm, language, tokens, clauses, sentiment, touchpoints, themes, stage, signals, error,
                    user_data)


SENTIMENT_LABELS = ("negative", "neutral", "positive")


NEUTRAL_SCORE_BAND = 0.3   # a neutral text's score stays within +-0.3
MIN_POLAR_SCORE = 0.05     # a positive (negative) text's score is at least +0.05 (at most -0.05)


def sentiment_record(p: np.ndarray, neutral_bias: float = 0.0, positive_bias: float = 0.0) -> dict:
    """``{"label", "score", "confidence"}`` from probabilities (negative, neutral, positive).

    The calibrated biases shift the decision toward neutral or positive; the label is the
    class with the highest shifted probability. ``score`` is ``p(positive) - p(negative)``
    after the positive shift, kept consistent with the label: its sign is the label's
    (at least ``MIN_POLAR_SCORE`` away from 0) and a neutral text's score stays within
    ``NEUTRAL_SCORE_BAND``, so no text is "neutral at -0.58" or "positive at -0.1".
    """
    adj = np.array([p[0], p[1] + neutral_bias, p[2] + positive_bias])
    k = int(adj.argmax())
    score = float(np.clip(adj[2] - adj[0], -1.0, 1.0))
    if k == 1:
        score = float(np.clip(score, -NEUTRAL_SCORE_BAND, NEUTRAL_SCORE_BAND))
    elif k == 2:
        score = max(score, MIN_POLAR_SCORE)
    else:
        score = min(score, -MIN_POLAR_SCORE)
    return {
        "label": SENTIMENT_LABELS[k],
        "score": round(score, 4),
        "confidence": round(float(min(1.0, max(0.0, p[k]))), 4),
    }
