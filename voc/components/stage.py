"""The stage stage: where in the customer journey a text sits."""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from ..features import LinearHead
from .base import Component, OptionalHeadMixin
from .features import clause_matrix


STAGE_PRIORS = {
    "marketing": "awareness", "price": "consideration", "digital": "purchase", "delivery": "purchase",
    "billing": "purchase", "product": "usage", "service": "usage", "store": "usage", "location": "usage",
    "membership": "usage", "after_sales": "feedback", "customer_support": "feedback",
}


class StageClassifier(OptionalHeadMixin, Component):
    """Journey stage.

    With a learned ``head`` (softmax over the whole text; one column per stage and ``none``):
    the most probable column, ``null`` for ``none``. Without one (older models, custom
    taxonomies): stage words vote with weight 1, touchpoints with ``prior_weight``; ``null``
    when nothing points anywhere."""

    name = "stage"

    def __init__(self, prior_weight: float = 0.5, priors: Dict[str, str] | None = None,
                 head: Optional[LinearHead] = None):
        self.prior_weight = prior_weight
        self.priors = dict(STAGE_PRIORS) if priors is None else dict(priors)
        self.head = head

    def pipe(self, docs):
        if self.head is None:
            return [self(d) for d in docs]
        scored = [d for d in docs if d.whole is not None]
        P = self.head.predict_proba(clause_matrix([d.whole for d in scored], self.head.coef_.shape[0])) \
            if scored else None
        for d in docs:
            d.stage = None
        for d, p in zip(scored, P if P is not None else []):
            k = int(np.argmax(p))
            lab = self.head.labels[k]
            d.stage = None if lab == "none" else {"id": lab, "confidence": round(float(p[k]), 4)}
        return docs

    def __call__(self, doc):
        if self.head is not None:
            return self.pipe([doc])[0]
        votes: Dict[str, float] = {}
        for c in doc.clauses:
            for m in c.matches:
                if m[2] == "stages":
                    votes[m[3]] = votes.get(m[3], 0.0) + 1.0
        for t in doc.touchpoints:
            st = self.priors.get(t["id"])
            if st:
                votes[st] = votes.get(st, 0.0) + self.prior_weight * t["confidence"]
        if any(s["id"] == "complaint" for s in doc.signals) and "feedback" in votes:
            votes["feedback"] += 0.5
        if not votes:
            doc.stage = None
            return doc
        best = max(votes, key=lambda k: (votes[k], k))
        doc.stage = {"id": best, "confidence": round(votes[best] / sum(votes.values()), 4)}
        return doc

    def config(self):
        cfg = {"prior_weight": self.prior_weight}
        if self.priors != STAGE_PRIORS:
            cfg["priors"] = self.priors
        return cfg
