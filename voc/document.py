"""The Document: raw text, its normalized twin, tokens, clauses and every annotation.

Offsets are code-point offsets into the raw text; ``doc.text[start:end]`` is always the
customer's own words (normalization never changes the length, see :mod:`voc.normalize`).
"""

from __future__ import annotations

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
    user_q: Optional[np.ndarray] = None      # touchpoint model probabilities (kept for calibration)
    user_hit: Optional[np.ndarray] = None    # touchpoint lexicon hits
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


SENTIMENT_LABELS = ("negative", "neutral", "positive")


def sentiment_record(p: np.ndarray, neutral_bias: float = 0.0, positive_bias: float = 0.0) -> dict:
    """``{"label", "score", "confidence"}`` from probabilities (negative, neutral, positive).

    The calibrated biases shift the decision (label and the score's sign) toward neutral or
    positive; ``score`` is ``p(positive) - p(negative)`` after the positive shift.
    """
    adj = np.array([p[0], p[1] + neutral_bias, p[2] + positive_bias])
    k = int(adj.argmax())
    return {
        "label": SENTIMENT_LABELS[k],
        "score": round(float(np.clip(adj[2] - adj[0], -1.0, 1.0)), 4),
        "confidence": round(float(min(1.0, max(0.0, p[k]))), 4),
    }
