"""Readers for the shared training/evaluation corpora in ``../shared/data``.

Every reader yields :class:`Record` objects with a stable ``id`` so that gold sets can
refer to a text by ``(corpus, id)`` without copying it into this repository.

Ids: CSV files use the 0-based data-row index (header excluded); JSONL uses the record's
own ``id``; SemEval uses the sentence id (``sentences``) or review id (``reviews``);
the car corpus uses ``content_id``.
"""

from __future__ import annotations

import csv
import json
import os
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

csv.field_size_limit(10_000_000)


def shared_data_dir() -> Path:
    """Locate ``shared/data``: ``$VOC_SHARED_DATA`` or ``../shared/data`` next to the repo."""
    env = os.environ.get("VOC_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class Record:
    corpus: str
    id: str
    text: str
    meta: dict = field(default_factory=dict)


def _csv_rows(path: Path, encoding: str = "utf-8-sig", header: bool = True):
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        cols = next(reader) if header else None
        for i, row in enumerate(reader):
            yield i, (dict(zip(cols, row)) if cols else row)


def read_waimai(root: Path) -> Iterator[Record]:
    for i, r in _csv_rows(root / "zh/sentiment/waimai_10k/waimai_10k.csv"):
        yield Record("waimai", str(i), r["review"], {"label": int(r["label"]), "lang": "zh", "domain": "food_delivery"})


def read_chnsenticorp(root: Path) -> Iterator[Record]:
    for i, r in _csv_rows(root / "zh/sentiment/chnsenticorp_htl/ChnSentiCorp_htl_all.csv"):
        yield Record("chnsenticorp_htl", str(i), r["review"], {"label": int(r["label"]), "lang": "zh", "domain": "hotel"})


def read_online_shopping(root: Path) -> Iterator[Record]:
    for i, r in _csv_rows(root / "zh/sentiment/online_shopping_10_cats/online_shopping_10_cats.csv"):
        yield Record("online_shopping", str(i), r["review"].lstrip("\ufeff"),
                     {"label": int(r["label"]), "cat": r["cat"], "lang": "zh", "domain": "ecommerce"})


def read_clue_emotion(root: Path, split: str = "test") -> Iterator[Record]:
    with open(root / f"zh/emotion/clue_emotion2020/{split}.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            yield Record(f"clue_emotion_{split}", str(d["id"]), d["content"],
                         {"emotion": d["label"], "lang": "zh", "domain": "weibo"})


ASAP_ASPECTS = [
    "location_traffic", "location_distance_from_business_district", "location_easy_to_find",
    "service_wait_time", "service_waiters_attitude", "service_parking_convenience",
    "service_serving_speed", "price_level", "price_cost_effective", "price_discount",
    "environment_decoration", "environment_noise", "environment_space", "environment_cleaness",
    "dish_portion", "dish_taste", "dish_look", "dish_recommendation",
]


def read_asap(root: Path, split: str = "test") -> Iterator[Record]:
    for i, r in _csv_rows(root / f"zh/aspect/asap_samples/{split}_sample.csv"):
        aspects = {a: int(float(r[a])) for a in ASAP_ASPECTS}
        yield Record(f"asap_{split}", str(i), r["reviewbody"],
                     {"star": float(r["star"]), "aspects": aspects, "lang": "zh", "domain": "restaurant"})


def read_ccf_car(root: Path) -> Iterator[Record]:
    grouped: "OrderedDict[str, Record]" = OrderedDict()
    for _, r in _csv_rows(root / "zh/aspect/ccf_bdci2018_car/train.csv"):
        rec = grouped.get(r["content_id"])
        if rec is None:
            rec = Record("ccf_car", r["content_id"], r["content"].strip(),
                         {"subjects": {}, "lang": "zh", "domain": "car"})
            grouped[r["content_id"]] = rec
        rec.meta["subjects"][r["subject"]] = int(r["sentiment_value"])
    yield from grouped.values()


def read_absa_terms(root: Path, domain: str, split: str = "train") -> Iterator[Record]:
    path = root / f"zh/aspect/absa_product_terms/{domain}.{split}.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    for k in range(0, len(lines) - 2, 3):
        sent, term, pol = lines[k], lines[k + 1].strip(), lines[k + 2].strip()
        if not pol:
            continue
        if domain != "hair":  # character-tokenized with spaces
            sent, term = sent.replace(" ", ""), term.replace(" ", "")
        text = sent.replace("$T$", term)
        yield Record(f"absa_{domain}_{split}", str(k // 3), text,
                     {"term": term, "polarity": pol.lower(), "lang": "zh", "domain": domain})


def read_airline(root: Path) -> Iterator[Record]:
    for i, r in _csv_rows(root / "en/sentiment/twitter_airline/Tweets.csv"):
        yield Record("airline", str(i), r["text"],
                     {"sentiment": r["airline_sentiment"], "reason": r["negativereason"],
                      "confidence": float(r["airline_sentiment_confidence"] or 0), "lang": "en", "domain": "airline"})


SEMEVAL_FILES = {
    "semeval15_train": "ABSA15_Restaurants_Train.xml",
    "semeval15_test": "ABSA15_Restaurants_Test.xml",
    "semeval15_hotels": "ABSA15_Hotels_Test.xml",
    "semeval16_train": "ABSA16_Restaurants_Train_SB1_v2.xml",
    "semeval16_test": "EN_REST_SB1_TEST.xml.gold",
}


def _semeval_tree(root: Path, name: str):
    return ET.parse(root / "en/aspect/semeval2015_2016" / SEMEVAL_FILES[name]).getroot()


def read_semeval_sentences(root: Path, name: str) -> Iterator[Record]:
    for review in _semeval_tree(root, name).iter("Review"):
        for s in review.iter("sentence"):
            ops = [dict(o.attrib) for o in s.iter("Opinion")]
            yield Record(name, s.get("id"), s.findtext("text") or "",
                         {"opinions": ops, "rid": review.get("rid"), "out_of_scope": s.get("OutOfScope") == "TRUE",
                          "lang": "en", "domain": "hotel" if "hotel" in name else "restaurant"})


def read_semeval_reviews(root: Path, name: str) -> Iterator[Record]:
    """Whole reviews: sentences joined by a space; opinions carry the sentence offset."""
    for review in _semeval_tree(root, name).iter("Review"):
        parts, ops, pos = [], [], 0
        for s in review.iter("sentence"):
            t = s.findtext("text") or ""
            for o in s.iter("Opinion"):
                ops.append(dict(o.attrib, sentence_start=str(pos)))
            parts.append(t)
            pos += len(t) + 1
        yield Record(name + "_reviews", review.get("rid"), " ".join(parts),
                     {"opinions": ops, "lang": "en", "domain": "hotel" if "hotel" in name else "restaurant"})


def read_complaints(root: Path) -> Iterator[Record]:
    for i, r in _csv_rows(root / "en/support/complaints_social_media/complaints-data.csv", header=False):
        yield Record("complaints", str(i), r[1], {"complaint": int(r[2]), "domain": r[3], "lang": "en"})


def read_bitext(root: Path) -> Iterator[Record]:
    for i, r in _csv_rows(root / "en/support/bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv"):
        yield Record("bitext", str(i), r["instruction"],
                     {"category": r["category"], "intent": r["intent"], "lang": "en", "domain": "support"})


def read_banking77(root: Path, split: str = "train") -> Iterator[Record]:
    for i, r in _csv_rows(root / f"en/support/banking77/{split}.csv"):
        yield Record(f"banking77_{split}", str(i), r["text"], {"intent": r["category"], "lang": "en", "domain": "banking"})


def _registry():
    reg = {
        "waimai": read_waimai,
        "chnsenticorp_htl": read_chnsenticorp,
        "online_shopping": read_online_shopping,
        "clue_emotion_test": lambda root: read_clue_emotion(root, "test"),
        "clue_emotion_valid": lambda root: read_clue_emotion(root, "valid"),
        "ccf_car": read_ccf_car,
        "airline": read_airline,
        "complaints": read_complaints,
        "bitext": read_bitext,
        "banking77_train": lambda root: read_banking77(root, "train"),
        "banking77_test": lambda root: read_banking77(root, "test"),
    }
    for split in ("train", "dev", "test"):
        reg[f"asap_{split}"] = (lambda s: lambda root: read_asap(root, s))(split)
    for name in SEMEVAL_FILES:
        reg[name] = (lambda n: lambda root: read_semeval_sentences(root, n))(name)
        reg[name + "_reviews"] = (lambda n: lambda root: read_semeval_reviews(root, n))(name)
    for dom in ("camera", "car", "notebook", "phone", "hair"):
        for split in ("train", "test"):
            reg[f"absa_{dom}_{split}"] = (lambda d, s: lambda root: read_absa_terms(root, d, s))(dom, split)
    return reg


CORPORA = _registry()


def read(corpus: str, root: Path | None = None) -> Iterator[Record]:
    """Iterate the records of a named corpus (see ``CORPORA``)."""
    if corpus not in CORPORA:
        raise KeyError(f"unknown corpus {corpus!r}; known: {', '.join(sorted(CORPORA))}")
    return CORPORA[corpus](root or shared_data_dir())


def lookup(refs, root: Path | None = None) -> dict:
    """Resolve ``[(corpus, id), ...]`` to ``{(corpus, id): Record}``, reading each corpus once."""
    wanted: dict = {}
    for c, i in refs:
        wanted.setdefault(c, set()).add(str(i))
    out = {}
    for c, ids in wanted.items():
        for rec in read(c, root):
            if rec.id in ids:
                out[(c, rec.id)] = rec
    missing = [(c, i) for c, i in refs if (c, str(i)) not in out]
    if missing:
        raise KeyError(f"{len(missing)} gold references not found, first: {missing[:3]}")
    return out
