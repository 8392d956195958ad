"""Clause splitting: punctuation and contrast words (但是/不过/but/however).

A clause is the unit every classifier sees: one text often praises one touchpoint and
attacks another, and only clause-level analysis keeps the two apart.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple

from . import resources as R

# (start, end, contrast) over the normalized text.
ClauseSpan = Tuple[int, int, bool]

# A fragment shorter than this is merged into its successor ("服务员，态度很差" is one clause)...
MIN_CLAUSE_CHARS_ZH = 4
MIN_CLAUSE_WORDS_EN = 3
# ... unless it holds at least two tokens and this much text: a short pair of words can name a
# touchpoint and judge it ("Great food. Rude waiter.", "菜很好，服务员很凶"), and keeps its own
# sentiment as a clause of its own.
MIN_PAIR_CHARS_ZH = 2
MIN_PAIR_WORDS_EN = 2


def split_clauses(text: str, n_tokens: Optional[Callable[[int, int], int]] = None) -> List[ClauseSpan]:
    """Split ``text`` (normalized) into clause spans, merging fragments too short to judge.

    ``n_tokens(start, end)``: how many tokens the segmenter made of ``text[start:end]``; with
    it, a short fragment of two or more tokens stays a clause ("Rude waiter", "菜很好")."""
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
        if merged and _too_short(text, merged[-1][0], merged[-1][1], n_tokens) and not c[2]:
            merged[-1][1] = c[1]
        else:
            merged.append(c)
    if len(merged) > 1 and _too_short(text, merged[-1][0], merged[-1][1], n_tokens) and not merged[-1][2]:
        last = merged.pop()
        merged[-1][1] = last[1]
    return [(a, b, bool(k)) for a, b, k in merged]


def _too_short(text: str, a: int, b: int, n_tokens=None) -> bool:
    piece = text[a:b]
    han = len(R.CJK_RE.findall(piece))
    size, least, pair = (han, MIN_CLAUSE_CHARS_ZH, MIN_PAIR_CHARS_ZH) if han else \
        (len(piece.split()), MIN_CLAUSE_WORDS_EN, MIN_PAIR_WORDS_EN)
    if size >= least:
        return False
    return not (n_tokens is not None and size >= pair and n_tokens(a, b) >= 2)
