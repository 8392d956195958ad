"""The dashboard end to end: the real app served by uvicorn on loopback, driven in headless
Chromium by Playwright. Empty store → empty state; no key → the API's E112 in a banner; a few
hundred zh/en documents ingested through ``POST /v1/documents`` → the key experience with real
numbers, a channel filter that changes them, a drill-down with highlighted evidence, and a
full-page screenshot (``/tmp/dashboard.png`` too, for a look).

Needs ``pip install playwright`` and a Chromium on the machine (Debian: ``apt-get install
chromium``; or point ``VOC_CHROMIUM`` at one). Playwright's own browser download is not used.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

pytestmark = pytest.mark.slow

KEY = "k"
START = datetime(2026, 3, 2, 9, 0)   # a Monday
WEEKS = 8
PER_WEEK = 60
SPIKE_WEEK = 6                        # delivery complaints jump this week: an alert
XSS = "<img src=x onerror=\"window.__xss=1\">"


def _chromium() -> str | None:
    for c in (os.environ.get("VOC_CHROMIUM"), "/usr/lib/chromium/chromium", shutil.which("chromium"),
              shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    return None


TEXTS = {  # touchpoint: (negative, positive), each a list of (zh or en) texts the shipped model reads that way
    "delivery": (["外卖等了一个半小时，汤都洒了", "快递太慢了，一周才到", "送餐员迟到了四十分钟，饭都凉了",
                  "delivery was late again and the box was crushed", "the courier lost my parcel",
                  "my order arrived two days late"],
                 ["配送很快，半小时就到了", "快递小哥很准时，包装完好", "the courier was quick and careful"]),
    "service": (["服务员态度很差，再也不来了", "店员爱理不理，服务太差", "the waiter was rude and ignored us",
                 "staff were unfriendly and slow"],
                ["服务员很热情，服务周到", "店员很耐心，服务很好", "the staff were friendly and helpful",
                 "our waiter was lovely and attentive"]),
    "product": (["菜很难吃，味道太咸了", "质量太差，用了两天就坏了", "the food was cold and tasteless",
                 "the product broke after a week"],
                ["菜很好吃，分量足", "质量很好，做工精细", "the food was delicious", "great quality, works perfectly"]),
    "price": (["价格太贵了，性价比很低", "太贵了，不值这个价", "way too expensive for what you get",
               "overpriced and not worth the money"],
              ["价格实惠，性价比高", "很便宜，物超所值", "great value for money", "prices are very reasonable"]),
    "customer_support": (["客服电话一直打不通", "投诉了三次客服都没人处理", "customer support never answered my email",
                          "the hotline kept me on hold for an hour"],
                         ["客服回复很及时，问题很快解决了", "customer support solved my issue quickly"]),
    "digital": (["app 闪退，根本下不了单", "小程序一直卡，付款失败", "the website is slow and the payment failed"],
                ["小程序界面清晰，付款顺畅", "app 很好用，下单很方便"]),
    "store": (["店里很脏，环境太吵", "the store was dirty and noisy", "the restaurant was crowded and smelly"],
              ["环境很干净，装修漂亮", "the store was clean and bright", "lovely atmosphere and decor"]),
}
SHARE = {"delivery": 0.34, "service": 0.16, "product": 0.14, "price": 0.1, "customer_support": 0.1, "digital": 0.1,
         "store": 0.06}
NEGATIVE = {("delivery", "weibo"): 0.7, ("delivery", "app"): 0.3, ("digital", "app"): 0.75, ("digital", "weibo"): 0.3,
            "service": 0.4, "product": 0.25, "price": 0.5, "customer_support": 0.55, "store": 0.3}


def make_documents(seed: int = 7) -> list:
    """Eight weeks of posts in two channels and three cities, zh and en, several touchpoints;
    some posts praise one touchpoint and attack another."""
    rng = random.Random(seed)
    labels, weights = zip(*SHARE.items())
    docs = []
    for week in range(WEEKS):
        for i in range(PER_WEEK):
            channel = "weibo" if rng.random() < 0.5 else "app"
            parts = []
            for lab in dict.fromkeys(rng.choices(labels, weights, k=1 + (rng.random() < 0.2))):
                p_neg = NEGATIVE.get((lab, channel), NEGATIVE.get(lab, 0.4))
                if lab == "delivery" and week == SPIKE_WEEK:
                    p_neg = 0.97
                neg, pos = TEXTS[lab]
                parts.append(rng.choice(neg if rng.random() < p_neg else pos))
            zh = any("\u4e00" <= c <= "\u9fff" for c in parts[0])
            text = ("，" if zh else ", but ").join(parts)
            when = START + timedelta(weeks=week, days=rng.randrange(7), minutes=rng.randrange(600))
            reach = rng.choice([0, 3, 40, 800, 12000]) if channel == "weibo" else None
            docs.append({"id": f"{channel[:2]}-{week}-{i}", "text": text, "time": when.isoformat(),
                         "channel": channel, "reach": reach, "customer": f"c{rng.randrange(120)}",
                         "segments": {"city": rng.choice(["上海", "北京", "广州"])}})
    docs.append({"id": "xss-1", "text": f"the delivery was late again and the box was crushed {XSS}",
                 "time": (START + timedelta(weeks=3)).isoformat(), "channel": "weibo", "segments": {"city": "深圳"}})
    return docs


@pytest.fixture
def served(nlp, tmp_path):
    """The app on 127.0.0.1 and a free port, in a background thread, with keys required."""
    import uvicorn

    from api.main import create_app
    from api.settings import Settings, get_settings
    from voc.store import Store

    app = create_app(use_lifespan=False)
    app.state.nlp = nlp
    app.state.store = Store(tmp_path / "dash.duckdb")
    app.dependency_overrides[get_settings] = lambda: Settings(api_keys=KEY, store_path=str(tmp_path / "dash.duckdb"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))     # loopback only; the port is ours before the server starts
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        app.state.store.close()


def _text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def test_dashboard_in_chromium(served, tmp_path):
    import httpx

    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set VOC_CHROMIUM)")
    base, app = served
    problems = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900}, device_scale_factor=1)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            expected = ("status of 401", "status of 422")  # before the key is typed; the bad segment
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error"
                    and not any(e in m.text for e in expected) else None)
            page.set_default_timeout(10_000)

            # 1. no key: the API's own message in the banner
            page.goto(base + "/")
            page.wait_for_selector("#banner:not([hidden])")
            assert _text(page, "#banner-code") == "E112" and "API key" in _text(page, "#banner-text")

            # 2. the key, an empty store: the empty state, no error
            page.fill("#api-key", KEY)
            page.click("#key-save")
            page.wait_for_function("() => document.querySelector('#empty').innerText.includes('no data')")
            assert page.locator("#empty").is_visible() and page.locator("#banner").is_hidden()

            # 3. data through the API, then the numbers
            docs = make_documents()
            r = httpx.post(base + "/v1/documents", json={"documents": docs}, headers={"X-API-Key": KEY}, timeout=60)
            assert r.status_code == 200 and r.json()["ingested"] == len(docs), r.text
            page.reload()  # the key survives the reload (sessionStorage)
            page.wait_for_function("() => /\\d\\.\\d/.test(document.querySelector('#key-score').textContent)")
            label_all, score_all = _text(page, "#key-label"), _text(page, "#key-score")
            assert label_all and label_all != "–"
            assert "95% CI" in _text(page, "#key-ci") and "mentions" in _text(page, "#key-ci")
            tiles = _text(page, "#key-tiles")
            for word in ("EXPECTATION", "SATISFACTION", "IMPORTANCE", "WEIGHTED SATISFACTION"):
                assert word in tiles.upper()
            for chart in ("#chart-scores", "#chart-matrix", "#chart-trends"):
                page.wait_for_selector(f"{chart} .main-svg")
            assert page.locator("#chart-scores .bars .point").count() >= 5
            assert page.locator("#chart-trends .scatterlayer .trace").count() >= 2
            assert page.locator("#alerts table tbody tr").count() >= 1   # the delivery spike
            mentions_all = _text(page, "#coverage")
            # the options for the filters come from the data
            assert set(page.locator("#f-channel option").all_inner_texts()) >= {"all", "weibo", "app"}

            # 4. a filter refetches everything
            before = [page.locator("#key-score").text_content(), page.locator("#coverage").text_content()]
            page.select_option("#f-channel", "app")
            page.wait_for_function("([s, c]) => document.querySelector('#key-score').textContent !== s "
                                   "|| document.querySelector('#coverage').textContent !== c", arg=before)
            page.wait_for_function("() => !document.body.classList.contains('loading')")
            assert (_text(page, "#key-label"), _text(page, "#key-score")) != (label_all, score_all) \
                or _text(page, "#coverage") != mentions_all
            assert "channel=app" in page.url
            page.select_option("#f-channel", "")
            page.wait_for_function("(c) => document.querySelector('#coverage').innerText.trim() === c",
                                   arg=mentions_all)

            # 5. a touchpoint's verbatims, evidence highlighted, customer text kept as text
            page.click("#priority-table tbody tr[data-label='delivery']")
            page.wait_for_selector("#drill-neg blockquote mark")
            assert "Delivery" in _text(page, "#drill-title")
            assert page.locator("#drill-pos blockquote").count() >= 1
            marked = page.locator("#drill-neg blockquote mark").all_inner_texts()
            assert marked and all(m.strip() for m in marked)
            assert page.locator("#priority-table tr.selected").count() == 1

            # a bar in the score chart drills down too
            page.click("#drill-close")
            assert page.locator("#drill").is_hidden()
            bar = page.locator("#chart-scores .bars .point path").first.bounding_box()
            page.mouse.click(bar["x"] + bar["width"] * 0.5, bar["y"] + bar["height"] / 2)
            page.wait_for_selector("#drill:not([hidden]) blockquote")

            # the text with markup in it is shown as text, never run
            page.click("#priority-table tbody tr[data-label='delivery']")
            page.fill("#f-segment", "city:深圳")
            page.click("#apply")
            page.wait_for_function("(x) => [...document.querySelectorAll('#drill blockquote')]"
                                   ".some(b => b.textContent.includes(x))", arg=XSS)
            assert page.evaluate("() => window.__xss") is None and page.locator("#drill img").count() == 0
            page.fill("#f-segment", "nocolumn:1")   # a bad filter: the API's message, coded
            page.click("#apply")
            page.wait_for_selector("#banner:not([hidden])")
            assert _text(page, "#banner-code") == "E408" and "city" in _text(page, "#banner-text")
            page.click("#f-reset")
            page.wait_for_function("(c) => document.querySelector('#coverage').innerText.trim() === c",
                                   arg=mentions_all)
            assert page.locator("#banner").is_hidden()
            page.click("#priority-table tbody tr[data-label='delivery']")
            page.wait_for_selector("#drill-neg blockquote mark")
            page.wait_for_function("() => !document.querySelector('#drill').classList.contains('loading')")

            # 6. a look at the whole page
            page.evaluate("() => window.scrollTo(0, 0)")
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
            try:
                shutil.copyfile(shot, "/tmp/dashboard.png")  # for a human look; not part of the contract
            except OSError:
                pass
        finally:
            browser.close()
    assert not problems, problems
