"""Read analysis input records from JSONL, CSV, plain text or stdin, without ever losing one.

Every physical record becomes ``(id, text)``; a record that cannot be read becomes
``(id, InputError)`` so it is reported in place and its neighbours are still analysed.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import IO, Iterator, Optional, Tuple, Union

from .errors import (E_BAD_RECORD, E_INPUT_FILE, E_INPUT_FORMAT, E_MISSING_FIELD, E_NOT_TEXT, InputError)

FORMATS = ("jsonl", "csv", "txt")
Record = Tuple[Optional[str], Union[str, InputError]]

csv.field_size_limit(1 << 30)


def guess_format(path: str) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if suffix in ("csv", "tsv"):
        return "csv"
    if suffix == "txt":
        return "txt"
    raise InputError(f"Cannot tell the format of {path!r} from its extension; use .jsonl, .csv or .txt, "
                     f"or pass --format {{{','.join(FORMATS)}}}.", E_INPUT_FORMAT)


def open_input(path: str) -> IO[str]:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    try:
        return open(path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as e:
        raise InputError(f"Cannot read input file {path!r}: {e.strerror}. Check the path.", E_INPUT_FILE) from e


def read_records(path: str, fmt: Optional[str] = None, text_field: str = "text",
                 id_field: Optional[str] = "id") -> Iterator[Record]:
    """Yield ``(id, text or InputError)`` for every record of ``path`` (``-`` for stdin)."""
    fmt = fmt or ("jsonl" if path == "-" else guess_format(path))
    if fmt not in FORMATS:
        raise InputError(f"Unknown input format {fmt!r}; valid formats: {', '.join(FORMATS)}", E_INPUT_FORMAT)
    f = open_input(path)
    try:
        if fmt == "txt":
            for n, line in enumerate(f, 1):
                yield str(n), line.rstrip("\r\n")
        elif fmt == "jsonl":
            yield from _jsonl(f, text_field, id_field)
        else:
            yield from _csv(f, path, text_field, id_field)
    finally:
        if f is not sys.stdin:
            f.close()


def json_objects(f, text_field: str = "text") -> Iterator[Tuple[int, Union[dict, InputError]]]:
    """``(line number, object or InputError)`` for every non-blank line of a JSON Lines file."""
    for n, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield n, InputError(f"Line {n} is not valid JSON ({e.msg} at column {e.colno}); "
                                "each line must be one JSON object.", E_BAD_RECORD)
            continue
        if not isinstance(obj, dict):
            yield n, InputError(f"Line {n} is JSON but not an object; write {{\"{text_field}\": \"...\"}}.",
                                E_BAD_RECORD)
            continue
        yield n, obj


def _jsonl(f, text_field, id_field) -> Iterator[Record]:
    for n, obj in json_objects(f, text_field):
        if isinstance(obj, InputError):
            yield str(n), obj
            continue
        rid = obj.get(id_field) if id_field else None
        rid = str(rid) if rid is not None else str(n)
        if text_field not in obj:
            yield rid, InputError(f"Line {n} has no {text_field!r} field (fields: {', '.join(map(str, obj)) or 'none'}); "
                                  "name the text field with --text-field.", E_MISSING_FIELD)
            continue
        text = obj[text_field]
        if not isinstance(text, str):
            yield rid, InputError(f"Line {n}: field {text_field!r} is {type(text).__name__}, not a string.", E_NOT_TEXT)
            continue
        yield rid, text


def _csv(f, path, text_field, id_field) -> Iterator[Record]:
    dialect = "excel-tab" if str(path).lower().endswith(".tsv") else "excel"
    reader = csv.reader(f, dialect=dialect)
    try:
        header = next(reader)
    except StopIteration:
        return
    if text_field not in header:
        raise InputError(f"{path}: no column {text_field!r} in the CSV header ({', '.join(header)}); "
                         "name the text column with --text-field.", E_MISSING_FIELD)
    ti = header.index(text_field)
    ii = header.index(id_field) if id_field and id_field in header else None
    n = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            n += 1
            yield str(n), InputError(f"Row {n} is not valid CSV ({e}).", E_BAD_RECORD)
            continue
        n += 1
        if not row:
            continue
        rid = row[ii] if ii is not None and ii < len(row) and row[ii] else str(n)
        if ti >= len(row):
            yield rid, InputError(f"Row {n} has {len(row)} fields; the {text_field!r} column is missing.",
                                  E_MISSING_FIELD)
            continue
        yield rid, row[ti]
