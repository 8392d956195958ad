"""What every stage shares: the Component protocol, per-language biases, evidence spans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from ..document import Clause, Document
from ..features import LinearHead


class Component:
    name = "component"

    def __call__(self, doc: Document) -> Document:
        raise NotImplementedError

    def pipe(self, docs: List[Document]) -> List[Document]:
        return [self(d) for d in docs]

    def to_disk(self, path: Path) -> None:
        """Write learned state and settings under ``path`` (a folder)."""

    def config(self) -> dict:
        return {}


class OptionalHeadMixin:
    """Saving and loading for a stage whose learned state is an optional ``head``
    (:class:`LinearHead`) stored in its own folder; without one the stage uses its rules."""

    def to_disk(self, path):
        if self.head is not None:
            self.head.to_disk(path)

    @classmethod
    def from_disk(cls, path: Path, **kw):
        head = LinearHead.from_disk(path) if (path / "head.json").exists() else None
        return cls(head=head, **kw)


def per_label(values: Dict[str, float], default: float, labels: Sequence[str]) -> np.ndarray:
    """A setting tuned per label on dev data (threshold, lexicon weight), ``default`` for the rest."""
    return np.array([values.get(lab, default) for lab in labels])


def as_bias(neutral_bias) -> Dict[str, float]:
    return dict(neutral_bias) if isinstance(neutral_bias, dict) else {"default": float(neutral_bias)}


def language_bias(bias: Dict[str, float], language: str) -> float:
    """A calibrated bias for a text's language (mixed texts use the Chinese one)."""
    return bias.get("zh" if language == "mixed" else language, bias.get("default", 0.0))


def evidence(doc: Document, clauses: Sequence[Clause], kind: str, label: str) -> List[dict]:
    """Evidence spans: the matched lexicon terms, else the whole clause."""
    spans = []
    for c in clauses:
        ms = [m for m in c.matches if m[2] == kind and m[3] == label]
        if ms:
            for i, j, *_ in ms:
                spans.append(doc.span(doc.tokens[i][1], doc.tokens[j - 1][2]))
        else:
            spans.append(doc.span(c.start, c.end))
    spans = _dedup(spans)
    # a seed term inside a rule's match ("delayed" in "delayed 3 hours"): keep the longer span
    return [s for s in spans if not any(o is not s and o["start"] <= s["start"] and s["end"] <= o["end"]
                                        for o in spans)]


def _dedup(spans):
    seen, out = set(), []
    for s in spans:
        if (s["start"], s["end"]) not in seen:
            seen.add((s["start"], s["end"]))
            out.append(s)
    return out


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
