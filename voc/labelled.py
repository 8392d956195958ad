"""Labelled rows for ``voc train`` and ``voc eval``.

One row per text, in JSON Lines or CSV:

* ``text`` (required) — the customer's words.
* ``aspects`` (or ``touchpoints``/``labels``) — the touchpoint ids the text is about, with
  an optional polarity each. JSONL: ``["food", "service"]``,
  ``[{"id": "food", "polarity": "positive"}]`` or ``{"food": "positive", "service": null}``.
  CSV: ``food:positive;service:negative`` (``;`` or ``|`` between labels, ``:`` before a
  polarity). An empty value means "none of the aspects".
* ``sentiment`` (optional) — the overall sentiment: positive, neutral or negative.
* ``id`` (optional) — kept in reports; defaults to the line number.

Polarities: ``positive``/``pos``/``1``, ``neutral``/``neu``/``0``, ``negative``/``neg``/``-1``;
``conflict``/``mixed``/empty keep the aspect without a polarity. Every row that cannot be
used is reported with its line number and field (:class:`DataError`).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from .errors import E_EMPTY, InputError, VocError

E_DATA_FILE = "E601"        # missing/unreadable file, unknown format
E_DATA_TEXT = "E602"        # a row without usable text
E_DATA_LABEL = "E603"       # an aspect id the taxonomy does not define
E_DATA_POLARITY = "E604"    # an unknown polarity or sentiment value
E_DATA_FIELD = "E605"       # an aspects field of the wrong shape / broken line
E_DATA_EMPTY = "E606"       # no usable rows at all

ASPECT_FIELDS = ("aspects", "touchpoints", "labels")
POLARITIES = ("negative", "neutral", "positive")
_POLARITY = {"positive": "positive", "pos": "positive", "1": "positive", "+1": "positive",
             "negative": "negative", "neg": "negative", "-1": "negative",
             "neutral": "neutral", "neu": "neutral", "0": "neutral",
             "conflict": None, "mixed": None, "": None, "none": None, "null": None}


class DataError(VocError):
    """Labelled data that cannot be used; ``problems`` holds ``(code, where, message)``."""

    def __init__(self, path, problems: List[Tuple[str, str, str]], total: Optional[int] = None):
        self.path = str(path)
        self.problems = problems
        shown = problems[:20]
        more = len(problems) - len(shown)
        lines = [f"  {c} {w}: {m}" for c, w, m in shown] + ([f"  ... and {more} more"] if more > 0 else [])
        n = total if total is not None else len(problems)
        super().__init__(f"{path}: {n} problem{'s' if n != 1 else ''} in the labelled data\n" + "\n".join(lines),
                         problems[0][0] if problems else E_DATA_EMPTY)


@dataclass
class Row:
    line: int
    id: str
    text: str
    aspects: Dict[str, Optional[str]] = field(default_factory=dict)  # id -> polarity or None
    sentiment: Optional[str] = None
    has_aspects: bool = False  # the row says which aspects it has (an empty list counts)


@dataclass
class Dataset:
    rows: List[Row]
    problems: List[Tuple[str, str, str]]
    path: str = ""
    sha256: str = ""

    @property
    def texts(self) -> List[str]:
        return [r.text for r in self.rows]

    def label_counts(self) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for r in self.rows:
            for a in r.aspects:
                out[a] = out.get(a, 0) + 1
        return dict(sorted(out.items()))

    def has_polarity(self) -> bool:
        return any(p for r in self.rows for p in r.aspects.values())

    def has_sentiment(self) -> bool:
        return any(r.sentiment for r in self.rows)

    def has_aspect_labels(self) -> bool:
        return any(r.has_aspects for r in self.rows)


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_labelled(path, aspect_ids: Iterable[str], parents: Optional[Dict[str, str]] = None,
                  text_field: str = "text") -> Dataset:
    """Read and check labelled rows; bad rows go to ``Dataset.problems`` (never raised here).

    A label that names a sub-category also counts for its parent (``parents``: child → parent).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, [(E_DATA_FILE, str(path), "no such file")])
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        raw = _jsonl_objects(path)
    elif suffix in (".csv", ".tsv"):
        raw = _csv_objects(path)
    else:
        raise DataError(path, [(E_DATA_FILE, str(path), "use a .jsonl or .csv file (one labelled text per row)")])
    known = set(aspect_ids)
    parents = parents or {}
    rows, problems = [], []
    for line, obj in raw:
        if isinstance(obj, VocError):
            problems.append((obj.code, f"line {line}", obj.message))
            continue
        row = _row(line, obj, known, parents, text_field, problems)
        if row is not None:
            rows.append(row)
    return Dataset(rows, problems, str(path), file_sha256(path))


def _row(line: int, obj: dict, known, parents, text_field, problems) -> Optional[Row]:
    where = f"line {line}"
    text = obj.get(text_field)
    if not isinstance(text, str) or not text.strip():
        what = "missing" if text is None else ("empty" if isinstance(text, str) else f"a {type(text).__name__}")
        problems.append((E_DATA_TEXT, f"{where}.{text_field}", f"the text is {what}; every row needs the "
                                                               "customer's words"))
        return None
    rid = obj.get("id")
    row = Row(line, str(rid) if rid not in (None, "") else str(line), text)
    fname = next((f for f in ASPECT_FIELDS if f in obj), None)
    ok = True
    if fname is not None:
        row.has_aspects = True
        parsed = _aspects(obj[fname])
        if parsed is None:
            problems.append((E_DATA_FIELD, f"{where}.{fname}", "expected a list of ids, a list of "
                                                               "{id, polarity}, an {id: polarity} mapping or "
                                                               "'id:polarity;id:polarity'"))
            return None
        for aid, pol in parsed:
            if aid not in known:
                problems.append((E_DATA_LABEL, f"{where}.{fname}", f"unknown aspect id {aid!r}; the taxonomy "
                                                                   f"defines: {', '.join(sorted(known))}"))
                ok = False
                continue
            p = _polarity(pol)
            if p is False:
                problems.append((E_DATA_POLARITY, f"{where}.{fname}", f"polarity {pol!r} of {aid!r} is not "
                                                                      "positive, neutral or negative"))
                ok = False
                continue
            if aid not in row.aspects:
                row.aspects[aid] = p
            elif p and row.aspects[aid] and row.aspects[aid] != p:
                row.aspects[aid] = None  # the same aspect both ways in one text: a conflict, no polarity
            elif p:
                row.aspects[aid] = p
            par = parents.get(aid)
            if par and par not in row.aspects:
                row.aspects[par] = None
    s = obj.get("sentiment")
    if s not in (None, ""):
        p = _polarity(s)
        if p in (False, None):
            problems.append((E_DATA_POLARITY, f"{where}.sentiment", f"{s!r} is not positive, neutral or negative"))
            ok = False
        else:
            row.sentiment = p
    return row if ok else None


def _polarity(v):
    """A polarity label, None (no polarity) or False (invalid)."""
    if v is None:
        return None
    key = str(v).strip().lower()
    return _POLARITY.get(key, False)


def _aspects(v) -> Optional[List[Tuple[str, object]]]:
    if v is None:
        return []
    if isinstance(v, str):
        out = []
        for part in v.replace("|", ";").split(";"):
            part = part.strip()
            if part:
                aid, _, pol = part.partition(":")
                out.append((aid.strip(), pol.strip() or None))
        return out
    if isinstance(v, dict):
        return [(str(k), p) for k, p in v.items()]
    if isinstance(v, list):
        out = []
        for item in v:
            if isinstance(item, str):
                out.append((item, None))
            elif isinstance(item, dict) and isinstance(item.get("id"), str):
                out.append((item["id"], item.get("polarity", item.get("sentiment"))))
            else:
                return None
        return out
    return None


def _jsonl_objects(path: Path):
    from .io import json_objects

    with open(path, encoding="utf-8-sig", errors="replace") as f:
        for n, obj in json_objects(f):
            if isinstance(obj, InputError) and obj.code == E_EMPTY:
                continue  # blank lines in a training file are layout, not rows
            yield n, obj


def _csv_objects(path: Path):
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f, dialect=dialect)
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        for n, row in enumerate(reader, 2):
            if not row:
                continue
            yield n, dict(zip(header, row))
