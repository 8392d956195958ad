"""Write labelled train/test files for `voc train` / `voc eval` from ``../shared/data``.

    python -m training.export_labelled airline   --out /tmp/voc-examples/airline
    python -m training.export_labelled car       --out /tmp/voc-examples/car
    python -m training.export_labelled semeval   --out /tmp/voc-examples/semeval

Each writes ``train.jsonl`` and ``test.jsonl`` (one ``{"id", "text", "aspects", "sentiment"}``
object per line) outside the repository: the shared texts are never copied into it. The
matching taxonomies are in ``data/taxonomies/``.

* ``airline`` — Twitter US airline sentiment. A negative tweet's ``negativereason`` is its
  aspect, with negative polarity ("Can't Tell" → no aspect); positive and neutral tweets
  carry no aspect labels (they say nothing about aspects), only the overall sentiment.
  Split: 80/20 by a hash of the row number.
* ``car`` — CCF BDCI 2018 car forum posts: subject → aspect, sentiment −1/0/1 → polarity;
  no overall sentiment. Split 80/20 by a hash of ``content_id``.
* ``semeval`` — SemEval-2016 restaurants (train = 2015 train + test; test = the 2016 gold
  test). ENTITY#ATTRIBUTE is mapped to the SemEval-2014 coarse categories: FOOD/DRINKS
  (quality, style) → food, *#PRICES → price, SERVICE → service, AMBIENCE → ambience,
  RESTAURANT#GENERAL/MISCELLANEOUS and LOCATION → misc; as in 2014, a sentence with no
  opinion is ``misc`` (without polarity). Opinions on one category with different
  polarities are a conflict (kept for detection, no polarity).
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

from training import corpora

AIRLINE_REASONS = {
    "Customer Service Issue": "customer_service", "Late Flight": "late_flight", "Cancelled Flight": "cancelled_flight",
    "Lost Luggage": "lost_luggage", "Bad Flight": "bad_flight", "Flight Booking Problems": "booking",
    "Flight Attendant Complaints": "flight_attendant", "Damaged Luggage": "damaged_luggage", "longlines": "long_lines",
}
CAR_SUBJECTS = {"动力": "power", "价格": "price", "内饰": "interior", "配置": "features", "安全性": "safety",
                "外观": "exterior", "操控": "handling", "油耗": "fuel", "空间": "space", "舒适性": "comfort"}
CAR_POLARITY = {-1: "negative", 0: "neutral", 1: "positive"}


def semeval_category(cat: str) -> str:
    entity, attr = cat.split("#")
    if attr == "PRICES":
        return "price"
    return {"FOOD": "food", "DRINKS": "food", "SERVICE": "service", "AMBIENCE": "ambience"}.get(entity, "misc")


def _test(key: str) -> bool:
    return zlib.crc32(key.encode()) % 5 == 0


def airline(root: Path):
    for r in corpora.read_airline(root):
        row = {"id": f"airline:{r.id}", "text": r.text, "sentiment": r.meta["sentiment"]}
        if r.meta["sentiment"] == "negative":
            reason = AIRLINE_REASONS.get(r.meta["reason"])
            row["aspects"] = [{"id": reason, "polarity": "negative"}] if reason else []
        yield ("test" if _test("airline:" + r.id) else "train"), row


def car(root: Path):
    for r in corpora.read_ccf_car(root):
        aspects = [{"id": CAR_SUBJECTS[s], "polarity": CAR_POLARITY[v]} for s, v in r.meta["subjects"].items()]
        yield ("test" if _test("car:" + r.id) else "train"), {"id": f"ccf_car:{r.id}", "text": r.text,
                                                             "aspects": aspects}


def semeval(root: Path):
    for split, name in (("train", "semeval16_train"), ("test", "semeval16_test")):
        for r in corpora.read_semeval_sentences(root, name):
            pols: dict = {}
            for o in r.meta["opinions"]:
                c = semeval_category(o["category"])
                p = o.get("polarity")
                pols.setdefault(c, set()).add(p)
            aspects = [{"id": c, "polarity": next(iter(ps)) if len(ps) == 1 else None} for c, ps in pols.items()]
            if not aspects:
                aspects = [{"id": "misc", "polarity": None}]
            yield split, {"id": f"{name}:{r.id}", "text": r.text, "aspects": aspects}


EXPORTS = {"airline": airline, "car": car, "semeval": semeval}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", choices=sorted(EXPORTS))
    ap.add_argument("--out", required=True, help="folder to write train.jsonl and test.jsonl into (outside the repo)")
    ap.add_argument("--root", help="shared data folder (default: ../shared/data or $VOC_SHARED_DATA)")
    args = ap.parse_args(argv)
    root = Path(args.root) if args.root else corpora.shared_data_dir()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {s: open(out / f"{s}.jsonl", "w", encoding="utf-8") for s in ("train", "test")}
    counts = {"train": 0, "test": 0}
    try:
        for split, row in EXPORTS[args.corpus](root):
            files[split].write(json.dumps(row, ensure_ascii=False) + "\n")
            counts[split] += 1
    finally:
        for f in files.values():
            f.close()
    print(f"{args.corpus}: {counts['train']} train / {counts['test']} test rows in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
