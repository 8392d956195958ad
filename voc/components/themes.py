"""The themes stage: CEM experience themes."""

from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from ..document import Clause, Document, sentiment_record
from ..features import LinearHead
from .base import Component, OptionalHeadMixin, as_bias, evidence, language_bias, per_label
from .features import clause_matrix
from .touchpoints import touchpoint_score


class ThemeTagger(OptionalHeadMixin, Component):
    """CEM experience themes, each with a sentiment and evidence spans.

    With a learned ``head`` (sigmoid, one column per theme) a theme is found when the noisy-or
    of the head's probability for the whole text and a seed-lexicon hit (weighted by the
    theme's lexicon weight, :func:`~voc.components.touchpoints.touchpoint_score`) reaches the
    theme's threshold; its evidence is the clauses holding its seed terms, else the clause the
    head scores highest. Without a head (older models, custom taxonomies) the seed lexicons
    alone decide and confidence grows with the number of distinct supporting terms.
    Sentiment comes from the evidence clauses.
    """

    name = "themes"

    def __init__(self, base_confidence: float = 0.6, neutral_bias=0.0, positive_bias=0.0,
                 head: Optional[LinearHead] = None, threshold: float = 0.5,
                 thresholds: Dict[str, float] | None = None, lexicon_weight: float = 0.5,
                 lexicon_weights: Dict[str, float] | None = None):
        self.base_confidence = base_confidence
        self.neutral_bias = as_bias(neutral_bias)
        self.positive_bias = as_bias(positive_bias)
        self.head = head
        self.threshold = threshold
        self.thresholds = thresholds or {}
        self.lexicon_weight = lexicon_weight
        self.lexicon_weights = lexicon_weights or {}

    def __call__(self, doc):
        return self.pipe([doc])[0]

    def pipe(self, docs):
        if self.head is None:
            for d in docs:
                d.themes = self._from_lexicon(d)
            return docs
        scored = [d for d in docs if d.whole is not None]
        S = self.scores(scored) if scored else np.zeros((0, len(self.head.labels)))
        th = per_label(self.thresholds, self.threshold, self.head.labels)
        found = []  # (doc, theme column, score, clauses holding its seed terms)
        for d in docs:
            d.themes = []
        for d, s in zip(scored, S):
            for k in np.flatnonzero(s >= th):
                lab = self.head.labels[k]
                found.append((d, k, float(s[k]),
                              [c for c in d.clauses if any(m[2] == "themes" and m[3] == lab for m in c.matches)]))
        # a theme found without a seed term: its evidence is the clause the head scores highest,
        # scored only for those (most texts have no theme, or one with a seed term)
        need = list({id(d): d for d, _, _, cls in found if not cls}.values())
        best = {}
        if need:
            clauses = [c for d in need for c in d.clauses]
            Q = self.head.predict_proba(clause_matrix(clauses, self.head.coef_.shape[0]))
            k0 = 0
            for d in need:
                best[id(d)] = Q[k0:k0 + len(d.clauses)]
                k0 += len(d.clauses)
        for d, k, score, cls in found:
            cls = cls or [d.clauses[int(np.argmax(best[id(d)][:, k]))]]
            d.themes.append(self._record(d, self.head.labels[k], score, cls))
        for d in scored:
            d.themes.sort(key=lambda t: -t["confidence"])
        return docs

    def scores(self, docs: List[Document]) -> np.ndarray:
        """``(docs, themes)``: each document's score per theme (head on the whole text, noisy-or
        with its lexicon hits). Calibration tunes thresholds and weights on these."""
        Q = self.head.predict_proba(clause_matrix([d.whole for d in docs], self.head.coef_.shape[0]))
        return touchpoint_score(Q, self.lexicon_hits(docs), self.weights())

    def lexicon_hits(self, docs: List[Document]) -> np.ndarray:
        col = {lab: k for k, lab in enumerate(self.head.labels)}
        H = np.zeros((len(docs), len(col)))
        for r, d in enumerate(docs):
            for c in d.clauses:
                for m in c.matches:
                    if m[2] == "themes" and m[3] in col:
                        H[r, col[m[3]]] = 1.0
        return H

    def weights(self) -> np.ndarray:
        return per_label(self.lexicon_weights, self.lexicon_weight, self.head.labels)

    def _record(self, doc: Document, lab: str, conf: float, clauses: List[Clause]) -> dict:
        p = np.mean([c.sentiment for c in clauses], axis=0)
        return {"id": lab, "confidence": round(conf, 4),
                "sentiment": sentiment_record(p, language_bias(self.neutral_bias, doc.language),
                                              language_bias(self.positive_bias, doc.language)),
                "evidence": evidence(doc, clauses, "themes", lab)}

    def _from_lexicon(self, doc: Document) -> List[dict]:
        found: Dict[str, list] = {}
        for c in doc.clauses:
            for m in c.matches:
                if m[2] == "themes":
                    found.setdefault(m[3], []).append(c)
        out = []
        for lab, cls in found.items():
            uniq = list({id(c): c for c in cls}.values())
            n_terms = sum(1 for c in uniq for m in c.matches if m[2] == "themes" and m[3] == lab)
            out.append(self._record(doc, lab, 1 - (1 - self.base_confidence) ** n_terms, uniq))
        out.sort(key=lambda t: -t["confidence"])
        return out

    def config(self):
        cfg = {"base_confidence": self.base_confidence, "neutral_bias": self.neutral_bias,
               "positive_bias": self.positive_bias}
        if self.head is not None:
            cfg.update(threshold=self.threshold, thresholds=self.thresholds, lexicon_weight=self.lexicon_weight,
                       lexicon_weights=self.lexicon_weights)
        return cfg
