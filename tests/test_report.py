"""The HTML report: built from hand-written scored records (no model), checked as a reader
would: the key experience and its numbers, offline, evidence highlighted, texts escaped."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest

pytest.importorskip("plotly")

from voc.report import highlight, render_report, write_report  # noqa: E402
from voc.report.html import merge_spans  # noqa: E402
from voc.rollup import RecordsSource, overview  # noqa: E402

START = datetime(2024, 9, 2, 10, 0)
XSS = "<script>alert('x')</script> 快递太慢了 & <b>late</b>"


def _records(n_weeks: int = 6, with_time: bool = True, with_text: bool = True):
    """Delivery mostly negative (the key experience), product mostly positive, store too
    thin to score; zh and en texts, one with markup in it."""
    docs, mentions = [], []
    row = 0

    def add(text, label, score, spans, week, channel):
        nonlocal row
        row += 1
        t = START + timedelta(days=7 * week + row % 5) if with_time else None
        sent = "negative" if score < -0.05 else "positive" if score > 0.05 else "neutral"
        docs.append({"row": row, "id": f"d{row}", "time": t, "channel": channel, "customer": f"c{row % 7}",
                     "reach": float(row % 13), "text": text if with_text else None, "language": "zh",
                     "sentiment": sent, "sentiment_score": score})
        mentions.append({"row": row, "id": f"d{row}", "time": t, "channel": channel, "customer": f"c{row % 7}",
                         "reach": float(row % 13), "language": "zh", "kind": "touchpoint", "label": label,
                         "parent": None, "confidence": 0.9, "sentiment": sent, "sentiment_score": score,
                         "score": 5 + 5 * score, "doc_sentiment_score": score,
                         "evidence_start": spans[0][0] if spans else None,
                         "evidence_end": spans[0][1] if spans else None, "evidence": json.dumps(spans)})

    for week in range(n_weeks):
        for i in range(10):
            if i < 7:
                add("快递太慢了，等了一个星期", "delivery", -0.8 + 0.01 * i, [[0, 2]], week, "weibo")
            else:
                add("Delivery was fast and friendly", "delivery", 0.6, [[0, 8]], week, "twitter")
            add("The product quality is excellent", "product", 0.7 - 0.02 * i, [[4, 11]], week, "twitter")
    add(XSS, "delivery", -0.99, [[29, 31]], 1, "weibo")
    for i in range(5):
        add("门店环境不错", "store", 0.3, [[0, 2]], 2, "dianping")
    return docs, mentions


def _tags(page: str):
    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    P().feed(page)
    return found


@pytest.fixture(scope="module")
def source():
    return RecordsSource(*_records())


@pytest.fixture(scope="module")
def page(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    info = write_report(source, path, title="Demo <report>")
    assert info["path"] == str(path) and info["bytes"] == path.stat().st_size and info["seconds"] >= 0
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("text,spans,marked", [
    ("the waiter was rude", [[4, 10]], ["waiter"]),
    ("快递太慢了，客服也不理", [[0, 2], [6, 8]], ["快递", "客服"]),
    ("快递太慢了，客服也不理", [[6, 8], [0, 2]], ["快递", "客服"]),              # unsorted
    ("delivery was late", [[0, 5], [3, 8]], ["delivery"]),                   # overlapping: merged
    ("delivery was late", [[9, 12], [0, 8], [0, 8]], ["delivery", "was"]),   # duplicate
    ("😡 快递 late", [[2, 4]], ["快递"]),                                      # astral char before the span
    ("short", [[3, 99], [7, 9], [4, 2]], ["rt"]),                            # clamped, empty, reversed
    ("a <b> & c", [[2, 5]], ["&lt;b&gt;"]),                                  # markup inside a span
])
def test_highlight_marks_the_evidence(text, spans, marked):
    out = highlight(text, spans)
    assert re.findall(r"<mark>(.*?)</mark>", out) == marked
    assert re.sub(r"</?mark>", "", out) == text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_highlight_long_text_keeps_a_window_around_the_evidence():
    text = "x" * 1000 + "快递太慢了" + "y" * 1000
    out = highlight(text, [[1000, 1002]], limit=100)
    assert "<mark>快递</mark>" in out and out.startswith("…") and out.endswith("…")
    assert len(re.sub(r"</?mark>", "", out)) == 102


def test_merge_spans():
    assert merge_spans([[5, 9], [0, 2], [1, 3], [9, 10], ["a", 1]], 8) == [(0, 3), (5, 8)]


def test_key_experience_and_its_numbers(source, page):
    ov = overview(source)
    k = ov["priorities"]["key_experience"]
    assert k["label"] == "delivery"
    head = page.split('<section id="s1"')[0]
    assert "Key experience" in head and ">delivery<" in head
    for v in (k["score"], k["ci_low"], k["ci_high"], k["expectation"], k["importance"]):
        assert f"{v:.1f}".replace("-", "\u2212") in head
    assert f"{k['satisfaction']:.1f}".replace("-", "\u2212") in head
    assert f"{k['weighted_satisfaction']:.1f}".replace("-", "\u2212") in head
    assert f"{k['volume']:,} mentions" in head
    assert "2 Sep 2024" in head                                        # period covered
    assert "Demo &lt;report&gt;" in page and "Demo <report>" not in page


def test_sections_and_charts(page):
    for title in ("Experience score by touchpoint", "Importance–performance matrix", "Trends and alerts",
                  "Priority ranking", "Scores by channel", "What customers say", "Key drivers and journeys"):
        assert title in page
    for div in ("voc-scores", "voc-matrix", "voc-trends", "voc-channels"):
        assert f'id="{div}"' in page
    assert "key-row" in page                                           # the key experience row highlighted
    assert "n &lt; 30" in page and "store" in page                     # suppressed, still listed


def test_offline_plotly_embedded_once(page):
    import plotly.offline

    js = plotly.offline.get_plotlyjs()
    assert page.count(js) == 1
    for tag, attrs in _tags(page):
        for a in ("src", "href"):
            assert not (attrs.get(a) or "").lower().startswith(("http:", "https:", "//")), (tag, attrs)
    # plotly.js itself carries map-attribution strings with links; nothing else in the page does
    rest = page.replace(js, "")
    assert 'src="http' not in rest and 'href="http' not in rest and "<link" not in rest


def test_customer_text_is_escaped(page):
    assert "<script>alert" not in page
    plain = page.replace("<mark>", "").replace("</mark>", "")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; 快递太慢了 &amp; &lt;b&gt;late&lt;/b&gt;" in plain


def test_chinese_evidence_highlighted(page):
    assert "<mark>快递</mark>太慢了，等了一个星期" in page
    assert "The <mark>product</mark> quality is excellent" in page


def test_empty_data_renders(tmp_path):
    info = write_report(RecordsSource([], []), tmp_path / "empty.html")
    page = (tmp_path / "empty.html").read_text(encoding="utf-8")
    assert info["bytes"] > 0
    assert "No mentions match this selection" in page and "Not determined" in page
    assert "No trend" in page and 'id="voc-trends"' not in page


def test_no_time_no_trend_chart():
    page = render_report(overview(RecordsSource(*_records(with_time=False))))
    assert "No trend" in page and 'id="voc-trends"' not in page and 'id="voc-scores"' in page


def test_thin_data_all_suppressed():
    docs, mentions = _records(n_weeks=1)
    page = render_report(overview(RecordsSource(docs[:12], mentions[:12])))
    assert "Not determined" in page and "n &lt; 30" in page and 'id="voc-matrix"' not in page


def test_texts_not_kept():
    page = render_report(overview(RecordsSource(*_records(with_text=False))))
    assert "text not kept" in page


def test_alerts_marked_and_listed():
    from voc.rollup import RollupConfig

    docs, mentions = _records(n_weeks=6)
    for m in mentions:   # delivery praised for five weeks, then every mention negative
        if m["label"] == "delivery":
            bad = m["time"] >= START + timedelta(days=35)
            m.update(sentiment="negative" if bad else "positive", sentiment_score=-0.9 if bad else 0.6,
                     score=0.5 if bad else 8.0)
    ov = overview(RecordsSource(docs, mentions), config=RollupConfig.from_yaml(overrides={"alerts": {"min_volume": 5}}))
    assert ov["trends"]["alerts"]
    page = render_report(ov)
    assert "<h3>Alerts</h3>" in page and "week of 7 Oct 2024" in page and '"name":"alert"' in page


def test_unwritable_path(source, tmp_path):
    from voc.errors import InputError

    with pytest.raises(InputError) as e:
        write_report(source, tmp_path / "missing" / "r.html")
    assert e.value.code == "E405"
