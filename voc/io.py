"""Read customer records from JSONL, CSV/TSV, plain text or Parquet (optionally ``.gz``), or
stdin, without ever losing one.

Every physical record becomes a :class:`Row`: its 1-based record number, its id, its text
(or an :class:`~voc.errors.InputError` saying why it has none) and the mapped extra fields
(time, channel, customer, reach, segments). A record that cannot be read is reported in
place, so its neighbours are still analysed and every input line is accounted for.

Bytes are decoded strictly: a byte-order mark (UTF-8, UTF-16) is honoured, ``encoding``
names any other codec, a file that is not in the expected encoding is refused with a hint
(``E403``), and a single line whose bytes do not decode becomes an ``E108`` record instead
of silently analysed mojibake.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import sys
from pathlib import Path
from typing import IO, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from .resources import SURROGATE_RE
from .errors import (E_BAD_BYTES, E_BAD_RECORD, E_EMPTY, E_ENCODING, E_INPUT_FILE, E_INPUT_FORMAT,
                     E_MISSING_COLUMN, E_MISSING_FIELD, E_NOT_TEXT, InputError)

FORMATS = ("jsonl", "csv", "tsv", "txt", "parquet")
SNIFF_BYTES = 1 << 16

csv.field_size_limit(1 << 30)


class Row(NamedTuple):
    """One input record: ``text`` is the customer's words or the reason there are none."""

    n: int
    id: Optional[str]
    text: Union[str, InputError]
    fields: Dict[str, object]


def guess_format(path: str) -> str:
    """The record format from the file name (``.gz`` is looked through)."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix.lstrip(".")
    fmt = {"jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl", "csv": "csv", "tsv": "tsv", "txt": "txt",
           "parquet": "parquet", "pq": "parquet"}.get(suffix)
    if fmt is None:
        raise InputError(f"Cannot tell the format of {path!r} from its extension; use .jsonl, .csv, .tsv, .txt "
                         f"or .parquet (optionally .gz), or pass --format {{{','.join(FORMATS)}}}.", E_INPUT_FORMAT)
    return fmt


def open_binary(path: str) -> IO[bytes]:
    """The raw byte stream of ``path`` (``-`` is stdin); ``.gz`` files are decompressed."""
    if path == "-":
        return sys.stdin.buffer
    try:
        if path.lower().endswith(".gz"):
            f = gzip.open(path, "rb")
            f.peek(1)  # fail here, not mid-stream, on a file that is not gzip
            return f
        return open(path, "rb")
    except (OSError, EOFError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise InputError(f"Cannot read input file {path!r}: {reason}. Check the path.", E_INPUT_FILE) from e


def _is_ascii_compatible(encoding: str) -> bool:
    return codecs.lookup(encoding).name not in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
                                                 "utf-32-be")


def detect_encoding(head: bytes, declared: Optional[str], where: str) -> str:
    """The encoding to read with: a BOM wins, then ``declared``, then UTF-8, which must fit.

    Raises ``E403`` when no encoding was declared and the first bytes are not UTF-8, naming
    the likely one (GB18030 for GBK files, UTF-16 for files full of NUL bytes).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError:
            raise InputError(f"Unknown encoding {declared!r}; use a Python codec name such as utf-8, gb18030, "
                             "big5 or utf-16.", E_ENCODING) from None
        return declared
    sample = head[:SNIFF_BYTES]
    if b"\x00" not in sample and _mostly_utf8(sample):
        return "utf-8"
    guess = "utf-16-le" if sample[1::2].count(0) > len(sample) // 4 else (
        "utf-16-be" if sample[0::2].count(0) > len(sample) // 4 else _guess_legacy(sample))
    hint = f" It looks like {guess}: pass --encoding {guess}." if guess else " Pass --encoding with its codec."
    raise InputError(f"{where} is not UTF-8 text.{hint} Nothing was analysed; voc never scores text it "
                     "could not decode.", E_ENCODING)


def _mostly_utf8(sample: bytes) -> bool:
    """True when at most half of the sample's non-ASCII lines fail to decode as UTF-8: a UTF-8
    file with a few corrupt lines (reported one by one as E108), not a GBK or Big5 file."""
    lines = sample.split(b"\n")
    if len(sample) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut mid-character
    bad = total = 0
    for line in lines:
        if line.isascii():
            continue
        total += 1
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
    return bad * 2 <= total if total else True


def _guess_legacy(sample: bytes) -> Optional[str]:
    for enc in ("gb18030", "big5", "shift_jis"):
        try:
            codecs.getincrementaldecoder(enc)().decode(sample, final=False)
            return enc
        except UnicodeDecodeError:
            continue
    return None


class _Lines:
    """Decoded lines of a byte stream, remembering which ones did not decode."""

    def __init__(self, raw: IO[bytes], encoding: str, where: str):
        self.where = where
        self.bad: set = set()
        self.count = 0
        if _is_ascii_compatible(encoding):
            self._it = self._by_bytes(raw, encoding)
        else:
            self._it = self._by_text(raw, encoding)

    def _by_bytes(self, raw, encoding):
        decode = codecs.getdecoder(encoding)
        for line in raw:
            self.count += 1
            try:
                text, _ = decode(line)
            except UnicodeDecodeError:
                self.bad.add(self.count)
                text, _ = decode(line, "replace")
            if self.count == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield text

    def _by_text(self, raw, encoding):
        f = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        try:
            for line in f:
                self.count += 1
                yield line
        except UnicodeDecodeError as e:
            raise InputError(f"{self.where}: bytes after line {self.count} are not valid {encoding} ({e.reason}); "
                             "check the file's encoding.", E_ENCODING) from e

    def __iter__(self):
        return self._it


def _bad_bytes(n: int, what: str, encoding: str) -> InputError:
    return InputError(f"{what} {n} has bytes that are not valid {encoding}; it was not analysed. Fix the line or "
                      "pass the file's real encoding with --encoding.", E_BAD_BYTES)


def read_records(path: str, fmt: Optional[str] = None, text_field: str = "text", id_field: Optional[str] = "id",
                 fields: Optional[Dict[str, str]] = None, encoding: Optional[str] = None,
                 stats: Optional[dict] = None) -> Iterator[Row]:
    """Yield a :class:`Row` for every record of ``path`` (``-`` for stdin).

    ``fields`` maps output names to input columns (``{"time": "created_at", "region": "region"}``);
    their raw values land in ``Row.fields``. File-level problems (unreadable, unknown format,
    wrong encoding, a named column missing from a CSV header or Parquet schema) raise
    :class:`InputError` before the first row; row-level problems are yielded in place.
    ``stats``, when given, receives ``position``: a callable returning how many bytes of the
    file (compressed bytes for ``.gz``) have been read, for progress bars.
    """
    fmt = fmt or ("jsonl" if path == "-" else guess_format(path))
    if fmt not in FORMATS:
        raise InputError(f"Unknown input format {fmt!r}; valid formats: {', '.join(FORMATS)}", E_INPUT_FORMAT)
    fields = dict(fields or {})
    if fmt == "parquet":
        return _parquet(path, text_field, id_field, fields)
    raw = open_binary(path)
    where = "standard input" if path == "-" else repr(path)
    try:
        head = raw.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(raw, "peek") else b""
        enc = detect_encoding(head, encoding, where)
    except Exception:
        if raw is not sys.stdin.buffer:
            raw.close()
        raise
    lines = _Lines(raw, enc, where)
    if stats is not None and raw is not sys.stdin.buffer:
        under = getattr(raw, "fileobj", raw)
        stats["position"] = under.tell
    if fmt == "txt":
        gen = _txt(lines, enc, fields)
    elif fmt == "jsonl":
        gen = _jsonl(lines, enc, text_field, id_field, fields)
    else:
        gen = _csv(lines, enc, path, fmt, text_field, id_field, fields)
        gen = _prime(gen)  # header problems surface now, not at the first next()
    return _closing(gen, raw)


def _prime(gen):
    first = next(gen, None)
    return iter(()) if first is None else _chain_first(first, gen)


def _chain_first(first, gen):
    yield first
    yield from gen


def _closing(gen, raw):
    try:
        yield from gen
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def _txt(lines: _Lines, enc: str, fields) -> Iterator[Row]:
    for line in lines:
        n = lines.count
        text = line.rstrip("\r\n")
        if n in lines.bad:
            yield Row(n, str(n), _bad_bytes(n, "Line", enc), {})
        elif not text.strip():
            yield Row(n, str(n), InputError(f"Line {n} is blank; nothing to analyse.", E_EMPTY), {})
        else:
            yield Row(n, str(n), text, {})


def json_objects(lines, text_field: str = "text") -> Iterator[Tuple[int, Union[dict, InputError]]]:
    """``(line number, object or InputError)`` for every line of a JSON Lines stream.

    A blank line yields an ``E101`` error, so that the count of outputs equals the count of
    input lines.
    """
    bad = getattr(lines, "bad", ())
    for n, line in enumerate(lines, 1):
        if n in bad:
            yield n, _bad_bytes(n, "Line", "the file's encoding")
            continue
        if not line.strip():
            yield n, InputError(f"Line {n} is blank; each line must be one JSON object.", E_EMPTY)
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


def clean_str(value: str) -> str:
    """A string safe to write as UTF-8: lone surrogates become U+FFFD (same length)."""
    return SURROGATE_RE.sub("\ufffd", value) if SURROGATE_RE.search(value) else value


def _id(value, n: int) -> str:
    return clean_str(str(value)) if value is not None and value != "" else str(n)


def _text_of(value, n: int, text_field: str, what: str) -> Union[str, InputError]:
    if isinstance(value, str):
        return value
    kind = "null" if value is None else type(value).__name__
    return InputError(f"{what} {n}: field {text_field!r} is {kind}, not a string.", E_NOT_TEXT)


def _jsonl(lines: _Lines, enc: str, text_field, id_field, fields) -> Iterator[Row]:
    for n, obj in json_objects(lines, text_field):
        if isinstance(obj, InputError):
            yield Row(n, str(n), obj, {})
            continue
        rid = _id(obj.get(id_field) if id_field else None, n)
        extra = {k: obj.get(col) for k, col in fields.items()}
        if text_field not in obj:
            yield Row(n, rid, InputError(f"Line {n} has no {text_field!r} field (fields: "
                                         f"{', '.join(map(str, obj)) or 'none'}); name the text field with "
                                         "--text-field.", E_MISSING_FIELD), extra)
            continue
        yield Row(n, rid, _text_of(obj[text_field], n, text_field, "Line"), extra)


def _column(header: List[str], name: str, path, role: str) -> int:
    if name not in header:
        raise InputError(f"{path}: no column {name!r} for {role} in the header ({', '.join(header)}); "
                         f"name the right column with --{role.replace('_', '-')}-field.", E_MISSING_COLUMN)
    return header.index(name)


def _csv(lines: _Lines, enc: str, path, fmt, text_field, id_field, fields) -> Iterator[Row]:
    reader = csv.reader(lines, dialect="excel-tab" if fmt == "tsv" else "excel")
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as e:
        raise InputError(f"{path}: the header is not valid CSV ({e}).", E_BAD_RECORD) from e
    if 1 in lines.bad:
        raise InputError(f"{path}: the header line is not valid {enc}; pass the file's encoding with --encoding.",
                         E_ENCODING)
    header = [h.strip() for h in header]
    if text_field not in header:
        raise InputError(f"{path}: no column {text_field!r} in the CSV header ({', '.join(header)}); "
                         "name the text column with --text-field.", E_MISSING_FIELD)
    ti = header.index(text_field)
    ii = header.index(id_field) if id_field and id_field in header else None
    fi = {k: _column(header, col, path, k) for k, col in fields.items()}
    n = 1
    first_line = lines.count + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            n += 1
            first_line = lines.count + 1
            yield Row(n, str(n), InputError(f"Row {n} is not valid CSV ({e}).", E_BAD_RECORD), {})
            continue
        n += 1
        spanned = range(first_line, lines.count + 1)
        first_line = lines.count + 1
        if any(k in lines.bad for k in spanned):
            yield Row(n, str(n), _bad_bytes(n, "Row", enc), {})
            continue
        if not row or not any(c.strip() for c in row):
            yield Row(n, str(n), InputError(f"Row {n} is blank; nothing to analyse.", E_EMPTY), {})
            continue
        rid = _id(row[ii] if ii is not None and ii < len(row) else None, n)
        extra = {k: (row[i] if i < len(row) else None) for k, i in fi.items()}
        if ti >= len(row):
            yield Row(n, rid, InputError(f"Row {n} has {len(row)} fields; the {text_field!r} column is missing.",
                                         E_MISSING_FIELD), extra)
            continue
        yield Row(n, rid, row[ti], extra)


def parquet_rows(path: str) -> Optional[int]:
    """The number of rows a Parquet file declares (for progress bars), or None."""
    try:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # noqa: BLE001 - only a progress hint
        return None


def _parquet(path, text_field, id_field, fields) -> Iterator[Row]:
    try:
        import pyarrow.parquet as pq
    except ImportError as e:
        from .errors import E_DEPENDENCY, DependencyError

        raise DependencyError("Reading Parquet needs pyarrow: pip install 'voc[batch]'.", E_DEPENDENCY) from e
    try:
        pf = pq.ParquetFile(path)
    except (OSError, Exception) as e:  # pyarrow raises ArrowInvalid (not an OSError) for non-Parquet bytes
        raise InputError(f"Cannot read Parquet file {path!r}: {e}. Check the path and that it is Parquet.",
                         E_INPUT_FILE) from e
    names = pf.schema_arrow.names
    if text_field not in names:
        raise InputError(f"{path}: no column {text_field!r} in the Parquet schema ({', '.join(names)}); "
                         "name the text column with --text-field.", E_MISSING_FIELD)
    for k, col in fields.items():
        _column(names, col, path, k)
    cols = list(dict.fromkeys([text_field] + ([id_field] if id_field in names else []) + list(fields.values())))
    return _parquet_iter(pf, cols, text_field, id_field if id_field in names else None, fields)


def _parquet_iter(pf, cols, text_field, id_field, fields) -> Iterator[Row]:
    n = 0
    for batch in pf.iter_batches(batch_size=8192, columns=cols):
        data = batch.to_pydict()
        texts = data[text_field]
        ids = data[id_field] if id_field else None
        extras = {k: data[col] for k, col in fields.items()}
        for j, text in enumerate(texts):
            n += 1
            extra = {k: v[j] for k, v in extras.items()}
            yield Row(n, _id(ids[j] if ids else None, n), _text_of(text, n, text_field, "Row"), extra)


def split_fields(specs: Sequence[str]) -> Dict[str, str]:
    """``["region", "brand=brand_name"]`` → ``{"region": "region", "brand": "brand_name"}``."""
    out = {}
    for s in specs:
        name, _, col = s.partition("=")
        out[name.strip()] = (col or name).strip()
    return out
