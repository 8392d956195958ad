"""Text stages: normalize → language → segment → clauses."""

from __future__ import annotations

from bisect import bisect_left
from pathlib import Path
from typing import Sequence

from ..clauses import split_clauses
from ..document import Clause
from ..language import detect_language
from ..normalize import DEFAULT_STEPS, make_step, normalize
from ..segment import Segmenter
from .base import Component


class Normalizer(Component):
    name = "normalize"

    def __init__(self, steps: Sequence[str] = DEFAULT_STEPS):
        self.steps = list(steps)
        self._fns = [make_step(s) for s in self.steps]

    def __call__(self, doc):
        doc.norm = normalize(doc.text, self._fns)
        return doc

    def config(self):
        return {"steps": self.steps}


class LanguageDetector(Component):
    name = "language"

    def __call__(self, doc):
        doc.language = detect_language(doc.norm)
        return doc


class Tokenizer(Component):
    name = "segment"

    def __init__(self, user_dict: str | None = None, hmm: bool = False):
        self.segmenter = Segmenter(user_dict, hmm=hmm)

    def __call__(self, doc):
        doc.tokens = self.segmenter(doc.norm, doc.language)
        return doc

    def config(self):
        return {"hmm": self.segmenter.hmm}

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        src = self.segmenter.user_dict
        dst = path / "userdict.txt"
        if src and Path(src).resolve() != dst.resolve():
            dst.write_text(Path(src).read_text(encoding="utf-8"), encoding="utf-8")


class ClauseSplitter(Component):
    name = "clauses"

    def __call__(self, doc):
        clauses = []
        toks = doc.tokens
        starts = [s for _, s, _ in toks]

        def n_tokens(a: int, b: int) -> int:
            return bisect_left(starts, b) - bisect_left(starts, a)

        t = 0
        for start, end, contrast in split_clauses(doc.norm, n_tokens):
            while t < len(toks) and toks[t][1] < start:
                t += 1
            t0 = t
            while t < len(toks) and toks[t][2] <= end:
                t += 1
            clauses.append(Clause(start, end, contrast, t0, t))
        doc.clauses = clauses
        return doc
