"""The report's plotly figures, each returned as an HTML fragment (a ``<div>`` and the
``Plotly.newPlot`` call; plotly.js itself is embedded once by :mod:`voc.report.html`).

Every builder is O(touchpoints × periods): the numbers are already rolled up.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from typing import Dict, List, Sequence

FONT = ('-apple-system, BlinkMacSystemFont, "Segoe UI", "Helvetica Neue", Arial, "PingFang SC", '
        '"Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif')
INK, MUTED, GRID = "#1f2933", "#6b7785", "#e6e9ee"
RED, AMBER, TEAL, BLUE, GREY = "#c8553d", "#e9a03b", "#2a9d8f", "#3d5a80", "#c9ced6"
SERIES = ("#3d5a80", "#c8553d", "#2a9d8f", "#e9a03b", "#8e6c8a", "#5c946e", "#b5838d", "#6d7f99")
QUADRANT_COLOURS = {"concentrate here": RED, "keep up the good work": TEAL, "low priority": "#8a94a6",
                    "possible overkill": AMBER}
CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}  # a static report: hover only


def readable(label) -> str:
    """A label id as a reader sees it: ``customer_support`` → ``customer support``."""
    return "(none)" if label is None else str(label).replace("_", " ").strip()


def _esc(s) -> str:
    # plotly renders a small HTML subset in text; labels are shown as written, never as markup
    return html.escape(str(s), quote=False)


def _layout(fig, height: int, **kw) -> None:
    fig.update_layout(template="plotly_white", height=height, font=dict(family=FONT, size=13, color=INK),
                      paper_bgcolor="white", plot_bgcolor="white", hoverlabel=dict(font_family=FONT),
                      **kw)


def to_fragment(fig, name: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config=CONFIG, div_id=f"voc-{name}",
                       default_height=f"{fig.layout.height}px")


def score_bars(ranking: Sequence[dict], min_volume: int, confidence: float) -> str:
    """Horizontal bars of the 0–10 experience score per label with the interval as error bars,
    the expectation as a tick; suppressed labels as grey, labelled placeholders."""
    import plotly.graph_objects as go

    scored = sorted([r for r in ranking if r.get("score") is not None], key=lambda r: (r["score"], str(r["label"])))
    quiet = sorted([r for r in ranking if r.get("score") is None], key=lambda r: -r["volume"])
    rows = quiet[::-1] + scored[::-1]            # plotly draws the first category at the bottom
    ticks = [f"{_esc(readable(r['label']))}  <span style='color:{MUTED}'>n={r['volume']:,}</span>" for r in rows]
    cats = list(range(len(rows)))

    def colour(r):
        sat = r.get("satisfaction")
        return RED if sat <= -1.5 else AMBER if sat < 0 else TEAL

    fig = go.Figure()
    if scored:
        idx = [len(rows) - 1 - i for i in range(len(scored))]
        fig.add_trace(go.Bar(
            y=idx, x=[r["score"] for r in scored], orientation="h", name="experience score",
            marker=dict(color=[colour(r) for r in scored],
                        line=dict(color=[INK if r.get("key_experience") else "rgba(0,0,0,0)" for r in scored],
                                  width=2)),
            error_x=dict(type="data", symmetric=False, color="#46505c", thickness=1.4, width=4,
                         array=[max(0.0, (r["ci_high"] if r["ci_high"] is not None else r["score"]) - r["score"])
                                for r in scored],
                         arrayminus=[max(0.0, r["score"] - (r["ci_low"] if r["ci_low"] is not None else r["score"]))
                                     for r in scored]),
            text=[f"{r['score']:.1f}" for r in scored], textposition="inside", insidetextanchor="start",
            textfont=dict(color="white", size=12),
            customdata=[[r["ci_low"], r["ci_high"], r["expectation"], r["satisfaction"], r["volume"]] for r in scored],
            hovertemplate=("<b>%{customdata[4]:,} mentions</b><br>score %{x:.2f} "
                           f"({confidence:.0%} CI " "%{customdata[0]:.2f}–%{customdata[1]:.2f})<br>"
                           "expectation %{customdata[2]:.1f}, satisfaction %{customdata[3]:+.2f}<extra></extra>")))
        fig.add_trace(go.Scatter(
            y=idx, x=[r["expectation"] for r in scored], mode="markers", name="expectation",
            marker=dict(symbol="line-ns", size=22, line=dict(width=3, color=INK)),
            hovertemplate="expectation %{x:.1f}<extra></extra>"))
    if quiet:
        idx = [len(quiet) - 1 - i for i in range(len(quiet))]
        fig.add_trace(go.Bar(
            y=idx, x=[10] * len(quiet), orientation="h", name=f"n < {min_volume} (not scored)",
            marker=dict(color="rgba(201,206,214,0.35)", line=dict(color=GREY, width=1),
                        pattern=dict(shape="/", fgcolor=GREY, size=6)),
            text=[f"n = {r['volume']} < min volume {min_volume}" for r in quiet], textposition="inside",
            insidetextanchor="middle", textfont=dict(color=MUTED, size=12), hoverinfo="skip"))
    height = max(230, 90 + 34 * len(rows))
    _layout(fig, height, margin=dict(l=10, r=20, t=34, b=10), barmode="overlay", bargap=0.35,
            showlegend=True, legend=dict(orientation="h", y=1, yanchor="bottom", x=1, xanchor="right",
                                         font=dict(size=12)))
    fig.update_xaxes(range=[0, 10], dtick=1, gridcolor=GRID, zeroline=False,
                     title=dict(text=f"experience score (0–10, 5 = neutral) with {confidence:.0%} interval",
                                font=dict(size=12, color=MUTED)))
    fig.update_yaxes(tickmode="array", tickvals=cats, ticktext=ticks, range=[-0.6, len(rows) - 0.4],
                     ticklabelstandoff=6, automargin=True, showgrid=False)
    fig.add_vline(x=5, line=dict(color="#9aa5b1", width=1, dash="dot"))
    return to_fragment(fig, "scores")


def _place_labels(points: List[tuple], xr, yr, obstacles=(), width_px=950, height_px=450) -> List[str]:
    """Greedy label placement: for each point (x, y, text, radius px) the first of eight positions
    whose estimated box stays in the plot and overlaps no placed box, marker or obstacle (boxes in
    data units); good enough for a few dozen labels on a plot about ``width_px`` wide."""
    sx, sy = (xr[1] - xr[0]) / width_px, (yr[1] - yr[0]) / height_px
    opts = [("top center", 0, 1), ("bottom center", 0, -1), ("middle right", 1, 0), ("middle left", -1, 0),
            ("top right", 1, 1), ("top left", -1, 1), ("bottom right", 1, -1), ("bottom left", -1, -1)]
    marks = [(x - r * sx, y - r * sy, x + r * sx, y + r * sy) for x, y, _, r in points]
    placed, out = list(obstacles), []
    order = sorted(range(len(points)), key=lambda i: (-points[i][1], points[i][0]))
    chosen: Dict[int, str] = {}
    for i in order:
        x, y, text, r = points[i]
        w, h = (7.2 * sum(2 if ord(c) > 0x2e80 else 1 for c in text) + 4) * sx, 17 * sy
        best = None
        for name, dx, dy in opts:
            cx = x + dx * (w / 2 + (r + 3) * sx)
            cy = y + dy * (h / 2 + (r + 1) * sy)
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            inside = xr[0] <= box[0] and box[2] <= xr[1] and yr[0] <= box[1] and box[3] <= yr[1]
            hits = sum(_overlap(box, b) for b in placed) + sum(_overlap(box, m) for j, m in enumerate(marks) if j != i)
            cost = hits * 10 + (0 if inside else 5)
            if best is None or cost < best[0]:
                best = (cost, name, box)
            if cost == 0:
                break
        chosen[i] = best[1]
        placed.append(best[2])
    for i in range(len(points)):
        out.append(chosen[i])
    return out


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def matrix(ranked: Sequence[dict], split: dict) -> str:
    """The importance–performance matrix: experience score (x) against importance (y), the
    quadrant split at the importance split and the expectation, each point sized by volume and labelled."""
    import plotly.graph_objects as go

    xs = [r["score"] for r in ranked]
    ys = [r["importance"] for r in ranked]
    sx, sy = split["score"], split["importance"]
    pad_x = max(0.6, 0.12 * (max(xs + [sx]) - min(xs + [sx])))
    pad_y = max(0.6, 0.12 * (max(ys + [sy]) - min(ys + [sy])))
    xr = [max(0.0, min(xs + [sx]) - pad_x), min(10.0, max(xs + [sx]) + pad_x)]
    yr = [max(0.0, min(ys + [sy]) - pad_y), min(10.5, max(ys + [sy]) + pad_y)]
    names = [readable(r["label"]) for r in ranked]
    vmax = max(r["volume"] for r in ranked) or 1
    sizes = [12 + 26 * math.sqrt(r["volume"] / vmax) for r in ranked]
    corners = [("Concentrate here", xr[0], yr[1], "left", "top", RED),
               ("Keep up the good work", xr[1], yr[1], "right", "top", TEAL),
               ("Low priority", xr[0], yr[0], "left", "bottom", "#8a94a6"),
               ("Possible overkill", xr[1], yr[0], "right", "bottom", AMBER)]
    px, py = (xr[1] - xr[0]) / 950, (yr[1] - yr[0]) / 450
    blocked = []
    for text, x, y, xa, ya, _ in corners:
        w, h = (7.5 * len(text) + 8) * px, 20 * py
        x0 = x if xa == "left" else x - w
        y0 = y - h if ya == "top" else y
        blocked.append((x0, y0, x0 + w, y0 + h))
    pos = _place_labels([(x, y, t, d / 2) for x, y, t, d in zip(xs, ys, names, sizes)], xr, yr, blocked)
    fig = go.Figure()
    for q, colour in QUADRANT_COLOURS.items():
        sel = [i for i, r in enumerate(ranked) if r.get("quadrant") == q]
        if not sel:
            continue
        fig.add_trace(go.Scatter(
            x=[xs[i] for i in sel], y=[ys[i] for i in sel], mode="markers+text", name=q,
            text=[("<b>" + _esc(names[i]) + "</b>") if ranked[i].get("key_experience") else _esc(names[i])
                  for i in sel],
            textposition=[pos[i] for i in sel], textfont=dict(size=12, color=INK),
            marker=dict(color=colour, opacity=0.85, sizemode="diameter",
                        size=[sizes[i] for i in sel],
                        line=dict(color=[INK if ranked[i].get("key_experience") else "white" for i in sel],
                                  width=[2.5 if ranked[i].get("key_experience") else 1 for i in sel])),
            customdata=[[ranked[i]["volume"], ranked[i]["importance_source"], ranked[i]["weighted_satisfaction"]]
                        for i in sel],
            hovertemplate=("<b>%{text}</b><br>score %{x:.2f}, importance %{y:.1f} (%{customdata[1]})<br>"
                           "%{customdata[0]:,} mentions, weighted satisfaction %{customdata[2]:+.1f}<extra></extra>")))
    line = dict(color="#9aa5b1", width=1.2, dash="dash")
    fig.add_vline(x=sx, line=line)
    fig.add_hline(y=sy, line=line)
    for text, x, y, xa, ya, c in corners:
        fig.add_annotation(x=x, y=y, text=f"<b>{text}</b>", showarrow=False, xanchor=xa, yanchor=ya,
                           font=dict(size=12, color=c), bgcolor="rgba(255,255,255,0.8)")
    _layout(fig, 520, margin=dict(l=10, r=20, t=10, b=10), showlegend=False)
    fig.update_xaxes(range=xr, gridcolor=GRID, zeroline=False,
                     title=dict(text="experience score (performance, 0–10)", font=dict(size=12, color=MUTED)))
    fig.update_yaxes(range=yr, gridcolor=GRID, zeroline=False,
                     title=dict(text="importance (1–10)", font=dict(size=12, color=MUTED)))
    return to_fragment(fig, "matrix")


def trends(rows: Sequence[dict], labels: Sequence[str], bucket: str, min_volume: int = 1) -> str:
    """Negative share per period for ``labels`` (lines; a period with fewer than ``min_volume``
    mentions is left as a gap), alerts as red rings, and the mention volume per period below
    (stacked bars)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    series: Dict[str, List[dict]] = defaultdict(list)
    for r in rows:
        if r.get("label") in labels:
            series[r["label"]].append(r)
    periods = sorted({r["period"] for r in rows})
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.7, 0.3])
    for k, lab in enumerate(labels):
        pts = sorted(series.get(lab, []), key=lambda r: r["period"])
        if not pts:
            continue
        c = SERIES[k % len(SERIES)]
        name = _esc(readable(lab))
        fig.add_trace(go.Scatter(
            x=[r["period"] for r in pts], mode="lines+markers", name=name, connectgaps=False,
            y=[r["negative_share"] if r["volume"] >= min_volume else None for r in pts],
            legendgroup=name, line=dict(color=c, width=2), marker=dict(size=5, color=c),
            customdata=[[r["volume"], r.get("score")] for r in pts],
            hovertemplate=name + "<br>%{x}: %{y:.0%} negative of %{customdata[0]:,} mentions<extra></extra>"),
            row=1, col=1)
        fig.add_trace(go.Bar(x=[r["period"] for r in pts], y=[r["volume"] for r in pts], name=name,
                             legendgroup=name, showlegend=False, marker=dict(color=c, opacity=0.75),
                             hovertemplate=name + "<br>%{x}: %{y:,} mentions<extra></extra>"), row=2, col=1)
    hot = [r for r in rows if r.get("alert") and r.get("label") in labels]
    if hot:
        fig.add_trace(go.Scatter(
            x=[r["period"] for r in hot], y=[r["negative_share"] for r in hot], mode="markers", name="alert",
            marker=dict(symbol="circle-open", size=20 if len(periods) <= 20 else 12, color=RED,
                        line=dict(width=3 if len(periods) <= 20 else 2)),
            customdata=[[readable(r["label"]), r.get("baseline_negative_share") or 0, r.get("z") or 0] for r in hot],
            hovertemplate=("<b>alert: %{customdata[0]}</b><br>%{x}: %{y:.0%} negative vs baseline "
                           "%{customdata[1]:.0%} (z = %{customdata[2]:.1f})<extra></extra>")), row=1, col=1)
    _layout(fig, 470, margin=dict(l=10, r=20, t=10, b=10), barmode="stack", bargap=0.25,
            legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=12)),
            hovermode="closest")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", gridcolor=GRID, zeroline=False,
                     title=dict(text="negative share", font=dict(size=12, color=MUTED)), row=1, col=1)
    fig.update_yaxes(gridcolor=GRID, zeroline=False, rangemode="tozero",
                     title=dict(text="mentions", font=dict(size=12, color=MUTED)), row=2, col=1)
    many = len(periods) > 16
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=periods, showgrid=False,
                     tickangle=-45 if many else 0, nticks=24)
    fig.update_xaxes(title=dict(text=f"{bucket} starting", font=dict(size=12, color=MUTED)), row=2, col=1)
    return to_fragment(fig, "trends")


def channel_heatmap(rows: Sequence[dict], labels: Sequence[str], min_volume: int) -> str:
    """Score per label × channel; cells under the minimum volume left blank with their n."""
    import plotly.graph_objects as go

    vol: Dict[object, int] = defaultdict(int)
    for r in rows:
        vol[r.get("channel")] += r["volume"]
    channels = sorted(vol, key=lambda c: (-vol[c], str(c)))[:12]
    cell = {(r["label"], r.get("channel")): r for r in rows}
    z, text = [], []
    for lab in labels:
        zr, tr = [], []
        for ch in channels:
            r = cell.get((lab, ch))
            if r is None:
                zr.append(None)
                tr.append("")
            elif r.get("score") is None:
                zr.append(None)
                tr.append(f"<span style='color:{MUTED}'>n={r['volume']}</span>")
            else:
                zr.append(r["score"])
                tr.append(f"{r['score']:.1f}")
        z.append(zr)
        text.append(tr)
    fig = go.Figure(go.Heatmap(
        z=z, x=[_esc(readable(c)) for c in channels], y=[_esc(readable(lab)) for lab in labels], text=text,
        texttemplate="%{text}", textfont=dict(size=12), zmin=0, zmax=10, zmid=5, xgap=2, ygap=2,
        colorscale=[[0, "#b2182b"], [0.3, "#ef8a62"], [0.5, "#f7f7f7"], [0.7, "#67a9cf"], [1, "#2166ac"]],
        colorbar=dict(title=dict(text="score", side="right"), thickness=12, len=0.8),
        hovertemplate="%{y} · %{x}: score %{z:.2f}<extra></extra>", hoverongaps=False))
    _layout(fig, max(240, 70 + 30 * len(labels)), margin=dict(l=10, r=10, t=10, b=10))
    fig.update_xaxes(side="top", showgrid=False)
    fig.update_yaxes(autorange="reversed", showgrid=False, automargin=True)
    return to_fragment(fig, "channels")
