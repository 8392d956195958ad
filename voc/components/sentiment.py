"""The sentiment stage: per clause and per text (peak-end aggregation)."""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from ..document import Document, sentiment_record
from ..features import LinearHead
from .base import Component, as_bias, language_bias
from .features import clause_matrix, merge_clauses


class SentimentClassifier(Component):
    """3-class sentiment per clause and per text.

    The text's probabilities blend a whole-text prediction (weight ``text_weight``) with
    the clauses' average, weighted by the peak-end rule: the strongest clause
    (``peak_weight``), the last one (``end_weight``) and contrast clauses
    (``contrast_weight``) count more. ``neutral_bias`` (per language, key ``default``
    for the rest) is added to the neutral probability before the label is chosen.
    """

    name = "sentiment"

    def __init__(self, head: LinearHead, neutral_bias=0.0, positive_bias=0.0, text_weight: float = 0.5,
                 end_weight: float = 0.5, contrast_weight: float = 0.5, peak_weight: float = 1.0):
        self.head = head
        self.neutral_bias = as_bias(neutral_bias)
        self.positive_bias = as_bias(positive_bias)
        self.text_weight = text_weight
        self.end_weight = end_weight
        self.contrast_weight = contrast_weight
        self.peak_weight = peak_weight

    def record(self, p: np.ndarray, language: str) -> dict:
        return sentiment_record(p, language_bias(self.neutral_bias, language),
                                language_bias(self.positive_bias, language))

    def __call__(self, doc):
        return self.pipe([doc])[0]

    def pipe(self, docs):
        rows = []
        for d in docs:
            rows.extend(d.clauses)
            if d.clauses:
                d.whole = merge_clauses(d.clauses, 0, len(d.text))
                rows.append(d.whole)
        probs = {}
        if rows:
            P = self.head.predict_proba(clause_matrix(rows, self.head.coef_.shape[0]))
            for c, p in zip(rows, P):
                c.sentiment = p
            probs = self._batch_probabilities([d for d in docs if d.clauses], P)
        for d in docs:
            d.sentiment = self.record(probs[id(d)], d.language) if d.clauses else \
                {"label": "neutral", "score": 0.0, "confidence": 0.0}
        return docs

    def _batch_probabilities(self, docs: Sequence[Document], P: np.ndarray,
                             text_weight: float | None = None) -> Dict[int, np.ndarray]:
        """The text's probabilities for a whole batch at once (``P``: each document's clause
        rows followed by its whole-text row, in order)."""
        tw = self.text_weight if text_weight is None else text_weight
        n = np.fromiter((len(d.clauses) for d in docs), dtype=np.int64, count=len(docs))
        whole_at = np.cumsum(n + 1) - 1
        clause_rows = np.ones(len(P), dtype=bool)
        clause_rows[whole_at] = False
        Pc, Pw = P[clause_rows], P[whole_at]
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])
        doc_of = np.repeat(np.arange(len(docs)), n)
        strength = np.abs(Pc[:, 2] - Pc[:, 0])
        peak = np.maximum.reduceat(strength, starts)
        w = 1.0 + self.peak_weight * (strength >= peak[doc_of] - 1e-9) * strength
        w[starts + n - 1] += self.end_weight
        w += self.contrast_weight * np.fromiter((c.contrast for d in docs for c in d.clauses), dtype=float,
                                                count=len(Pc))
        agg = np.add.reduceat(Pc * w[:, None], starts) / np.add.reduceat(w, starts)[:, None]
        out = np.where((n == 1)[:, None], Pw, tw * Pw + (1 - tw) * agg)
        return {id(d): p for d, p in zip(docs, out)}

    def probabilities(self, doc: Document) -> np.ndarray:
        """One analysed document's text probabilities (used to calibrate the weights)."""
        clause_ps = [c.sentiment for c in doc.clauses]
        whole = doc.whole
        if whole is None:  # no whole-text row: the peak-end average of the clauses alone
            return self._batch_probabilities([doc], np.stack(clause_ps + clause_ps[:1]), text_weight=0.0)[id(doc)]
        return self._batch_probabilities([doc], np.stack(clause_ps + [whole.sentiment]))[id(doc)]

    def config(self):
        return {"neutral_bias": self.neutral_bias, "positive_bias": self.positive_bias,
                "text_weight": self.text_weight, "end_weight": self.end_weight,
                "contrast_weight": self.contrast_weight, "peak_weight": self.peak_weight}

    def to_disk(self, path):
        self.head.to_disk(path)
