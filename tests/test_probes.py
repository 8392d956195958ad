"""Behavioural probes for the shipped default model (docs/annotation.md, sections 3, 8 and 9).

Each probe is a short customer text written for this file and one expectation the labelling
guide states for it. The probes are grouped by the failure kind they watch for, in Chinese
and English:

1. ``pair``      short clause pairs: each touchpoint gets its own polarity (guide 9.7)
2. ``implicit``  implicit complaints with no opinion word: not positive, ``complaint`` (9.2)
3. ``sarcasm``   praise words around a failure: not positive (9.1)
4. ``setphrase`` negated and hedged set phrases judged as a whole (9.3)
5. ``nonsignal`` numbers and negated phrases are not signals; a warning is a negative
                 recommendation, never a positive one (9.4)
6. ``churn``     churn said without the usual phrase (9.5)
7. ``consistency`` the sentiment label agrees with the sign of the score, for every text here
8. ``question``  a plain question is not a complaint and not negative (9.6)

plus ``control`` probes (plain praise, plain complaint, affirmative signals) so that a model
that answers neutral with no signals everywhere cannot pass.

The model is ``voc.load()`` (the shipped default), or the folder named by the environment
variable ``VOC_PROBE_MODEL``. The model is loaded once for the module.
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.slow

# Probes the shipped model (voc-default 0.2.0) still fails: 16 of 104, kept visible as strict
# expected failures (a probe that starts passing fails the run until it is taken off this list).
# What they show: sarcasm without a sarcasm marker, hedged comparisons ("not as bad as"),
# a few implicit complaints and short pairs whose second clause has no opinion word we know.
KNOWN_FAILURES = frozenset({
    "test_pair[zh-app-hotline]",
    "test_pair[en-shipping-item]",
    "test_implicit[zh-charged-twice]",
    "test_implicit[zh-bill-doubled]",
    "test_sarcasm[zh-efficiency-afternoon]",
    "test_sarcasm[en-express-nine-days]",
    "test_sarcasm[en-app-logout]",
    "test_sarcasm[en-best-airline-delay]",
    "test_setphrase[zh-service-not-that-bad]",
    "test_setphrase[en-not-as-bad]",
    "test_setphrase[en-prices-not-high]",
    "test_setphrase[en-no-complaints-staff]",
    "test_nonsignal[en-friend-recommended-me]",
    "test_nonsignal[en-coworkers-dont-order]",
    "test_question[zh-deliver-campus]",
    "test_control[en-praise-app]",
})


def pytest_collection_modifyitems(items):  # noqa: D103 - applied by tests/conftest.py
    for item in items:
        if item.module.__name__.endswith("test_probes") and item.name in KNOWN_FAILURES:
            item.add_marker(pytest.mark.xfail(strict=True, reason="known failure of voc-default 0.2.0"))


def cases(rows):
    """``(id, *args)`` rows as test parameters named by their id (KNOWN_FAILURES uses the names)."""
    return [pytest.param(*r[1:], id=r[0]) for r in rows]


@pytest.fixture(scope="module")
def probe_nlp():
    import voc

    path = os.environ.get("VOC_PROBE_MODEL")
    return voc.load(path) if path else voc.load()


def tps(doc) -> dict:
    return {t["id"]: t["sentiment"]["label"] for t in doc.touchpoints}


def sigs(doc) -> dict:
    return {s["id"]: s for s in doc.signals}


def said(doc) -> str:
    """What the model said, for assertion messages."""
    s = doc.sentiment or {}
    return (f"sentiment={s.get('label')}({s.get('score')}) touchpoints={tps(doc)} "
            f"signals={[(x['id'], x.get('polarity')) for x in doc.signals]}")


# --- 1. short clause pairs: one touchpoint per clause, each with its own polarity ---------------

PAIRS = [
    ("zh-noodles-waiter", "面条好吃，服务员很凶。", {"product": "positive", "service": "negative"}),
    ("zh-decor-slowdish", "环境不错，上菜太慢。", {"store": "positive", "service": "negative"}),
    ("zh-courier-goods", "快递很快，东西很差。", {"delivery": "positive", "product": "negative"}),
    ("zh-cheap-awful", "价格便宜，味道难吃。", {"price": "positive", "product": "negative"}),
    ("zh-food-parking", "菜难吃，停车倒是方便。", {"product": "negative", "location": "positive"}),
    ("zh-app-hotline", "小程序好用，客服电话打不通。", {"digital": "positive", "customer_support": "negative"}),
    ("en-burger-service", "Tasty burgers. Slow service.", {"product": "positive", "service": "negative"}),
    ("en-staff-tables", "Friendly staff. Filthy tables.", {"service": "positive", "store": "negative"}),
    ("en-cheap-coffee", "Cheap prices. Awful coffee.", {"price": "positive", "product": "negative"}),
    ("en-shipping-item", "Fast shipping. Poor quality.", {"delivery": "positive", "product": "negative"}),
    ("en-room-location", "Comfortable bed. Terrible location.", {"product": "positive", "location": "negative"}),
    ("en-app-support", "Great app. Useless support line.", {"digital": "positive", "customer_support": "negative"}),
]


@pytest.mark.parametrize("text,expected", cases(PAIRS))
def test_pair(probe_nlp, text, expected):
    doc = probe_nlp(text)
    got = tps(doc)
    for tp, pol in expected.items():
        assert got.get(tp) == pol, f"{tp}: want {pol}; {said(doc)}"


# --- 2. implicit complaints: a plainly bad fact, no opinion word --------------------------------

IMPLICIT = [
    ("zh-charged-twice", "同一笔订单扣了我两次钱。"),
    ("zh-points-zero", "攒了两年的积分今天一看变成0了。"),
    ("zh-bill-doubled", "这个月宽带账单比上个月多了一倍。"),
    ("zh-refund-tendays", "申请退款十天了，钱还没退回来。"),
    ("zh-signed-not-received", "物流显示已签收，可我根本没收到包裹。"),
    ("zh-tracking-stuck", "下单五天了，物流信息一直没更新。"),
    ("en-billed-two-times", "I was billed two times for one pizza."),
    ("en-miles-vanished", "All 40,000 of my miles disappeared overnight."),
    ("en-bill-jump", "My phone bill went from $50 to $110 this month."),
    ("en-refund-three-weeks", "Sent the jacket back three weeks ago and the refund still hasn't shown up."),
    ("en-delivered-nothing", "Tracking says delivered but there is nothing at my door."),
    ("en-parcel-two-weeks", "Ordered on the 2nd, it's the 16th now and no parcel."),
]


@pytest.mark.parametrize("text", cases(IMPLICIT))
def test_implicit(probe_nlp, text):
    doc = probe_nlp(text)
    assert doc.sentiment["label"] != "positive", said(doc)
    assert "complaint" in sigs(doc), said(doc)


# --- 3. sarcasm: praise words around a failure are not praise -----------------------------------

SARCASM = [
    ("zh-good-service-queue", "真是好服务啊，排队一个半小时才轮到我。"),
    ("zh-thanks-soup", "太感谢了，外卖送到的时候汤全洒完了。"),
    ("zh-express-week", "好一个极速发货，一个礼拜了还在仓库里躺着。"),
    ("zh-pro-support", "呵呵，客服真专业，问了三遍都答非所问。"),
    ("zh-efficiency-afternoon", "这效率真是绝了，补办一张卡花了我一整个下午。"),
    ("en-stellar-transfers", "Wow, stellar customer care. Four transfers and still no answer."),
    ("en-thanks-suitcase", "Thanks so much for losing my suitcase, again 👏"),
    ("en-express-nine-days", "Fantastic, my 'express' delivery only took nine days."),
    ("en-app-logout", "Oh great, the app logged me out for the fifth time today. Love it."),
    ("en-best-airline-delay", "Best airline ever, only a six hour delay this time 🙄"),
]


@pytest.mark.parametrize("text", cases(SARCASM))
def test_sarcasm(probe_nlp, text):
    doc = probe_nlp(text)
    assert doc.sentiment["label"] != "positive", said(doc)


# --- 4. negated and hedged set phrases -----------------------------------------------------------
# (id, text, touchpoints that must be present with one of the labels, overall labels not allowed)

NEG, POS, NEU = "negative", "positive", "neutral"
SETPHRASE = [
    ("zh-value-low", "这家店性价比真的太低了。", {"price": {NEG}}, {POS}),
    ("zh-price-not-high", "价格一点都不贵。", {"price": {POS, NEU}}, {NEG}),
    ("zh-service-not-that-bad", "服务没有我担心的那么糟糕。", {}, {NEG}),
    ("zh-smoke-smell", "房间里一股烟味。", {"store|product": {NEG}}, {POS}),
    ("zh-taste-so-so", "这道菜味道不怎么样。", {"product": {NEG}}, {POS}),
    ("zh-no-faults", "用了半年了，没出过什么毛病。", {}, {NEG}),
    ("en-value-poor", "Value for money is really poor here.", {"price": {NEG}}, {POS}),
    ("en-not-as-bad", "Honestly it was not as bad as the reviews made it sound.", {}, {NEG}),
    ("en-hallway-cigarettes", "The hallway smelled of cigarettes.", {"store|product": {NEG}}, {POS}),
    ("en-prices-not-high", "The prices are not high at all.", {"price": {POS, NEU}}, {NEG}),
    ("en-soup-not-great", "The soup was not great.", {"product": {NEG}}, {POS}),
    ("en-no-complaints-staff", "No complaints about the hotel staff.", {"service": {POS, NEU}}, {NEG}),
]


@pytest.mark.parametrize("text,want,not_overall", cases(SETPHRASE))
def test_setphrase(probe_nlp, text, want, not_overall):
    doc = probe_nlp(text)
    got = tps(doc)
    for ids, labels in want.items():
        hits = [got[t] for t in ids.split("|") if t in got]
        assert any(h in labels for h in hits), f"{ids}: want one of {sorted(labels)}; {said(doc)}"
    assert doc.sentiment["label"] not in not_overall, said(doc)


# --- 5. numbers and negation are not signals; a warning is a negative recommendation -----------
# (id, text, signals that must be absent, signal that must be present with a polarity or None)

NONSIGNAL = [
    ("zh-order-phone", "订单号4512315890，收件电话13912345678，麻烦帮我改个地址。", {"escalation"}, None),
    ("zh-ticket-number", "工单编号 2023123150 还没人处理，请尽快。", {"escalation"}, None),
    ("zh-not-12315", "我不会去12315投诉的，只是跟大家说一声。", {"escalation"}, None),
    ("zh-not-consumer-assoc", "不打算找消协，希望你们自己给个说法。", {"escalation"}, None),
    ("zh-not-switching", "我没打算换运营商，就是希望网速能快点。", {"churn_risk"}, None),
    ("zh-tell-friends-dont", "我会劝身边的朋友都别来这家。", set(), ("recommend", "negative")),
    ("zh-avoid-mine", "大家避雷这家店，踩过一次坑了。", set(), ("recommend", "negative")),
    ("zh-friend-recommended-me", "是同事推荐我来的，今天第一次来。", {"recommend"}, None),
    ("en-order-phone", "Order 5512315, please call me back on 0207 946 0321.", {"escalation"}, None),
    ("en-not-sue", "I'm not going to sue anyone, just fix my bill.", {"escalation"}, None),
    ("en-not-bbb", "I won't report this to the BBB, I just want my money back.", {"escalation"}, None),
    ("en-not-switching", "I won't be switching carriers, but the signal at home is weak.", {"churn_risk"}, None),
    ("en-not-cancel", "Not planning to cancel my membership, please just restore my points.", {"churn_risk"}, None),
    ("en-friend-recommended-me", "A coworker recommended this place to me, first visit today.", {"recommend"}, None),
    ("en-friends-stay-away", "I'll be telling all my friends to stay away from this place.", set(),
     ("recommend", "negative")),
    ("en-coworkers-dont-order", "Told my coworkers not to bother ordering from here.", set(),
     ("recommend", "negative")),
]


@pytest.mark.parametrize("text,absent,present", cases(NONSIGNAL))
def test_nonsignal(probe_nlp, text, absent, present):
    doc = probe_nlp(text)
    got = sigs(doc)
    for s in absent:
        assert s not in got, f"{s} must be absent; {said(doc)}"
    if present:
        sig, pol = present
        assert sig in got, f"{sig} must be present; {said(doc)}"
        assert got[sig].get("polarity") == pol, f"{sig} polarity must be {pol}; {said(doc)}"


# --- 6. churn without the usual phrase ----------------------------------------------------------

CHURN = [
    ("zh-number-to-unicom", "手机号已经转到联通去了。"),
    ("zh-salary-card-moved", "工资卡下个月就换到招行去了。"),
    ("zh-broadband-no-renew", "宽带到期我就不续了。"),
    ("zh-order-elsewhere", "以后外卖都点别家了。"),
    ("zh-number-telecom", "号码已经转去电信了，省心。"),
    ("en-ported-verizon", "Just ported my line over to Verizon."),
    ("en-credit-union", "Moving my savings and checking to a credit union next week."),
    ("en-lyft-from-now", "Guess it's Lyft from now on."),
    ("en-close-account-q", "How do I close my account with you?"),
    ("en-mortgage-moved", "Already transferred my mortgage to another lender."),
]


@pytest.mark.parametrize("text", cases(CHURN))
def test_churn(probe_nlp, text):
    doc = probe_nlp(text)
    assert "churn_risk" in sigs(doc), said(doc)


# --- 8. a plain question is not a complaint -----------------------------------------------------

QUESTION = [
    ("zh-sunday-hours", "请问你们周日几点开门？"),
    ("zh-points-gift", "会员积分可以兑换什么礼品？"),
    ("zh-black-color", "这款手机有黑色的吗？"),
    ("zh-invoice", "请问可以开发票吗"),
    ("zh-deliver-campus", "外卖能送到大学城吗？"),
    ("en-ship-canada", "Do you ship to Canada?"),
    ("en-kitchen-close", "What time does the kitchen close on Fridays?"),
    ("en-parking-near", "Is there parking near the hotel?"),
    ("en-apple-pay", "Can I pay with Apple Pay in store?"),
    ("en-second-card", "How do I add a second card to my account?"),
]


@pytest.mark.parametrize("text", cases(QUESTION))
def test_question(probe_nlp, text):
    doc = probe_nlp(text)
    assert "complaint" not in sigs(doc), said(doc)
    assert doc.sentiment["label"] != "negative", said(doc)


# --- controls: what must still work -------------------------------------------------------------
# (id, text, overall label, signal that must be present or None, its polarity or None)

CONTROL = [
    ("zh-praise", "烤鸭皮脆肉嫩，服务员也很热情，下次还来。", POS, None, None),
    ("zh-praise-delivery", "快递第二天就到了，包装也很用心，很满意。", POS, None, None),
    ("zh-complaint", "送餐太慢了，菜都凉了，太差了。", NEG, "complaint", None),
    ("zh-escalation", "我已经向12315投诉你们了。", NEG, "escalation", None),
    ("zh-churn", "服务这么差，再也不来了。", NEG, "churn_risk", None),
    ("zh-recommend", "强烈推荐他家的酸菜鱼，特别好吃。", POS, "recommend", "positive"),
    ("en-praise", "Lovely dinner, the staff were so friendly. We'll be back.", POS, None, None),
    ("en-praise-app", "The new app is fantastic, paying my bill took ten seconds.", POS, None, None),
    ("en-complaint", "The waiter was rude and the pasta was cold. Terrible.", NEG, "complaint", None),
    ("en-escalation", "I have filed a complaint with the Better Business Bureau.", NEG, "escalation", None),
    ("en-churn", "Awful service, we will never come back.", NEG, "churn_risk", None),
    ("en-recommend", "Highly recommend the tasting menu, every dish was wonderful.", POS, "recommend", "positive"),
]


@pytest.mark.parametrize("text,label,signal,polarity", cases(CONTROL))
def test_control(probe_nlp, text, label, signal, polarity):
    doc = probe_nlp(text)
    assert doc.sentiment["label"] == label, said(doc)
    if signal:
        got = sigs(doc)
        assert signal in got, f"{signal} must be present; {said(doc)}"
        if polarity:
            assert got[signal].get("polarity") == polarity, f"polarity must be {polarity}; {said(doc)}"


# --- 7. label / score consistency ---------------------------------------------------------------
# Every sentiment record (overall, per touchpoint, per theme): a negative label has score < 0, a
# positive label score > 0, a neutral label no strong score (|score| <= 0.5); confidence in [0, 1].
# Dedicated borderline texts (mixed, lukewarm, balanced) plus an invariant over every probe text.

CONSISTENCY = [
    ("zh-lukewarm", "还行吧，挺好的。"),
    ("zh-balanced", "味道不错，价格偏贵，中规中矩吧。"),
    ("zh-peak-end-neg", "菜很好吃，但是服务员一直催我们走，体验很差。"),
    ("zh-forgiving", "下雨天送餐不容易，理解，不过汤到的时候已经凉透了。"),
    ("en-just-ok", "just ok"),
    ("en-balanced", "Food was good, service was slow. Average overall."),
    ("en-peak-end-pos", "Check-in took forever, but the room and the view made up for it."),
    ("en-could-be-better", "It could have been better, I suppose."),
]

EPS = 0.0
NEUTRAL_MAX = 0.5


def inconsistencies(doc) -> list:
    recs = [("overall", doc.sentiment)]
    recs += [(f"touchpoint {t['id']}", t["sentiment"]) for t in doc.touchpoints]
    recs += [(f"theme {t['id']}", t.get("sentiment")) for t in doc.themes]
    bad = []
    for where, s in recs:
        if not s:
            continue
        lab, sc, conf = s["label"], s["score"], s["confidence"]
        if (lab == "negative" and not sc < EPS) or (lab == "positive" and not sc > -EPS) \
                or (lab == "neutral" and abs(sc) > NEUTRAL_MAX) or not 0.0 <= conf <= 1.0:
            bad.append(f"{where}: {lab} score={sc} confidence={conf}")
    return bad


@pytest.mark.parametrize("text", cases(CONSISTENCY))
def test_consistency(probe_nlp, text):
    doc = probe_nlp(text)
    assert doc.sentiment is not None
    assert not inconsistencies(doc), inconsistencies(doc)


ALL_TEXTS = ([p[1] for p in PAIRS] + [p[1] for p in IMPLICIT] + [p[1] for p in SARCASM]
             + [p[1] for p in SETPHRASE] + [p[1] for p in NONSIGNAL] + [p[1] for p in CHURN]
             + [p[1] for p in QUESTION] + [p[1] for p in CONTROL] + [p[1] for p in CONSISTENCY])


@pytest.mark.parametrize("lang", ["zh", "en"], ids=["all-zh", "all-en"])
def test_consistency_all(probe_nlp, lang):
    texts = [t for t in ALL_TEXTS if any("\u4e00" <= ch <= "\u9fff" for ch in t) == (lang == "zh")]
    assert len(texts) >= 40
    bad = {}
    for doc in probe_nlp.pipe(texts) if hasattr(probe_nlp, "pipe") else map(probe_nlp, texts):
        problems = inconsistencies(doc)
        if problems:
            bad[doc.text] = problems
    assert not bad, bad
