"""Render the roll-up overview as one self-contained HTML page.

The page embeds plotly.js once, inline (it opens offline and can be mailed as one file),
escapes every customer text, and highlights the evidence spans with ``<mark>``. Rendering
costs O(labels × periods): all the counting is done by :func:`voc.rollup.overview`.
"""

from __future__ import annotations

import html
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from . import charts
from .charts import readable

CSS_PATH = Path(__file__).with_name("report.css")
TREND_SERIES = 6
MAX_SERIES = 8
EXCERPT_CHARS = 420
MINUS = "\u2212"

esc = html.escape


# ---------------------------------------------------------------------------------------------
# customer text


def merge_spans(spans: Iterable[Sequence[int]], length: int) -> List[Tuple[int, int]]:
    """Clamp ``[start, end]`` code-point spans to ``0..length``, drop empty ones, sort and merge
    overlapping or touching spans."""
    clean = []
    for s in spans or ():
        try:
            a, b = int(s[0]), int(s[1])
        except (TypeError, ValueError, IndexError):
            continue
        a, b = max(0, min(a, length)), max(0, min(b, length))
        if a < b:
            clean.append((a, b))
    clean.sort()
    out: List[Tuple[int, int]] = []
    for a, b in clean:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def highlight(text: Optional[str], spans: Iterable[Sequence[int]], limit: Optional[int] = EXCERPT_CHARS) -> str:
    """``text`` HTML-escaped with each evidence span wrapped in ``<mark>``.

    Offsets are code points into the raw text (what the pipeline reports), so they index a
    Python ``str`` directly. A text longer than ``limit`` is cut to a window around its first
    span, with ellipses.
    """
    if text is None:
        return '<span class="none">(text not kept: scored with --no-text)</span>'
    merged = merge_spans(spans, len(text))
    lo, hi = 0, len(text)
    if limit and len(text) > limit:
        first = merged[0] if merged else (0, 0)
        lo = max(0, min(first[0] - limit // 3, len(text) - limit))
        hi = lo + limit
    parts, at = [], lo
    for a, b in merged:
        a, b = max(a, lo), min(b, hi)
        if a >= b:
            continue
        parts.append(esc(text[at:a]))
        parts.append(f"<mark>{esc(text[a:b])}</mark>")
        at = b
    parts.append(esc(text[at:hi]))
    return ("…" if lo > 0 else "") + "".join(parts) + ("…" if hi < len(text) else "")


# ---------------------------------------------------------------------------------------------
# numbers and dates


def _f(x, d: int = 1) -> str:
    if x is None:
        return "–"
    s = f"{float(x):,.{d}f}"
    return s.replace("-", MINUS)


def _signed(x, d: int = 1) -> str:
    if x is None:
        return "–"
    return ("+" if x > 0 else "") + _f(x, d)


def _p(x, relation: bool = False) -> str:
    if x is None:
        return "–"
    if x < 0.001:
        return "< 0.001"
    return ("= " if relation else "") + f"{x:.2g}"


def _pct(x, d: int = 0) -> str:
    return "–" if x is None else f"{100 * float(x):.{d}f}%"


def _sign_class(x) -> str:
    return "" if x is None else "neg" if x < 0 else "pos"


def _day(s) -> Optional[date]:
    if s is None:
        return None
    if isinstance(s, datetime):
        return s.date()
    if isinstance(s, date):
        return s
    try:
        return date.fromisoformat(str(s)[:10])
    except ValueError:
        return None


def _fmt_day(d: Optional[date]) -> str:
    return "" if d is None else f"{d.day} {d:%b %Y}"


def _period_end(start: date, bucket: str) -> date:
    if bucket == "day":
        return start
    if bucket == "week":
        return start + timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[bucket]
    m = start.month - 1 + months
    return date(start.year + m // 12, m % 12 + 1, 1) - timedelta(days=1)


def period_label(s, bucket: str) -> str:
    d = _day(s)
    if d is None:
        return esc(str(s))
    if bucket == "week":
        return f"week of {_fmt_day(d)}"
    if bucket == "month":
        return f"{d:%b %Y}"
    if bucket == "quarter":
        return f"Q{(d.month - 1) // 3 + 1} {d.year}"
    if bucket == "year":
        return str(d.year)
    return _fmt_day(d)


def _coverage(rows: Sequence[dict], bucket: str) -> Optional[Tuple[date, date, int]]:
    days = sorted({d for d in (_day(r.get("period")) for r in rows) if d is not None})
    if not days:
        return None
    return days[0], _period_end(days[-1], bucket), len(days)


# ---------------------------------------------------------------------------------------------
# sections


def _head(*cols: str) -> str:
    """A table head; a column named ``#Name`` is numeric (right-aligned)."""
    cells = "".join(f"<th class='n'>{c[1:]}</th>" if c.startswith("#") else f"<th>{c}</th>" for c in cols)
    return f"<thead><tr>{cells}</tr></thead>"


def _tile(k: str, v: str, s: str = "", cls: str = "") -> str:
    return (f'<div class="tile"><div class="k">{k}</div><div class="v {cls}">{v}</div>'
            + (f'<div class="s">{s}</div>' if s else "") + "</div>")


def _headline(ov: dict, noun: str, conf: float, min_volume: int, cover, bucket: str) -> str:
    pr = ov["priorities"]
    ranking = pr.get("ranking") or []
    k = pr.get("key_experience")
    if k:
        src = {"config": "stated in config", "data": "from key-driver fit", "default": "default"}.get(
            k["importance_source"], k["importance_source"])
        key = f"""<div class="card key">
  <span class="tag">Key experience · fix first</span>
  <div class="label">{esc(readable(k['label']))}</div>
  <div class="score">{_f(k['score'])}<small> / 10</small></div>
  <div class="ci">{conf:.0%} CI {_f(k['ci_low'])}–{_f(k['ci_high'])} · {k['volume']:,} mentions ·
    net sentiment {_signed(k.get('net_sentiment'), 0)}</div>
  <div class="tiles">
    {_tile('Expectation', _f(k['expectation']))}
    {_tile('Satisfaction', _signed(k['satisfaction']), 'score − expectation', _sign_class(k['satisfaction']))}
    {_tile('Importance', _f(k['importance']), esc(src))}
    {_tile('Weighted satisfaction', _signed(k['weighted_satisfaction']), 'importance × satisfaction',
           _sign_class(k['weighted_satisfaction']))}
    {_tile('Gap to ideal', _signed(k['gap']), f"ideal {_f(k['ideal'])}", _sign_class(k['gap']))}
    {_tile('Quadrant', esc(k.get('quadrant') or '–'))}
  </div>
  {_key_quote(ov, k['label'])}
</div>"""
    else:
        why = (f"no {noun} reaches the minimum volume of {min_volume} mentions" if ranking
               else "no mentions match this selection")
        key = (f'<div class="card key"><span class="tag">Key experience</span>'
               f'<div class="label">Not determined</div><p>{esc(why)}; scores are suppressed below '
               f"n = {min_volume}.</p></div>")
    mentions = sum(r["volume"] for r in ranking)
    scored = sum(1 for r in ranking if r.get("score") is not None)
    drv = pr.get("drivers") or {}
    channels = {r.get("channel") for r in ov.get("by_channel") or [] if r.get("channel") is not None}
    alerts = (ov.get("trends") or {}).get("alerts") or []
    if cover:
        period = f"{_fmt_day(cover[0])} – {_fmt_day(cover[1])}"
        span = f"{cover[2]} {bucket}{'s' if cover[2] != 1 else ''} with data"
    else:
        period, span = "–", "no times in the data"
    tiles = [_tile(f"{noun.capitalize()} mentions", f"{mentions:,}"),
             _tile(f"{noun.capitalize()}s scored", f"{scored} of {len(ranking)}", f"n ≥ {min_volume}"),
             _tile("Documents", f"{drv['n_documents']:,}" if drv.get("n_documents") else "–",
                   f"with a {noun}"),
             _tile("Channels", str(len(channels)) if channels else "–"),
             _tile("Alerts", str(len(alerts)), "negative-share jumps", "neg" if alerts else ""),
             _tile("Periods", str(cover[2]) if cover else "–", esc(bucket))]
    totals = f"""<div class="card totals">
  <h3>Coverage</h3>
  <div class="tile period"><div class="k">Period covered</div><div class="v">{period}</div>
    <div class="s">{span}</div></div>
  <div class="tiles">{''.join(tiles)}</div>
</div>"""
    return f'<section class="headline">{key}{totals}</section>{_glance(ov, noun, conf, bucket)}'


def _key_quote(ov: dict, label) -> str:
    worst = ((ov.get("verbatims") or {}).get(label) or {}).get("negative") or []
    if not worst or worst[0].get("text") is None:
        return ""
    v = worst[0]
    return (f'<blockquote class="quote">{highlight(v["text"], v.get("evidence") or [], 220)}'
            f'<span class="m">the most negative mention · {" · ".join(_verbatim_meta(v))}</span></blockquote>')


def _glance(ov: dict, noun: str, conf: float, bucket: str) -> str:
    pr = ov["priorities"]
    ranked = [r for r in pr.get("ranking") or [] if r.get("rank")]
    items = []
    if ranked:
        k = ranked[0]
        items.append(f"<b>{esc(readable(k['label']))}</b> is the key experience: score {_f(k['score'])} "
                     f"against an expectation of {_f(k['expectation'])} (satisfaction "
                     f"{_signed(k['satisfaction'])}), weighted by importance {_f(k['importance'])} to "
                     f"{_signed(k['weighted_satisfaction'])}, the lowest of {len(ranked)} {noun}s.")
        nxt = [r for r in ranked[1:3] if (r["weighted_satisfaction"] or 0) < 0]
        if nxt:
            items.append("Next in line: " + "; ".join(
                f"{esc(readable(r['label']))} ({_signed(r['weighted_satisfaction'])})" for r in nxt) + ".")
        best = max(ranked, key=lambda r: r["score"])
        if best["satisfaction"] is not None and best["satisfaction"] >= 0:
            items.append(f"Strongest: <b>{esc(readable(best['label']))}</b> at {_f(best['score'])}, "
                         f"{_signed(best['satisfaction'])} above expectation.")
        concentrate = [r for r in ranked if r.get("quadrant") == "concentrate here"]
        if concentrate:
            items.append("Important and under-performing (<i>concentrate here</i>): "
                         + ", ".join(esc(readable(r["label"])) for r in concentrate) + ".")
    for a in ((ov.get("trends") or {}).get("alerts") or [])[:3]:
        items.append(f'<span class="neg">Alert</span>: {esc(readable(a.get("label")))} negative share '
                     f"{_pct(a['negative_share'])} in the {esc(period_label(a['period'], bucket))} against a "
                     f"baseline of {_pct(a['baseline_negative_share'])} (z = {_f(a['z'])}, "
                     f"{a['volume']:,} mentions).")
    if not items:
        return ""
    return '<ul class="glance">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _priority_table(ranking: Sequence[dict], conf: float, min_volume: int, noun: str) -> str:
    head = ("<tr><th class='n'>#</th><th>{noun}</th><th class='n'>Mentions</th>"
            f"<th class='n'>Score <span class='ci-cell'>[{conf:.0%} CI]</span></th><th class='n'>Expectation</th>"
            "<th class='n'>Satisfaction</th><th class='n'>Gap to ideal</th><th class='n'>Importance</th>"
            "<th class='n'>Weighted satisfaction</th><th>Quadrant</th></tr>").replace("{noun}", esc(noun.capitalize()))
    body = []
    for r in ranking:
        cls = "key-row" if r.get("key_experience") else ("quiet" if r.get("score") is None else "")
        if r.get("score") is None:
            score = f"<span class='note'>n &lt; {min_volume}</span>"
        else:
            score = (f"{_f(r['score'], 2)} <span class='ci-cell'>[{_f(r['ci_low'], 1)}–{_f(r['ci_high'], 1)}]"
                     "</span>")
        q = r.get("quadrant")
        qcell = f"<span class='pill q-{q.replace(' ', '-')}'>{esc(q)}</span>" if q else ""
        body.append(
            f"<tr class='{cls}'><td class='n'>{r.get('rank') or '–'}</td><td>{esc(readable(r['label']))}</td>"
            f"<td class='n'>{r['volume']:,}</td><td class='n'>{score}</td><td class='n'>{_f(r['expectation'])}</td>"
            f"<td class='n {_sign_class(r['satisfaction'])}'>{_signed(r['satisfaction'], 2)}</td>"
            f"<td class='n {_sign_class(r['gap'])}'>{_signed(r['gap'], 2)}</td>"
            f"<td class='n'>{_f(r['importance'])} <span class='src'>{esc(r['importance_source'])}</span></td>"
            f"<td class='n {_sign_class(r['weighted_satisfaction'])}'>{_signed(r['weighted_satisfaction'], 1)}</td>"
            f"<td>{qcell}</td></tr>")
    return f"<table class='priorities'><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def _trends(tr: dict, noun: str, nmin: int) -> str:
    rows = tr.get("rows") or []
    bucket = tr.get("bucket") or "period"
    if not rows:
        return ('<p class="empty">No trend: the records carry no time (score them with '
                "<code>--time-field</code> to see scores per period and alerts).</p>")
    vol = {}
    for r in rows:
        vol[r["label"]] = vol.get(r["label"], 0) + r["volume"]
    top = sorted(vol, key=lambda lab: (-vol[lab], str(lab)))[:TREND_SERIES]
    alerts = tr.get("alerts") or []
    for a in alerts:  # the strongest alerts first: their series join the chart, up to MAX_SERIES lines
        if len(top) >= MAX_SERIES:
            break
        if a.get("label") in vol and a["label"] not in top:
            top.append(a["label"])
    periods = {r["period"] for r in rows}
    out = [f'<p class="lede">Share of negative mentions per {esc(bucket)} for the {len(top)} {noun}s with the most '
           "mentions or the strongest alerts; mention volume below. A red ring marks an alert: a negative "
           f"share significantly above that {esc(noun)}'s own recent baseline. A {esc(bucket)} with fewer than "
           f"{nmin} mentions of a {esc(noun)} is left as a gap in its line.</p>"]
    if len(periods) < 2:
        out.append(f'<p class="note">Only one {esc(bucket)} in the data: no trend yet, the chart shows a single '
                   "point per series.</p>")
    out.append(f'<div class="chart">{charts.trends(rows, top, bucket, nmin)}</div>')
    if alerts:
        body = "".join(
            f"<tr><td>{esc(readable(a.get('label')))}</td><td>{esc(period_label(a['period'], bucket))}</td>"
            f"<td class='n'>{a['volume']:,}</td><td class='n neg'>{_pct(a['negative_share'], 1)}</td>"
            f"<td class='n'>{_pct(a['baseline_negative_share'], 1)}</td><td class='n'>{_f(a['z'], 1)}</td></tr>"
            for a in alerts[:20])
        more = f"<p class='note'>{len(alerts) - 20} more alerts not shown.</p>" if len(alerts) > 20 else ""
        head = _head(esc(noun.capitalize()), "Period", "#Mentions", "#Negative share", "#Baseline", "#z")
        out.append(f"<h3>Alerts</h3><table class='alerts'>{head}<tbody>{body}</tbody></table>{more}")
    else:
        out.append('<p class="note">No alerts: no period\'s negative share rose significantly above its baseline.</p>')
    return "".join(out)


def _verbatim_meta(v: dict) -> List[str]:
    meta = []
    d = _day(v.get("time"))
    if d:
        meta.append(_fmt_day(d))
    if v.get("channel"):
        meta.append(esc(str(v["channel"])))
    if v.get("reach") is not None:
        meta.append(f"reach {float(v['reach']):,.0f}")
    if v.get("sentiment_score") is not None:
        meta.append(f"sentiment {_signed(v['sentiment_score'], 2)}")
    if v.get("id") is not None:
        meta.append(f"id {esc(str(v['id']))}")
    return meta


def _verbatim_block(v: dict) -> str:
    return (f"<blockquote>{highlight(v.get('text'), v.get('evidence') or [])}"
            f"<span class='m'>{' · '.join(_verbatim_meta(v))}</span></blockquote>")


def _verbatims(ov: dict, noun: str) -> str:
    verb = ov.get("verbatims") or {}
    if not verb:
        return '<p class="empty">No verbatims: no mentions match this selection.</p>'
    info = {r["label"]: r for r in ov["priorities"].get("ranking") or []}
    out = []
    for lab, pol in verb.items():
        r = info.get(lab, {})
        score = f"{r.get('volume', 0):,} mentions"
        if r.get("score") is not None:
            score = f"score {_f(r['score'])} · {score}"
        cols = []
        for p in ("negative", "positive"):
            items = pol.get(p) or []
            inner = "".join(_verbatim_block(v) for v in items) or f"<p class='none'>No {p} mentions.</p>"
            cols.append(f"<div class='col {p}'><h4>{p}</h4>{inner}</div>")
        rank = f"#{r['rank']} · " if r.get("rank") else ""
        out.append(f"<div class='verb'><div class='head'><b>{rank}{esc(readable(lab))}</b><span>{score}</span></div>"
                   f"<div class='cols'>{''.join(cols)}</div></div>")
    return "".join(out)


def _drivers_and_journeys(ov: dict, noun: str) -> str:
    out = []
    drv = ov["priorities"].get("drivers") or {}
    if drv:
        if drv.get("r2") is None:
            out.append(f"<h3>Key-driver fit</h3><p class='note'>{esc(drv.get('note') or 'No key-driver fit.')}; "
                       "importance falls back to the configured or default values.</p>")
        else:
            out.append(f"<h3>Key-driver fit</h3><p class='lede'>Overall sentiment regressed on each {noun}'s "
                       f"sentiment over {drv['n_documents']:,} documents: R² = {_f(drv['r2'], 3)} "
                       f"(adjusted {_f(drv.get('adj_r2'), 3)}), F-test p {_p(drv.get('f_p_value'), True)}. "
                       "Importance 1–10 is the standardized coefficient scaled so the strongest driver gets 10; "
                       "non-significant drivers get the default.</p>")
            rows = sorted(((lab, d) for lab, d in (drv.get("drivers") or {}).items()),
                          key=lambda t: -(t[1].get("standardized") or -1e9))
            body = "".join(
                f"<tr><td>{esc(readable(lab))}</td><td class='n'>{d.get('mentions', 0):,}</td>"
                f"<td class='n'>{_f(d.get('coefficient'), 3)}</td><td class='n'>{_f(d.get('standardized'), 3)}</td>"
                f"<td class='n'>{_p(d.get('p_value'))}</td>"
                f"<td class='n'>{_f(d.get('importance'))}</td></tr>" for lab, d in rows)
            head = _head(esc(noun.capitalize()), "#Documents", "#Coefficient", "#Standardized β", "#p",
                         "#Importance (data)")
            out.append(f"<table class='compact'>{head}<tbody>{body}</tbody></table>")
    j = ov.get("journeys") or {}
    s = j.get("summary") or {}
    if s.get("customers"):
        out.append("<h3>Journeys: peak-end</h3>")
        if s.get("customers_with_2plus"):
            pe, mm = s.get("mean_peak_end"), s.get("mean_of_means")
            side = "better" if pe is not None and mm is not None and pe > mm else "worse"
            out.append(
                f"<p class='lede'>Customers remember a journey by its most intense moment and its end "
                f"(peak-end = (peak + end) / 2). Across {s['customers_with_2plus']:,} customers with two or more "
                f"posts (of {s['customers']:,}), the peak-end score averages <b>{_f(pe, 2)}</b> against a plain "
                f"mean of <b>{_f(mm, 2)}</b>: on the whole remembered {side} than the average. For "
                f"<b>{_pct(s.get('share_peak_end_below_mean'))}</b> of them the peak-end is more than half a point "
                "below their mean: they remember a worse experience than their posts average.</p>")
            worst = [c for c in j.get("customers") or [] if c["documents"] >= 2][:5]
            if worst:
                body = "".join(
                    f"<tr><td>{esc(str(c['customer']))}</td><td class='n'>{c['documents']}</td>"
                    f"<td class='n'>{_f(c['mean'], 2)}</td><td class='n'>{_f(c['peak'], 2)}</td>"
                    f"<td class='n'>{_f(c['end'], 2)}</td><td class='n {_sign_class(c['peak_end'] - 5)}'>"
                    f"{_f(c['peak_end'], 2)}</td></tr>"
                    for c in worst)
                head = _head("Customer", "#Posts", "#Mean", "#Peak", "#End", "#Peak-end")
                out.append(f"<p class='note'>Journeys remembered worst:</p><table class='compact'>{head}"
                           f"<tbody>{body}</tbody></table>")
        else:
            out.append(f"<p class='note'>{s['customers']:,} customers, none with two or more posts: no journeys "
                       "to compare yet.</p>")
    return "".join(out)


def _method(cfg: dict, conf: float, min_volume: int, noun: str) -> str:
    d = cfg.get("defaults") or {}
    a = cfg.get("alerts") or {}
    return (f"<p><b>Method.</b> A mention's experience score is 5 + 5 × its sentiment score (0–10, "
            f"5 = neutral); a {esc(noun)} score is the mean over its mentions with a Student-t {conf:.0%} interval, "
            f"suppressed below {min_volume} mentions. Satisfaction = score − expectation (default "
            f"{_f(d.get('expectation'))}); gap = score − ideal (default {_f(d.get('ideal'))}); weighted "
            "satisfaction = importance × satisfaction, the most negative being the key experience. Quadrants split "
            "at the mean importance and mean score of the ranked labels. An alert fires when a period's negative "
            f"share has z ≥ {a.get('z', '–')} against the pooled share of the previous "
            f"{a.get('baseline_periods', '–')} periods (n ≥ {a.get('min_volume', '–')}).</p>")


# ---------------------------------------------------------------------------------------------
# the page


def render_report(ov: dict, title: str = "Customer experience report", subtitle: str = "") -> str:
    """The overview (:func:`voc.rollup.overview`) as one self-contained HTML page.

    Sections: the key experience and coverage, scores with intervals, the
    importance–performance matrix, trends with alerts, the priority table, scores by channel,
    verbatims with the evidence highlighted, key-driver fit and peak-end journeys.
    """
    import plotly.offline
    from .. import __version__

    pr = ov.get("priorities") or {}
    ranking = pr.get("ranking") or []
    tr = ov.get("trends") or {}
    cfg = ov.get("config") or {}
    kind = ov.get("kind") or pr.get("kind") or "touchpoint"
    noun = str(kind)
    conf = float(cfg.get("confidence", 0.95))
    min_volume = int(cfg.get("min_volume", 30))
    bucket = tr.get("bucket") or "week"
    cover = _coverage(tr.get("rows") or [], bucket)

    meta = [f"{esc(noun.capitalize())}s"]
    if cover:
        meta.append(f"{_fmt_day(cover[0])} – {_fmt_day(cover[1])} ({cover[2]} {esc(bucket)}s)")
    meta.append(f"generated {datetime.now():%Y-%m-%d %H:%M} by voc {esc(__version__)}")

    sec = []
    n = 0

    def section(name: str, body: str, lede: str = "") -> None:
        nonlocal n
        n += 1
        sec.append(f'<section id="s{n}"><h2><span class="num">{n}</span>{name}</h2>'
                   + (f'<p class="lede">{lede}</p>' if lede else "") + body + "</section>")

    ranked = [r for r in ranking if r.get("rank")]
    if ranking:
        section(f"Experience score by {esc(noun)}",
                f'<div class="chart">{charts.score_bars(ranking, min_volume, conf)}</div>',
                f"Mean experience score per {esc(noun)} on 0–10 with its {conf:.0%} interval; the black tick is the "
                "business's expectation. Red: well below expectation (satisfaction ≤ −1.5), amber: below, "
                f"teal: at or above. The outlined bar is the key experience. Hatched: fewer than {min_volume} "
                "mentions, not scored.")
    else:
        section(f"Experience score by {esc(noun)}",
                '<p class="empty">No mentions match this selection: nothing to score.</p>')
    if ranked and pr.get("quadrant_split"):
        section("Importance–performance matrix",
                f'<div class="chart">{charts.matrix(ranked, pr["quadrant_split"])}</div>',
                "Importance (stated, or derived from the key-driver fit) against the experience score. A "
                "touchpoint is important at importance 5.5 or more (the horizontal line) and performing at or "
                "above its expectation (the vertical line: the mean expectation). Bubble size: mentions. Top "
                "left (important, below expectation) is where to concentrate.")
    section("Trends and alerts", _trends(tr, noun, int((cfg.get("alerts") or {}).get("min_volume", 1))))
    if ranking:
        section("Priority ranking", _priority_table(ranking, conf, min_volume, noun),
                "Ranked by weighted satisfaction = importance × (score − expectation); the most negative is the "
                "key experience (highlighted). Gap to ideal = score − the ideal the business set.")
    by_channel = ov.get("by_channel") or []
    if len({r.get("channel") for r in by_channel}) > 1:
        labels = [r["label"] for r in ranking if any(c["label"] == r["label"] for c in by_channel)][:15]
        section("Scores by channel",
                f'<div class="chart">{charts.channel_heatmap(by_channel, labels, min_volume)}</div>',
                f"Experience score per {esc(noun)} and channel (red below neutral, blue above); grey cells show "
                f"the volume where it is under {min_volume} mentions.")
    section("What customers say", _verbatims(ov, noun),
            "The most negative and the most positive mentions per " + esc(noun) + ", in priority order; the "
            "words that triggered the " + esc(noun) + " are highlighted.")
    extra = _drivers_and_journeys(ov, noun)
    if extra:
        section("Key drivers and journeys", extra)

    css = CSS_PATH.read_text(encoding="utf-8")
    headline = _headline(ov, noun, conf, min_volume, cover, bucket)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="voc {esc(__version__)}">
<title>{esc(title)}</title>
<style>
{css}
</style>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
</head>
<body>
<div class="page">
<header class="top">
  <div class="eyebrow">Voice of customer · experience report</div>
  <h1>{esc(title)}</h1>
  {f'<div class="subtitle">{esc(subtitle)}</div>' if subtitle else ''}
  <div class="meta">{' · '.join(meta)}</div>
</header>
{headline}
{''.join(sec)}
<footer>
{_method(cfg, conf, min_volume, noun)}
<p>Scores come from automatic sentiment analysis of customer posts; read them with their intervals and
volumes, and check the verbatims behind a number before acting on it.</p>
</footer>
</div>
</body>
</html>
"""


def _describe_filters(filters) -> str:
    if filters is None:
        return ""
    parts = []
    if filters.start is not None:
        parts.append(f"from {_fmt_day(_day(filters.start))}")
    if filters.end is not None:
        parts.append(f"before {_fmt_day(_day(filters.end))}")
    for k in ("channel", "language", "source"):
        v = getattr(filters, k)
        if v is not None:
            parts.append(f"{k}: {v}")
    if filters.labels:
        parts.append("labels: " + ", ".join(readable(x) for x in filters.labels))
    parts += [f"{k}: {v}" for k, v in (filters.segments or {}).items()]
    return " · ".join(parts)


def write_report(source, path, kind: str = "touchpoint", bucket: str = "week", filters=None, config=None,
                 title: Optional[str] = None) -> dict:
    """Build the overview from ``source`` (a :class:`voc.rollup.RecordsSource` or
    :class:`voc.rollup.StoreSource`), render it and write ``path`` as UTF-8.

    Returns ``{"path", "bytes", "seconds"}``. Raises ``InputError`` (E405) when the file
    cannot be written.
    """
    from ..errors import E_OUTPUT, InputError
    from ..rollup import overview

    t0 = time.perf_counter()
    ov = overview(source, kind, bucket, filters, config, verbatims=3)
    page = render_report(ov, title or "Customer experience report", _describe_filters(filters))
    data = page.encode("utf-8")
    p = Path(path)
    try:
        p.write_bytes(data)
    except OSError as e:
        raise InputError(f"Cannot write the report to {p}: {e.strerror}. Give a file in an existing, writable "
                         "folder.", E_OUTPUT) from e
    return {"path": str(p), "bytes": len(data), "seconds": round(time.perf_counter() - t0, 3)}
