"""The CEM numbers, computed once from what a source returns (see docs/method.md).

- ``scores``: per group volume, share of voice, net sentiment, the 0–10 experience score with
  its confidence interval (suppressed below ``min_volume``) and the reach-weighted variants;
- ``key_drivers``: importance inferred from the data (OLS of overall on per-touchpoint sentiment);
- ``priorities``: satisfaction = experience − expectation, gap = experience − ideal, weighted
  satisfaction = importance × satisfaction, the ranking (key experience first) and the
  importance–performance quadrants;
- ``trends`` and ``alerts``: per period, and a z-score rule on the negative share;
- ``journeys``: per customer mean, peak, end and peak-end side by side.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from scipy import stats as st

from .config import RollupConfig


def _round(x, k=4):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else round(float(x), k)


def score_interval(n: float, s1: float, s2: float, confidence: float = 0.95):
    """Mean and ``confidence`` interval (Student t) of values given count, sum, sum of squares."""
    mean = s1 / n
    if n < 2:
        return mean, None, None
    var = max(0.0, (s2 - s1 * s1 / n) / (n - 1))
    half = st.t.ppf(0.5 + confidence / 2, n - 1) * math.sqrt(var / n)
    return mean, max(0.0, mean - half), min(10.0, mean + half)


def scores(groups: Sequence[dict], by: Sequence[str] = ("label",), config: Optional[RollupConfig] = None) -> List[dict]:
    """Finish sufficient statistics into the published numbers, one row per group.

    Share of voice is the group's share of the mentions in its peer groups (same keys except
    ``label``). Groups under ``config.min_volume`` keep volume and sentiment counts but their
    score and interval are ``None`` with ``suppressed: True``.
    """
    cfg = config or RollupConfig()
    peers = [k for k in list(by) + ["period"] if k != "label"]
    totals: Dict[tuple, float] = defaultdict(float)
    for g in groups:
        totals[tuple(g.get(k) for k in peers)] += g["n"]
    out = []
    for g in groups:
        n = g["n"]
        mean, lo, hi = score_interval(n, g["s1"], g["s2"], cfg.confidence)
        suppressed = n < cfg.min_volume
        row = {k: g[k] for k in g if k not in ("n", "s1", "s2", "pos", "neu", "neg", "w", "ws1", "wpos", "wneg")}
        row.update({
            "volume": int(n), "positive": int(g["pos"]), "neutral": int(g["neu"]), "negative": int(g["neg"]),
            "share_of_voice": _round(n / totals[tuple(g.get(k) for k in peers)]),
            "net_sentiment": _round(100.0 * (g["pos"] - g["neg"]) / n, 2),
            "negative_share": _round(g["neg"] / n),
            "score": None if suppressed else _round(mean, 3),
            "ci_low": None if suppressed else _round(lo, 3),
            "ci_high": None if suppressed else _round(hi, 3),
            "suppressed": suppressed,
            "reach_weight": _round(g["w"], 2),
            "reach_net_sentiment": _round(100.0 * (g["wpos"] - g["wneg"]) / g["w"], 2),
            "reach_score": None if suppressed else _round(g["ws1"] / g["w"], 3),
        })
        out.append(row)
    out.sort(key=lambda r: tuple("" if r.get(k) is None else str(r.get(k)) for k in peers) + (-r["volume"],
                                                                                               str(r.get("label"))))
    return out


def key_drivers(labels: Sequence[str], X, y, config: Optional[RollupConfig] = None) -> dict:
    """Key-driver analysis: OLS of each document's overall sentiment on its touchpoints'
    sentiment (0 where a touchpoint is not mentioned), over documents with ≥ 1 touchpoint.

    Importance on 1–10 is the standardized coefficient ``β·sd(x)/sd(y)`` scaled so the
    strongest driver gets 10; drivers with a non-positive or non-significant coefficient
    (p above ``drivers.max_p_value``) get the default importance.
    """
    cfg = config or RollupConfig()
    d = cfg.drivers
    X = np.asarray(X, dtype=float).reshape(len(y), len(labels))
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    out = {"n_documents": int(n), "r2": None, "adj_r2": None, "f_p_value": None, "drivers": {}}
    if n < max(int(d["min_documents"]), k + 2) or k == 0:
        out["note"] = f"too few documents with touchpoints ({n}) for key-driver analysis"
        return out
    keep = X.std(axis=0) > 0
    A = np.column_stack([np.ones(n), X[:, keep]])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ beta
    dof = n - A.shape[1]
    sse, sst = float(resid @ resid), float(((y - y.mean()) ** 2).sum())
    r2 = 1 - sse / sst if sst > 0 else 0.0
    sigma2 = sse / dof if dof > 0 else float("nan")
    cov = sigma2 * np.linalg.pinv(A.T @ A)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    p_model = A.shape[1] - 1
    fstat = (r2 / p_model) / ((1 - r2) / dof) if p_model and dof > 0 and r2 < 1 else float("inf")
    out.update(r2=_round(r2), adj_r2=_round(1 - (1 - r2) * (n - 1) / dof) if dof > 0 else None,
               f_p_value=_round(float(st.f.sf(fstat, p_model, dof)) if math.isfinite(fstat) else 0.0, 6))
    sd_y = y.std(ddof=1) if n > 1 else 0.0
    raw = {}
    j = 1
    for i, lab in enumerate(labels):
        if not keep[i]:
            out["drivers"][lab] = {"coefficient": None, "p_value": None, "standardized": None, "importance": None}
            continue
        b, s = float(beta[j]), float(se[j])
        t = b / s if s > 0 else float("inf")
        p = float(2 * st.t.sf(abs(t), dof)) if dof > 0 and math.isfinite(t) else 0.0
        std_b = b * X[:, i].std(ddof=1) / sd_y if sd_y > 0 else 0.0
        out["drivers"][lab] = {"coefficient": _round(b), "std_error": _round(s), "p_value": _round(p, 6),
                               "standardized": _round(std_b), "mentions": int((X[:, i] != 0).sum())}
        if std_b > 0 and p <= float(d["max_p_value"]):
            raw[lab] = std_b
        j += 1
    top = max(raw.values(), default=0.0)
    for lab, v in out["drivers"].items():
        v["importance"] = _round(1 + 9 * raw[lab] / top, 2) if lab in raw and top > 0 else None
    return out


QUADRANTS = {(True, False): "concentrate here", (True, True): "keep up the good work",
             (False, False): "low priority", (False, True): "possible overkill"}


def priorities(rows: Sequence[dict], kind: str = "touchpoint", drivers: Optional[dict] = None,
               config: Optional[RollupConfig] = None) -> dict:
    """Rank touchpoints (one row per label, from :func:`scores` grouped by label) by weighted
    satisfaction; the first is the **key experience**. Suppressed labels are listed after the
    ranking, unranked.
    """
    cfg = config or RollupConfig()
    default_imp = float(cfg.drivers["default_importance"])
    drv = (drivers or {}).get("drivers", {})
    items = []
    for r in rows:
        lab = r["label"]
        stated = cfg.importance(kind, lab)
        derived = (drv.get(lab) or {}).get("importance")
        imp, src = (stated, "config") if stated is not None else ((derived, "data") if derived is not None
                                                                  else (default_imp, "default"))
        exp_ = cfg.expectation(kind, lab)
        ideal = cfg.ideal(kind, lab)
        x = r["score"]
        sat = None if x is None else x - exp_
        items.append({"label": lab, "volume": r["volume"], "score": x, "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                      "net_sentiment": r["net_sentiment"], "expectation": exp_, "ideal": ideal,
                      "importance": _round(imp, 2), "importance_source": src,
                      "satisfaction": _round(sat, 3), "gap": None if x is None else _round(x - ideal, 3),
                      "weighted_satisfaction": None if sat is None else _round(imp * sat, 3),
                      "suppressed": r["suppressed"]})
    ranked = sorted([i for i in items if i["weighted_satisfaction"] is not None],
                    key=lambda i: (i["weighted_satisfaction"], i["label"]))
    # Importance-performance quadrants: important = importance at or above the split (the middle
    # of the 1-10 scale by default); performing = at or above the touchpoint's own expectation.
    imp_mid = float(cfg.data.get("quadrants", {}).get("importance_split", 5.5))
    for k, i in enumerate(ranked, 1):
        i["rank"] = k
        i["key_experience"] = k == 1
        i["quadrant"] = QUADRANTS[(i["importance"] >= imp_mid, i["satisfaction"] >= 0)]
    perf_mid = float(np.mean([i["expectation"] for i in ranked])) if ranked else None
    rest = sorted([i for i in items if i["weighted_satisfaction"] is None], key=lambda i: -i["volume"])
    for i in rest:
        i.update(rank=None, key_experience=False, quadrant=None)
    return {"kind": kind, "ranking": ranked + rest, "key_experience": ranked[0] if ranked else None,
            "quadrant_split": {"importance": _round(imp_mid, 3), "score": _round(perf_mid, 3)} if ranked else None}


def alerts(trend_rows: Sequence[dict], config: Optional[RollupConfig] = None, key: str = "label") -> List[dict]:
    """Flag a period whose negative share jumps beyond the label's own recent baseline.

    Baseline: the pooled negative share of the previous ``baseline_periods`` periods that
    have at least ``min_volume`` mentions (at least ``min_baseline_periods`` of them).
    ``z = (p − p0) / sqrt(p0 (1 − p0) / n)``; an alert when ``z ≥ alerts.z`` and the period
    has ``n ≥ min_volume``. Every row of ``trend_rows`` gains ``z`` and ``alert``.
    """
    a = (config or RollupConfig()).alerts
    k, zmin, nmin, bmin = int(a["baseline_periods"]), float(a["z"]), int(a["min_volume"]), int(a["min_baseline_periods"])
    series: Dict[str, List[dict]] = defaultdict(list)
    for r in trend_rows:
        series[r.get(key)].append(r)
    found = []
    for lab, rows in series.items():
        rows.sort(key=lambda r: r["period"])
        history: List[dict] = []
        for r in rows:
            base = [h for h in history if h["volume"] >= nmin][-k:]
            r["z"], r["alert"], r["baseline_negative_share"] = None, False, None
            if len(base) >= bmin and r["volume"] >= nmin:
                n0 = sum(h["volume"] for h in base)
                p0 = sum(h["negative"] for h in base) / n0
                p0s = min(max(p0, 0.5 / n0), 1 - 0.5 / n0)  # keep the variance positive at 0 or 1
                z = (r["negative_share"] - p0) / math.sqrt(p0s * (1 - p0s) / r["volume"])
                r["z"], r["baseline_negative_share"] = _round(z, 3), _round(p0)
                if z >= zmin:
                    r["alert"] = True
                    found.append({key: lab, "period": r["period"], "volume": r["volume"],
                                  "negative_share": r["negative_share"], "baseline_negative_share": _round(p0),
                                  "z": _round(z, 3)})
            history.append(r)
    found.sort(key=lambda x: (-x["z"], x["period"]))
    return found


def journeys(rows: Sequence[tuple], limit: Optional[int] = None) -> dict:
    """Per customer (rows of ``(customer, time, row, sentiment score)`` ordered by customer and
    time): mean, peak (the most intense moment: furthest from neutral), end (the last) and
    peak-end ``(peak + end) / 2``, on the 0–10 scale. The summary compares peak-end with the
    mean across customers with ≥ 2 documents."""
    from ..batch.records import experience_score

    out, cur, xs = [], None, []

    def close():
        if cur is None:
            return
        peak = max(xs, key=lambda v: (abs(v - 5.0), -v))
        out.append({"customer": cur, "documents": len(xs), "mean": _round(sum(xs) / len(xs), 3),
                    "peak": _round(peak, 3), "end": _round(xs[-1], 3), "peak_end": _round((peak + xs[-1]) / 2, 3),
                    "worst": _round(min(xs), 3), "best": _round(max(xs), 3)})

    for c, _t, _r, s in rows:
        if c != cur:
            close()
            cur, xs = c, []
        xs.append(experience_score(s or 0.0))
    close()
    multi = [j for j in out if j["documents"] >= 2]
    summary = {"customers": len(out), "customers_with_2plus": len(multi)}
    if multi:
        summary.update(mean_of_means=_round(np.mean([j["mean"] for j in multi]), 3),
                       mean_peak_end=_round(np.mean([j["peak_end"] for j in multi]), 3),
                       share_peak_end_below_mean=_round(np.mean([j["peak_end"] < j["mean"] - 0.5 for j in multi])))
    out.sort(key=lambda j: (j["peak_end"], j["customer"]))
    return {"summary": summary, "customers": out[:limit] if limit else out}
