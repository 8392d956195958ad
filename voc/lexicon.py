"""Phrase lexicons: taxonomy seed terms matched over tokens, in both languages.

A lexicon is a TSV of ``label<TAB>lang<TAB>term`` rows. Chinese terms are matched as the
concatenation of consecutive jieba tokens (every term is in the segmenter's user
dictionary, so jieba keeps it whole), English terms as token sequences.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Sequence, Tuple

MAX_TERM_TOKENS = 4

# (first_token, last_token_exclusive, label)
Match = Tuple[int, int, str]


def read_rows(path: str | Path, columns: str) -> Iterator[Tuple[int, List[str]]]:
    """``(line_number, [a, b, c])`` for each three-column TAB row of ``path``; blank lines and
    ``#`` comments are skipped. ``columns`` names the columns for the error message."""
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            from .errors import E_MODEL_FILE, ModelError
            raise ModelError(f"{path}:{n}: expected '{columns}', got {line!r}", E_MODEL_FILE)
        yield n, parts


def read_tsv(path: str | Path) -> List[Tuple[str, str, str]]:
    rows = []
    for _, parts in read_rows(path, "label<TAB>lang<TAB>term"):
        label, lang, term = (p.strip() for p in parts)
        if term:
            rows.append((label, lang, term.lower()))
    return rows


def _key(term: str) -> str:
    # English phrases are stored with single spaces; Chinese terms without spaces.
    return " ".join(term.split()) if term.isascii() else term.replace(" ", "")


class Lexicon:
    """Match labelled terms over a token sequence.

    >>> lex = Lexicon([("service", "en", "waiter"), ("store", "zh", "环境")])
    >>> lex.match(["the", "waiter", "was", "rude"])
    [(1, 2, 'service')]
    """

    def __init__(self, rows: Iterable[Tuple[str, str, str]]):
        self.rows = sorted(set(rows))
        self.table: Dict[str, Tuple[str, ...]] = {}
        for label, _lang, term in self.rows:
            k = _key(term)
            if label not in self.table.get(k, ()):
                self.table[k] = self.table.get(k, ()) + (label,)
        self.labels = sorted({r[0] for r in self.rows})
        # every proper prefix of every key: extending a token window stops as soon as the
        # text so far cannot begin any term (most windows end after one token)
        self._prefixes = {k[:i] for k in self.table for i in range(1, len(k))}

    @classmethod
    def from_tsv(cls, path: str | Path) -> "Lexicon":
        return cls(read_tsv(path))

    def to_tsv(self, path: str | Path) -> None:
        lines = ["\t".join(r) for r in self.rows]
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")

    def terms(self) -> List[str]:
        return sorted(self.table)

    def match_all(self, tokens: Sequence[str]) -> List[Match]:
        """Every (possibly overlapping) match."""
        out: List[Match] = []
        table, prefixes = self.table, self._prefixes
        n = len(tokens)
        for i in range(n):
            key = ""
            for L in range(1, min(MAX_TERM_TOKENS, n - i) + 1):
                t = tokens[i + L - 1]
                key = t if L == 1 else (key + " " + t if key[-1].isascii() and t[0].isascii() else key + t)
                labels = table.get(key)
                if labels is None and L == 1 and key.endswith("s") and key.isascii():
                    labels = table.get(key[:-1])  # plural fallback: "waiters" -> "waiter"
                if labels:
                    out.extend((i, i + L, lab) for lab in labels)
                if key not in prefixes and (key + " ") not in prefixes:
                    break
        return out

    def match(self, tokens: Sequence[str]) -> List[Match]:
        """Longest-first matches; a token belongs to at most one match."""
        out: List[Match] = []
        table = self.table
        n = len(tokens)
        i = 0
        while i < n:
            hit = None
            key = ""
            spans = []
            for L in range(1, min(MAX_TERM_TOKENS, n - i) + 1):
                t = tokens[i + L - 1]
                key = t if L == 1 else (key + " " + t if key[-1].isascii() and t[0].isascii() else key + t)
                spans.append(key)
            for L in range(len(spans), 0, -1):
                labels = table.get(spans[L - 1])
                if labels is None and L == 1 and spans[0].endswith("s") and spans[0].isascii():
                    labels = table.get(spans[0][:-1])  # plural fallback: "waiters" -> "waiter"
                if labels:
                    hit = (L, labels)
                    break
            if hit:
                L, labels = hit
                out.extend((i, i + L, lab) for lab in labels)
                i += L
            else:
                i += 1
        return out
