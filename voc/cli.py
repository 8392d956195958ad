"""The ``voc`` command line: a thin face on :func:`voc.load` and ``Pipeline.pipe``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from . import __version__
from .errors import VocError

EXIT_OK, EXIT_RECORD_ERRORS, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
voc - voice-of-customer analysis for Chinese and English customer texts.

Finds the touchpoints a complaint, review or post is about, the sentiment toward each,
the CEM experience themes at stake, the journey stage and churn/escalation signals,
with evidence spans that point into the customer's own words."""

ANALYZE_EPILOG = """\
examples:
  voc analyze "菜很好吃，但是服务员态度太差了，再也不来了"
  voc analyze "The food was great but the waiter was rude" --clauses
  voc analyze --input posts.jsonl --output scored.jsonl
  voc analyze --input reviews.csv --text-field review --id-field review_id --n-process 2
  cat posts.txt | voc analyze --input - --format txt

Output: one JSON object per input record (JSON Lines), in input order. A record that
cannot be analysed (broken JSON line, missing or empty text, ...) is still written, with
"error": {"code", "message"}; its neighbours are unaffected.

exit status: 0 all records analysed; 1 at least one record has an error; 2 usage error
(bad arguments, unreadable input file, model not found)."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="voc", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"voc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser("analyze", help="analyse texts given as arguments or read from a file",
                       description="Analyse customer texts and write one JSON record per text.",
                       epilog=ANALYZE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("texts", nargs="*", metavar="TEXT", help="texts to analyse (omit when using --input)")
    a.add_argument("-i", "--input", metavar="FILE", help="read records from FILE (.jsonl, .csv, .txt, or - for stdin)")
    a.add_argument("-o", "--output", metavar="FILE", help="write JSON Lines to FILE instead of stdout")
    a.add_argument("--format", choices=("jsonl", "csv", "txt"), help="input format (default: from the extension; stdin: jsonl)")
    a.add_argument("--text-field", default="text", metavar="NAME", help="field/column holding the text (default: text)")
    a.add_argument("--id-field", default="id", metavar="NAME", help="field/column holding the record id (default: id; "
                   "records without one get their line number)")
    a.add_argument("-m", "--model", metavar="PATH", help="model folder (default: the shipped voc-default)")
    a.add_argument("--batch-size", type=int, default=256, metavar="N", help="texts per batch (default: 256)")
    a.add_argument("--n-process", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    a.add_argument("--tokens", action="store_true", help="include tokens with offsets in each record")
    a.add_argument("--clauses", action="store_true", help="include clauses with their sentiment in each record")
    a.add_argument("--pretty", action="store_true", help="indent the JSON (one record spans several lines)")

    i = sub.add_parser("info", help="show the model's name, version, labels and metrics",
                       description="Print a model's meta.json summary.")
    i.add_argument("-m", "--model", metavar="PATH", help="model folder (default: the shipped voc-default)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "analyze":
            return _analyze(args, parser)
        if args.command == "info":
            return _info(args)
    except VocError as e:
        print(f"voc: error {e.code}: {e.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return EXIT_USAGE


def _analyze(args, parser) -> int:
    from . import load
    from .io import read_records

    if args.input and args.texts:
        parser.error("give texts as arguments or --input FILE, not both")
    if not args.input and not args.texts:
        parser.error("nothing to analyse: give TEXT arguments or --input FILE (see voc analyze --help)")
    if args.batch_size < 1 or args.n_process < 1:
        parser.error("--batch-size and --n-process must be at least 1")
    if args.input:
        records = read_records(args.input, args.format, args.text_field, args.id_field)
        first = next(records, None)  # surface file-level errors before loading the model
        import itertools

        records = itertools.chain([first], records) if first is not None else iter(())
    else:
        records = ((str(n), t) for n, t in enumerate(args.texts, 1))
    nlp = load(args.model)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    failed = total = 0
    try:
        import itertools

        r1, r2 = itertools.tee(records)
        ids, texts = (r[0] for r in r1), (r[1] for r in r2)
        for doc in nlp.pipe(texts, batch_size=args.batch_size, n_process=args.n_process, ids=ids):
            total += 1
            failed += doc.error is not None
            rec = doc.to_dict(tokens=args.tokens, clauses=args.clauses)
            out.write(json.dumps(rec, ensure_ascii=False, indent=2 if args.pretty else None) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if failed:
        print(f"voc: {failed} of {total} records have errors (see their \"error\" field)", file=sys.stderr)
    return EXIT_RECORD_ERRORS if failed else EXIT_OK


def _info(args) -> int:
    from . import load

    nlp = load(args.model)
    m = nlp.meta
    summary = {"name": m.get("name"), "version": m.get("version"), "path": str(nlp.path),
               "stages": nlp.pipe_names, "labels": m.get("labels"), "created_at": m.get("created_at"),
               "gold": {k: m.get("metrics", {}).get("gold", {}).get("by_slice", {}).get("all", {}).get(k)
                        for k in ("sentiment_accuracy", "sentiment_macro_f1")}}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
