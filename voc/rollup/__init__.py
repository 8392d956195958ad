"""Roll-ups: per-touchpoint (and theme) experience scores with the CEM method.

Pure functions over scored records, from Python lists or the DuckDB store alike::

    from voc.rollup import RecordsSource, StoreSource, rollup, prioritize
    src = RecordsSource.from_output("scored.parquet")        # or StoreSource(voc.store.Store("voc.duckdb"))
    rollup(src, by=("label", "channel"), bucket="week")      # volume, share of voice, net, score ± CI
    prioritize(src)["key_experience"]                         # importance × (experience − expectation)

Every formula is in ``docs/method.md``.
"""

from __future__ import annotations

from typing import Optional, Sequence

from .config import RollupConfig
from .metrics import alerts, journeys, key_drivers, priorities, score_interval, scores
from .sources import BUCKETS, Filters, RecordsSource, StoreSource, bucket_start, parse_when, reach_weight

__all__ = ["RollupConfig", "Filters", "RecordsSource", "StoreSource", "rollup", "prioritize", "trends",
           "journey_scores", "overview", "scores", "key_drivers", "priorities", "alerts", "journeys",
           "score_interval", "bucket_start", "parse_when", "reach_weight", "BUCKETS"]


def rollup(source, kind: str = "touchpoint", by: Sequence[str] = ("label",), bucket: Optional[str] = None,
           filters: Optional[Filters] = None, config: Optional[RollupConfig] = None) -> list:
    """Volume, share of voice, net sentiment, score with interval, reach-weighted variants per group."""
    return scores(source.mention_stats(kind, by, bucket, filters), by, config)


def prioritize(source, kind: str = "touchpoint", filters: Optional[Filters] = None,
               config: Optional[RollupConfig] = None) -> dict:
    """The priority ranking with the key experience first, quadrants and the key-driver fit."""
    cfg = config or RollupConfig()
    drivers = key_drivers(*source.driver_rows(kind, filters), config=cfg)
    out = priorities(rollup(source, kind, ("label",), None, filters, cfg), kind, drivers, cfg)
    out["drivers"] = drivers
    return out


def trends(source, kind: str = "touchpoint", bucket: str = "week", by: Sequence[str] = ("label",),
           filters: Optional[Filters] = None, config: Optional[RollupConfig] = None) -> dict:
    """Per-period roll-up rows (``period`` = first day) and the alerts they raise."""
    rows = rollup(source, kind, by, bucket, filters, config)
    key = "label" if tuple(by) == ("label",) else None
    if key is None:  # alert per combination of the grouping keys
        for r in rows:
            r["_series"] = "|".join(str(r.get(b)) for b in by)
        found = alerts(rows, config, key="_series")
        for r in rows:
            r.pop("_series")
    else:
        found = alerts(rows, config)
    return {"bucket": bucket, "rows": sorted(rows, key=lambda r: (r["period"], str(r.get("label")))),
            "alerts": found}


def journey_scores(source, filters: Optional[Filters] = None, limit: Optional[int] = 50) -> dict:
    return journeys(source.journey_rows(filters), limit)


def _distinct(items: list, n: int) -> list:
    """The first ``n`` verbatims with different texts (reposts and templates repeat)."""
    seen, out = set(), []
    for v in items:
        key = (v.get("text") or "").strip().lower()
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out[:n]


def overview(source, kind: str = "touchpoint", bucket: str = "week", filters: Optional[Filters] = None,
             config: Optional[RollupConfig] = None, verbatims: int = 3) -> dict:
    """Everything a report or dashboard shows, in one dict."""
    cfg = config or RollupConfig()
    pr = prioritize(source, kind, filters, cfg)
    tr = trends(source, kind, bucket, ("label",), filters, cfg)
    verb = {}
    for item in pr["ranking"][:12]:
        lab = item["label"]
        verb[lab] = {pol: _distinct(source.verbatims(kind, lab, filters, pol, 4 * verbatims), verbatims)
                     for pol in ("negative", "positive")}
    by_channel = rollup(source, kind, ("label", "channel"), None, filters, cfg)
    return {"kind": kind, "priorities": pr, "trends": tr, "verbatims": verb, "by_channel": by_channel,
            "journeys": journey_scores(source, filters, limit=20), "config": cfg.data}
