"""The lexicon stage: seed-term matches per clause, with negation scope."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

from .. import resources as R
from ..document import Clause, Document
from ..lexicon import Lexicon
from .base import Component


LEXICON_KINDS = ("touchpoints", "themes", "stages", "signals", "polarity")


class LexiconTagger(Component):
    """Match the taxonomy's seed lexicons inside each clause, noting negation before a match."""

    name = "lexicon"

    def __init__(self, lexicons: Dict[str, Lexicon], rules: Sequence[tuple] = ()):
        """``rules``: ``(kind, label, regex)`` matched on each clause's normalised text (custom
        taxonomies' ``rules:``); a match counts like a lexicon hit over the tokens it covers."""
        import re

        self.lexicons = lexicons
        self.rules = [(k, lab, rx) for k, lab, rx in rules]
        self._rules = [(k, lab, re.compile(rx)) for k, lab, rx in self.rules]
        # one combined table: a single longest-match pass per clause serves every lexicon
        self._combined = Lexicon([(f"{kind}\t{lab}", lang, term) for kind, lex in lexicons.items()
                                  for lab, lang, term in lex.rows])

    def __call__(self, doc):
        for c in doc.clauses:
            words = [w for w, _, _ in doc.tokens[c.tok_start:c.tok_end]]
            breaks = c.breaks = scope_breaks(doc, c)
            ms = []
            taken: Dict[str, set] = {}
            # per kind, longest match first: "won't be back" (churn) beats "be back" (repurchase)
            for i, j, kl in sorted(self._combined.match_all(words), key=lambda m: (m[0] - m[1], m[0])):
                kind, label = kl.split("\t")
                used = taken.setdefault(kind, set())
                if any(k in used for k in range(i, j)):
                    if not any((m[0], m[1], m[2]) == (c.tok_start + i, c.tok_start + j, kind) for m in ms):
                        continue
                used.update(range(i, j))
                ms.append((c.tok_start + i, c.tok_start + j, kind, label, _negated(words, i, breaks)))
            if self._rules:
                ms.extend(self._rule_matches(doc, c, words, breaks))
            ms.sort()
            c.matches = ms
        return doc

    def _rule_matches(self, doc: Document, c: Clause, words, breaks) -> List[tuple]:
        out = []
        toks = doc.tokens
        text = doc.norm[c.start:c.end]
        for kind, label, rx in self._rules:
            for m in rx.finditer(text):
                a, b = c.start + m.start(), c.start + m.end()
                if a == b:
                    continue
                span = [t for t in range(c.tok_start, c.tok_end) if toks[t][2] > a and toks[t][1] < b]
                if span:
                    out.append((span[0], span[-1] + 1, kind, label, _negated(words, span[0] - c.tok_start, breaks)))
        return out

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        for kind, lex in self.lexicons.items():
            lex.to_tsv(path / f"{kind}.tsv")
        if self.rules:
            lines = ["# kind<TAB>label<TAB>regex"] + ["\t".join(r) for r in self.rules]
            (path / "rules.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def from_disk(cls, path: Path) -> "LexiconTagger":
        from ..lexicon import read_rows

        rules = [tuple(r) for _, r in read_rows(path / "rules.tsv", "kind<TAB>label<TAB>regex")] \
            if (path / "rules.tsv").exists() else []
        return cls({k: Lexicon.from_tsv(path / f"{k}.tsv") for k in LEXICON_KINDS if (path / f"{k}.tsv").exists()},
                   rules)


def scope_breaks(doc: Document, c: Clause) -> List[bool]:
    """Per token of clause ``c``: whether punctuation stands between it and the token before
    (a merged clause can hold a comma; negation does not reach across it)."""
    toks, norm = doc.tokens, doc.norm
    out = [False]
    for t in range(c.tok_start + 1, c.tok_end):
        a, b = toks[t - 1][2], toks[t][1]
        out.append(b > a and R.SCOPE_BREAK_RE.search(norm, a, b) is not None)
    return out


def _negated(words: Sequence[str], i: int, breaks: Sequence[bool] = ()) -> bool:
    """Whether word ``i`` of a clause lies in the scope of a negator before it, with no
    punctuation between them (``breaks``, from :func:`scope_breaks`)."""
    lo = max(0, i - R.MAX_NEGATION_WINDOW)
    for k in range(i - 1, lo - 1, -1):
        if breaks and breaks[k + 1]:
            return False
        w = words[k]
        if (w in R.ZH_NEGATORS or w in R.EN_NEGATORS or w.endswith("n't")) and i - k <= R.negation_window(w):
            if k + 1 < len(words) and words[k + 1] in R.NEGATION_BREAKERS:
                continue  # "can't wait to come back", "won't stop going back"
            return True
    return False
