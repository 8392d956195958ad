"""Clause splitting: punctuation and contrast words (但是/不过/but/however).

A clause is the unit every classifier sees: one text often praises one touchpoint and
attacks another, and only clause-level analysis keeps the two apart.
"""

from __future__ import annotations

from typing import List, Tuple

from . import resources as R

# (start, end, contrast) over the normalized text.
ClauseSpan = Tuple[int, int, bool]

MIN_CLAUSE_CHARS_ZH = 4
MIN_CLAUSE_WORDS_EN = 3


def split_clauses(text: str) -> List[ClauseSpan]:
    """Split ``text`` (normalized) into clause spans, merging fragments too short to judge."""
    cuts = {0, len(text)}
    contrast_at = set()
    for m in R.CLAUSE_PUNCT_RE.finditer(text):
        cuts.add(m.start())
        cuts.add(m.end())
    for rx in (R.ZH_CONTRAST_RE, R.EN_CONTRAST_RE):
        for m in rx.finditer(text):
            cuts.add(m.start())
            contrast_at.add(m.start())
    bounds = sorted(cuts)
    raw: List[list] = []
    for a, b in zip(bounds, bounds[1:]):
        # trim whitespace and punctuation-only pieces
        while a < b and not R.is_content_char(text[a]):
            a += 1
        while b > a and not R.is_content_char(text[b - 1]):
            b -= 1
        if a < b:
            raw.append([a, b, a in contrast_at])
    # merge fragments too short to carry an opinion into their successor
    merged: List[list] = []
    for c in raw:
        if merged and _too_short(text[merged[-1][0]:merged[-1][1]]) and not c[2]:
            merged[-1][1] = c[1]
        else:
            merged.append(c)
    if len(merged) > 1 and _too_short(text[merged[-1][0]:merged[-1][1]]) and not merged[-1][2]:
        last = merged.pop()
        merged[-1][1] = last[1]
    return [(a, b, bool(k)) for a, b, k in merged]


def _too_short(piece: str) -> bool:
    han = len(R.CJK_RE.findall(piece))
    if han:
        return han < MIN_CLAUSE_CHARS_ZH
    return len(piece.split()) < MIN_CLAUSE_WORDS_EN
