"""The flat tables ``voc score`` writes: one row per document, one per touchpoint/theme
mention, one per record that could not be scored.

These rows are the contract between scoring, the store, the roll-ups and any BI tool:
JSONL and Parquet outputs, the DuckDB tables and :mod:`voc.rollup` all use these columns.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from typing import Dict, List, Optional, Sequence, Tuple

from ..document import Document
from ..errors import E_BAD_TIME, InputError
from ..io import Row, clean_str

# Errors that leave a record unscored (it goes to the errors table); any other error code
# on a Document is a warning on a scored record (E105 truncated, E107 lone surrogates).
FATAL = frozenset({"E101", "E102", "E103", "E104", "E108", "E115", "E199"})

ROLE_FIELDS = ("time", "channel", "customer", "reach")
DOC_COLUMNS = ("row", "id", "time", "channel", "customer", "reach", "text", "language", "sentiment",
               "sentiment_score", "sentiment_confidence", "stage", "touchpoints", "themes", "signals",
               "warning_code", "warning_message")
MENTION_COLUMNS = ("row", "id", "time", "channel", "customer", "reach", "language", "kind", "label", "parent",
                   "confidence", "sentiment", "sentiment_score", "score", "doc_sentiment_score",
                   "evidence_start", "evidence_end", "evidence_text", "evidence")
ERROR_COLUMNS = ("row", "id", "code", "message")


def experience_score(sentiment_score: float) -> float:
    """A sentiment score in −1..1 on the 0–10 experience scale (5 = neutral)."""
    return 5.0 + 5.0 * float(sentiment_score)


def parse_time(value) -> Tuple[Optional[datetime], bool]:
    """``(UTC datetime or None, ok)`` from ISO-8601 text, a date, or epoch seconds/milliseconds."""
    if value is None or value == "":
        return None, True
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        secs = value / 1000.0 if abs(value) > 1e11 else float(value)
        try:
            return datetime.fromtimestamp(secs, tz=timezone.utc).replace(tzinfo=None), True
        except (OverflowError, OSError, ValueError):
            return None, False
    elif isinstance(value, str):
        s = value.strip()
        if s.isdigit():
            return parse_time(int(s))
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("/", "-"))
        except ValueError:
            return None, False
    else:
        return None, False
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt, True


def parse_reach(value) -> Optional[float]:
    if value is None or value == "":
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x >= 0 else None


def _str(value) -> Optional[str]:
    return None if value is None or value == "" else clean_str(str(value))


class Flattener:
    """``(Row, Document) -> (doc_row, mention_rows, error_row)``; exactly one of
    ``doc_row`` and ``error_row`` is set. ``segments`` are the passed-through columns."""

    def __init__(self, segments: Sequence[str] = (), keep_text: bool = True):
        self.segments = tuple(segments)
        self.keep_text = keep_text

    def doc_columns(self) -> Tuple[str, ...]:
        return DOC_COLUMNS[:6] + self.segments + DOC_COLUMNS[6:]

    def mention_columns(self) -> Tuple[str, ...]:
        return MENTION_COLUMNS[:6] + self.segments + MENTION_COLUMNS[6:]

    def __call__(self, row: Row, doc: Document):
        err = doc.error
        if err and err["code"] in FATAL:
            return None, [], {"row": row.n, "id": row.id, "code": err["code"], "message": err["message"]}
        f = row.fields
        when, ok = parse_time(f.get("time"))
        warning = err
        if not ok and warning is None:
            warning = InputError(f"Row {row.n}: time {str(f.get('time'))[:40]!r} is not ISO-8601 or epoch "
                                 "seconds; the record is scored without a time.", E_BAD_TIME).to_dict()
        common = {"row": row.n, "id": row.id, "time": when, "channel": _str(f.get("channel")),
                  "customer": _str(f.get("customer")), "reach": parse_reach(f.get("reach"))}
        for s in self.segments:
            common[s] = _str(f.get(s))
        sent = doc.sentiment or {}
        d = dict(common)
        d.update({"text": doc.text if self.keep_text else None, "language": doc.language,
                  "sentiment": sent.get("label"), "sentiment_score": sent.get("score"),
                  "sentiment_confidence": sent.get("confidence"),
                  "stage": (doc.stage or {}).get("id"),
                  "touchpoints": [t["id"] for t in doc.touchpoints], "themes": [t["id"] for t in doc.themes],
                  "signals": [s["id"] for s in doc.signals],
                  "warning_code": warning["code"] if warning else None,
                  "warning_message": warning["message"] if warning else None})
        mentions: List[Dict] = []
        for kind, items in (("touchpoint", doc.touchpoints), ("theme", doc.themes)):
            for t in items:
                ts = t.get("sentiment") or sent
                ev = t.get("evidence") or []
                m = dict(common)
                m.update({"language": doc.language, "kind": kind, "label": t["id"], "parent": t.get("parent"),
                          "confidence": t.get("confidence"), "sentiment": ts.get("label"),
                          "sentiment_score": ts.get("score"), "score": round(experience_score(ts.get("score") or 0.0), 4),
                          "doc_sentiment_score": sent.get("score"),
                          "evidence_start": ev[0]["start"] if ev else None,
                          "evidence_end": ev[0]["end"] if ev else None,
                          "evidence_text": ev[0]["text"] if ev else None,
                          "evidence": json.dumps([[e["start"], e["end"]] for e in ev])})
                mentions.append(m)
        return d, mentions, None
