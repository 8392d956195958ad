"""The roll-up engine: the CEM numbers, their formulas, and the same numbers from Python
records and from the DuckDB store."""

import math
import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from voc import cli
from voc.rollup import (Filters, RecordsSource, RollupConfig, StoreSource, alerts, journeys, key_drivers,
                        prioritize, rollup, score_interval, trends)


def mention(row, label, s, doc_s=None, time=None, channel="weibo", reach=None, customer=None, kind="touchpoint",
            region="north"):
    lab = "positive" if s > 0.2 else "negative" if s < -0.2 else "neutral"
    return {"row": row, "id": f"d{row}", "time": time, "channel": channel, "customer": customer, "reach": reach,
            "region": region, "language": "zh", "kind": kind, "label": label, "parent": None, "confidence": 0.9,
            "sentiment": lab, "sentiment_score": s, "score": 5 + 5 * s, "doc_sentiment_score": doc_s if doc_s
            is not None else s, "evidence_start": 0, "evidence_end": 2, "evidence_text": "服务", "evidence": "[[0, 2]]"}


def document(row, s, time=None, customer=None, channel="weibo", region="north"):
    return {"row": row, "id": f"d{row}", "time": time, "channel": channel, "customer": customer, "reach": None,
            "region": region, "text": "服务很好" if s > 0 else "服务很差", "language": "zh",
            "sentiment": "positive" if s > 0 else "negative", "sentiment_score": s, "sentiment_confidence": 0.9,
            "stage": "usage", "touchpoints": ["service"], "themes": [], "signals": [], "warning_code": None,
            "warning_message": None}


def test_the_domain_worked_example():
    """DOMAIN.md: experience 5 on a touchpoint, expectation 7, importance 9 -> satisfaction -2,
    weighted -18, and it is the key experience."""
    ms = [mention(i, "convenience_tp", 0.0) for i in range(40)] + [mention(100 + i, "price", 0.6) for i in range(40)]
    cfg = RollupConfig.from_yaml(overrides={"touchpoints": {"convenience_tp": {"expectation": 7, "importance": 9},
                                                            "price": {"expectation": 7, "importance": 4}}})
    pr = prioritize(RecordsSource([], ms), config=cfg)
    key = pr["key_experience"]
    assert key["label"] == "convenience_tp" and key["key_experience"] and key["rank"] == 1
    assert (key["score"], key["satisfaction"], key["weighted_satisfaction"]) == (5.0, -2.0, -18.0)
    assert key["importance_source"] == "config" and key["gap"] == 5.0 - 9.0
    price = pr["ranking"][1]
    assert price["satisfaction"] == 1.0 and price["weighted_satisfaction"] == 4.0


def test_score_interval_is_a_t_interval():
    xs = [2.0, 4.0, 4.5, 7.0, 9.0, 3.0]
    mean, lo, hi = score_interval(len(xs), sum(xs), sum(x * x for x in xs), 0.95)
    from scipy import stats

    half = stats.t.ppf(0.975, 5) * np.std(xs, ddof=1) / math.sqrt(6)
    assert mean == pytest.approx(np.mean(xs)) and lo == pytest.approx(mean - half) and hi == pytest.approx(mean + half)


def test_volume_share_net_and_suppression():
    ms = ([mention(i, "service", -0.8) for i in range(30)] + [mention(100 + i, "service", 0.8) for i in range(10)]
          + [mention(200 + i, "price", 0.8) for i in range(5)])
    rows = {r["label"]: r for r in rollup(RecordsSource([], ms))}
    s = rows["service"]
    assert s["volume"] == 40 and s["share_of_voice"] == round(40 / 45, 4)
    assert s["net_sentiment"] == 100 * (10 - 30) / 40 and not s["suppressed"] and s["score"] == pytest.approx(3.0)
    p = rows["price"]
    assert p["suppressed"] and p["score"] is None and p["ci_low"] is None and p["net_sentiment"] == 100.0
    pr = prioritize(RecordsSource([], ms))
    assert pr["ranking"][-1]["label"] == "price" and pr["ranking"][-1]["rank"] is None


def test_reach_weighting():
    ms = [mention(1, "service", -0.8, reach=99999)] + [mention(i, "service", 0.8, reach=0) for i in range(2, 5)]
    [r] = rollup(RecordsSource([], ms), config=RollupConfig.from_yaml(overrides={"min_volume": 1}))
    w_neg = 1 + math.log10(1 + 99999)
    assert r["net_sentiment"] == 50.0
    assert r["reach_net_sentiment"] == pytest.approx(100 * (3 - w_neg) / (3 + w_neg), abs=0.01)


def test_key_drivers_recover_the_stronger_driver():
    rng = random.Random(0)
    ms = []
    for row in range(400):
        a, b = rng.uniform(-1, 1), rng.uniform(-1, 1)
        y = 0.8 * a + 0.2 * b + rng.gauss(0, 0.05)
        ms += [mention(row, "service", a, y), mention(row, "price", b, y)]
    out = key_drivers(*RecordsSource([], ms).driver_rows("touchpoint"))
    d = out["drivers"]
    assert d["service"]["coefficient"] == pytest.approx(0.8, abs=0.02)
    assert d["price"]["coefficient"] == pytest.approx(0.2, abs=0.02)
    assert d["service"]["importance"] == 10.0 and 1 < d["price"]["importance"] < 5
    assert out["r2"] > 0.95 and d["service"]["p_value"] < 1e-6
    pr = prioritize(RecordsSource([], ms))
    assert {i["label"]: i["importance_source"] for i in pr["ranking"]} == {"service": "data", "price": "data"}


def test_alerts_flag_a_jump_over_the_baseline_only():
    start = datetime(2026, 1, 5)
    ms, row = [], 0
    for week in range(8):
        for i in range(50):
            neg = (i < 10) if week != 6 else (i < 30)  # 20% negative, then 60% in week 6
            for label in ("delivery", "service"):
                if label == "service":
                    neg = i < 10
                ms.append(mention(row, label, -0.8 if neg else 0.8, time=start + timedelta(weeks=week, hours=i)))
                row += 1
    tr = trends(RecordsSource([], ms), bucket="week")
    assert [(a["label"], a["period"]) for a in tr["alerts"]] == [("delivery", "2026-02-16")]
    a = tr["alerts"][0]
    assert a["negative_share"] == 0.6 and a["baseline_negative_share"] == 0.2
    assert a["z"] == pytest.approx((0.6 - 0.2) / math.sqrt(0.2 * 0.8 / 50), abs=1e-3)


def test_journeys_peak_end():
    t = datetime(2026, 3, 1)
    rows = [("c1", t, 1, 0.2), ("c1", t + timedelta(days=1), 2, -0.9), ("c1", t + timedelta(days=2), 3, 0.4),
            ("c2", t, 4, 0.6)]
    out = journeys(rows)
    c1 = next(c for c in out["customers"] if c["customer"] == "c1")
    assert c1["peak"] == 0.5 and c1["end"] == 7.0 and c1["peak_end"] == 3.75
    assert c1["mean"] == pytest.approx((6 + 0.5 + 7) / 3, abs=1e-3)
    assert out["summary"]["customers"] == 2 and out["summary"]["customers_with_2plus"] == 1


def _sample(n_docs=300, seed=1):
    rng = random.Random(seed)
    docs, ms = [], []
    t0 = datetime(2026, 1, 1)
    for row in range(1, n_docs + 1):
        t = t0 + timedelta(hours=rng.randrange(24 * 120))
        ch, region, cust = rng.choice(["weibo", "dianping"]), rng.choice(["north", "south"]), f"c{rng.randrange(40)}"
        s = rng.uniform(-1, 1)
        docs.append(document(row, s, time=t, customer=cust, channel=ch, region=region))
        for label in rng.sample(["service", "price", "product", "delivery"], rng.randrange(1, 4)):
            ms.append(mention(row, label, max(-1, min(1, s + rng.gauss(0, 0.4))), s, time=t, channel=ch,
                              reach=rng.choice([None, 0, 10, 5000]), customer=cust, region=region))
        if rng.random() < 0.3:
            ms.append(mention(row, "respect", s, s, time=t, channel=ch, customer=cust, region=region, kind="theme"))
    return docs, ms


def _store(tmp_path, docs, ms):
    import pyarrow as pa

    from voc.batch.records import DOC_COLUMNS, MENTION_COLUMNS
    from voc.batch.sinks import arrow_schema
    from voc.store import Store

    store = Store(tmp_path / "t.duckdb")
    store.add_segments(["region"])
    dcols = DOC_COLUMNS[:6] + ("region",) + DOC_COLUMNS[6:]
    mcols = MENTION_COLUMNS[:6] + ("region",) + MENTION_COLUMNS[6:]
    store.insert("documents", pa.Table.from_pylist(docs, schema=arrow_schema(dcols, "documents")), "sample")
    store.insert("mentions", pa.Table.from_pylist(ms, schema=arrow_schema(mcols, "mentions")), "sample")
    return store


def _approx(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _approx(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _approx(x, y)
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-6)
    else:
        assert a == b


def test_store_sql_equals_pure_functions(tmp_path):
    docs, ms = _sample()
    py = RecordsSource(docs, ms, source="sample")
    sql = StoreSource(_store(tmp_path, docs, ms))
    cfg = RollupConfig.from_yaml(overrides={"min_volume": 10, "alerts": {"min_volume": 5, "z": 1.5}})
    f = Filters(start=datetime(2026, 1, 15), channel="weibo", segments={"region": "north"})
    for kind in ("touchpoint", "theme"):
        for by in (("label",), ("label", "channel"), ("label", "region")):
            _approx(rollup(py, kind, by, None, None, cfg), rollup(sql, kind, by, None, None, cfg))
        _approx(rollup(py, kind, ("label",), "week", f, cfg), rollup(sql, kind, ("label",), "week", f, cfg))
        _approx(trends(py, kind, "month", config=cfg), trends(sql, kind, "month", config=cfg))
        _approx(prioritize(py, kind, None, cfg), prioritize(sql, kind, None, cfg))
    _approx(journeys(py.journey_rows()), journeys(sql.journey_rows()))
    _approx(py.verbatims("touchpoint", "service", f, "negative", 5),
            sql.verbatims("touchpoint", "service", f, "negative", 5))
    assert py.verbatims("touchpoint", "service", None, "positive", 3)[0]["text"] == "服务很好"


def test_unknown_dimension_and_bucket_are_coded(tmp_path):
    docs, ms = _sample(20)
    for src in (RecordsSource(docs, ms), StoreSource(_store(tmp_path, docs, ms))):
        with pytest.raises(Exception) as e:
            rollup(src, by=("label", "brand"))
        assert e.value.code == "E408" and "region" in e.value.message
        with pytest.raises(Exception) as e:
            rollup(src, bucket="fortnight")
        assert e.value.code == "E408"


def test_bad_config_values_are_coded(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("touchpoints:\n  service: {expectation: 12}\n", encoding="utf-8")
    with pytest.raises(Exception) as e:
        RollupConfig.from_yaml(p)
    assert e.value.code == "E407" and "service.expectation" in e.value.message


def test_cli_rollup_views(tmp_path, capsys):
    import json

    docs, ms = _sample()
    _store(tmp_path, docs, ms).close()
    db = str(tmp_path / "t.duckdb")
    assert cli.main(["rollup", "--db", db, "--min-volume", "10"]) == 0
    out = capsys.readouterr().out
    assert "Key experience:" in out and "95% CI" in out and "weighted_satisfaction" in out
    assert cli.main(["rollup", "--db", db, "--view", "scores", "--by", "label,region", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("label,region,volume") and len(lines) == 9
    assert cli.main(["rollup", "--db", db, "--view", "trends", "--bucket", "month", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["bucket"] == "month"
    assert cli.main(["rollup", "--db", db, "--segment", "brand=x"]) == 2
    assert "E408" in capsys.readouterr().err
    assert cli.main(["rollup", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "voc score" in capsys.readouterr().err
