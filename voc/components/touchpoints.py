"""The touchpoints stage: which touchpoints a text is about, each with its own sentiment."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from ..document import Clause, Document, sentiment_record
from ..features import LinearHead
from .base import Component, as_bias, evidence, language_bias, per_label
from .features import clause_matrix, merge_clauses


def touchpoint_score(model_p, lexicon_hit, lexicon_weight):
    """A touchpoint's score: the noisy-or of the model's probability and a lexicon hit
    weighted by ``lexicon_weight`` (arrays broadcast: one clause, a matrix of clauses, one
    label's column). The one place this formula lives: the stage, calibration, ``voc train``
    and evaluation all call it."""
    return 1 - (1 - model_p) * (1 - lexicon_weight * lexicon_hit)


class TouchpointClassifier(Component):
    """Which touchpoints each clause is about: a learned sigmoid head, with lexicon hits
    as strong evidence (noisy-or), each touchpoint's sentiment from its own clauses.

    ``text_level``: a touchpoint is also found when the whole text scores above its
    threshold (models trained on text-level labels by ``voc train``); its evidence is then
    the clause that scores highest for it. ``polarity_head`` (3-class, optional) gives each
    touchpoint's sentiment from the features of its evidence clauses; without it the
    clauses' sentiment is averaged. ``parents`` (child → parent id) is reported on each
    touchpoint of a two-level taxonomy.
    """

    name = "touchpoints"

    def __init__(self, head: LinearHead, threshold: float = 0.5, lexicon_weight: float = 0.8,
                 thresholds: Dict[str, float] | None = None, lexicon_weights: Dict[str, float] | None = None,
                 neutral_bias=0.0, positive_bias=0.0, text_level: bool = False,
                 polarity_head: LinearHead | None = None, parents: Dict[str, str] | None = None,
                 clause_level: bool = True):
        self.head = head
        self.threshold = threshold
        self.thresholds = thresholds or {}
        self.lexicon_weight = lexicon_weight
        self.lexicon_weights = lexicon_weights or {}
        self.neutral_bias = as_bias(neutral_bias)
        self.positive_bias = as_bias(positive_bias)
        self.text_level = text_level
        self.polarity_head = polarity_head
        self.parents = parents or {}
        self.clause_level = clause_level  # False (text_level only): the whole text decides, clauses give evidence

    def __call__(self, doc):
        return self.pipe([doc])[0]

    def _weights(self):
        labels = self.head.labels
        return (per_label(self.lexicon_weights, self.lexicon_weight, labels),
                per_label(self.thresholds, self.threshold, labels))

    def score_clauses(self, clauses: Sequence[Clause], lw: np.ndarray, th: np.ndarray) -> None:
        """Set each clause's model probabilities (``tp_model``), lexicon hits (``tp_lexicon``) and
        the touchpoints it passes the threshold for, all clauses in one matrix product."""
        if not clauses:
            return
        labels = self.head.labels
        Q = self.head.predict_proba(clause_matrix(clauses, self.head.coef_.shape[0]))
        H = self.lexicon_hits(clauses)
        S = touchpoint_score(Q, H, lw)
        rows, ks = np.nonzero(S >= th)
        for c, q, hit in zip(clauses, Q, H):
            c.tp_model, c.tp_lexicon, c.touchpoints = q, hit, {}
        for r, k in zip(rows.tolist(), ks.tolist()):
            clauses[r].touchpoints[labels[k]] = float(S[r, k])

    def lexicon_hits(self, clauses: Sequence[Clause]) -> np.ndarray:
        """``(clauses, labels)`` matrix: 1 where a seed term of the label occurs in the clause."""
        col = {lab: k for k, lab in enumerate(self.head.labels)}
        H = np.zeros((len(clauses), len(col)))
        for r, c in enumerate(clauses):
            for m in c.matches:
                if m[2] == "touchpoints" and m[3] in col:
                    H[r, col[m[3]]] = 1.0
        return H

    def evidence_clauses(self, doc: Document, label: str) -> List[Clause]:
        """The clauses that speak for ``label``: those over its threshold, else the one the
        model scores highest for it."""
        cls = [c for c in doc.clauses if label in c.touchpoints]
        if cls:
            return cls
        k = self.head.labels.index(label)
        return [max(doc.clauses, key=lambda c: c.tp_model[k])]

    def pipe(self, docs):
        lw, th = self._weights()
        self.score_clauses([c for d in docs for c in d.clauses], lw, th)
        if self.text_level:
            wholes = [d for d in docs if d.whole is not None]
            if wholes:
                Qw = self.head.predict_proba(clause_matrix([d.whole for d in wholes], self.head.coef_.shape[0]))
                for d, q in zip(wholes, Qw):
                    d.whole_tp_model = q
        for d, (items, pol) in zip(docs, zip(*self.found(docs, lw, th))):
            d.touchpoints = [self.record(d, lab, conf, cls, p) for (lab, conf, cls), p in zip(items, pol)]
            d.touchpoints.sort(key=lambda t: -t["confidence"])
        return docs

    def found(self, docs, lw: np.ndarray, th: np.ndarray):
        """Per document of scored clauses, the touchpoints found (``[(label, confidence,
        evidence clauses)]``) and their sentiment probabilities, in the same order."""
        found = [self.roll_up(self.detect(d, lw, th)) for d in docs]
        return found, self.polarities(docs, found)

    def detect(self, doc: Document, lw: np.ndarray, th: np.ndarray) -> List[tuple]:
        """``[(label, confidence, evidence clauses)]`` for one document."""
        found: Dict[str, list] = {}
        for c in doc.clauses:
            for lab, s in c.touchpoints.items():
                found.setdefault(lab, []).append((c, s))
        q = doc.whole_tp_model
        if q is None or not doc.clauses:
            return [(lab, max(s for _, s in items), [c for c, _ in items]) for lab, items in found.items()]
        labels = self.head.labels
        s = touchpoint_score(q, np.max([c.tp_lexicon for c in doc.clauses], axis=0), lw)
        out = []
        if self.clause_level:
            out = [(lab, max(max(v for _, v in items), float(s[labels.index(lab)])), [c for c, _ in items])
                   for lab, items in found.items()]
        for k in np.flatnonzero(s >= th):
            lab = labels[k]
            if lab in found and self.clause_level:
                continue
            out.append((lab, float(s[k]), self.evidence_clauses(doc, lab)))
        return out

    def roll_up(self, items: List[tuple]) -> List[tuple]:
        """A sub-category found means its category is found too (two-level taxonomies)."""
        if not self.parents:
            return items
        have = {lab for lab, _, _ in items}
        extra: Dict[str, list] = {}
        for lab, conf, cls in items:
            par = self.parents.get(lab)
            if par and par not in have:
                e = extra.setdefault(par, [0.0, []])
                e[0] = max(e[0], conf)
                e[1].extend(c for c in cls if all(c is not x for x in e[1]))
        return items + [(par, conf, sorted(cls, key=lambda c: c.start)) for par, (conf, cls) in extra.items()]

    def polarities(self, docs, found) -> List[List[np.ndarray]]:
        """Sentiment probabilities for every found touchpoint, one matrix product in all."""
        if self.polarity_head is None:
            return [[_mean_sentiment(cls, [c.touchpoints.get(lab, conf) for c in cls]) for lab, conf, cls in items]
                    for items in found]
        units = [merge_clauses(cls) for items in found for _, _, cls in items]
        P = self.polarity_head.predict_proba(clause_matrix(units, self.polarity_head.coef_.shape[0])) if units \
            else np.zeros((0, 3))
        out, k = [], 0
        for items in found:
            out.append(list(P[k:k + len(items)]))
            k += len(items)
        return out

    def record(self, doc: Document, lab: str, conf: float, clauses, p: np.ndarray) -> dict:
        rec = {
            "id": lab,
            "confidence": round(float(conf), 4),
            "sentiment": sentiment_record(p, language_bias(self.neutral_bias, doc.language),
                                          language_bias(self.positive_bias, doc.language)),
            "evidence": evidence(doc, clauses, "touchpoints", lab),
        }
        if lab in self.parents:
            rec["parent"] = self.parents[lab]
        return rec

    def config(self):
        cfg = {"threshold": self.threshold, "thresholds": self.thresholds, "lexicon_weight": self.lexicon_weight,
               "lexicon_weights": self.lexicon_weights, "neutral_bias": self.neutral_bias,
               "positive_bias": self.positive_bias}
        if self.text_level:
            cfg["text_level"] = True
        if not self.clause_level:
            cfg["clause_level"] = False
        if self.parents:
            cfg["parents"] = self.parents
        return cfg

    def to_disk(self, path):
        self.head.to_disk(path)
        if self.polarity_head is not None:
            self.polarity_head.to_disk(path / "polarity")

    @classmethod
    def from_disk(cls, path: Path, **kw) -> "TouchpointClassifier":
        pol = LinearHead.from_disk(path / "polarity") if (path / "polarity" / "head.json").exists() else None
        return cls(LinearHead.from_disk(path), polarity_head=pol, **kw)


def _mean_sentiment(clauses, weights) -> np.ndarray:
    w = np.maximum(np.asarray(weights, dtype=float), 1e-6)
    P = np.stack([c.sentiment for c in clauses])
    return (P * w[:, None]).sum(0) / w.sum()
