"""Write demo_posts.jsonl: 3,000 made-up customer posts for the README's demo of
`voc score` → `voc rollup` → `voc report`.

    python data/samples/make_demo.py

Every phrase below was written by the voc developers (no customer's words, no personal
data). A restaurant-and-delivery brand over 12 weeks: posts from four channels, repeat
customers (for journeys), reach (reposts), a brand and a city; delivery complaints jump in
week 9 (the alert), service is the weak touchpoint. Deterministic (seed 7).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

PHRASES = {
    "product": {
        "zh": (["菜品味道很好", "牛肉面很好吃，分量也足", "饮料很新鲜", "甜品做得很精致"],
               ["菜太咸了", "米饭是夹生的", "汤是凉的，味道一般", "分量越来越少了"]),
        "en": (["the noodles were delicious", "great food, generous portions", "the coffee was excellent"],
               ["the soup was cold and bland", "my burger was overcooked", "portions keep getting smaller"]),
    },
    "service": {
        "zh": (["服务员很热情", "店员态度很好，上菜也快"],
               ["服务员态度太差了", "叫了三次服务员都没人理", "店员一直在玩手机，爱答不理"]),
        "en": (["the staff were friendly and quick", "our waiter was lovely"],
               ["the waiter was rude", "staff ignored us for twenty minutes", "the cashier was really unfriendly"]),
    },
    "delivery": {
        "zh": (["外卖送得很快", "骑手很准时，包装也好"],
               ["外卖等了一个半小时才到", "送餐太慢了，汤都洒了", "骑手送错地址还不道歉"]),
        "en": (["delivery was fast", "the courier was right on time"],
               ["delivery took two hours", "the order arrived cold and late", "the rider left it at the wrong door"]),
    },
    "price": {
        "zh": (["价格实惠，性价比高", "套餐很划算"], ["价格太贵了", "性价比很低"]),
        "en": (["good value for money", "prices are fair"], ["way too expensive for what you get", "overpriced"]),
    },
    "store": {
        "zh": (["店里环境很干净", "装修很舒服"], ["店里太吵了", "桌子很脏，地上都是油"]),
        "en": (["the place is clean and cozy", "nice quiet room"], ["the dining room was filthy", "far too noisy inside"]),
    },
    "digital": {
        "zh": (["小程序点餐很方便"], ["APP 一直闪退，下不了单", "小程序付款失败了三次"]),
        "en": (["ordering in the app is easy"], ["the app keeps crashing at checkout", "the website would not take my card"]),
    },
    "membership": {
        "zh": (["会员积分很好用"], ["会员积分莫名其妙清零了"]),
        "en": (["the loyalty points add up quickly"], ["my loyalty points expired without notice"]),
    },
}
ENDINGS = {"zh": (["下次还会再来", "推荐给朋友了", ""], ["再也不来了", "差评", ""]),
           "en": (["will be back", "recommended it to friends", ""], ["never again", "not coming back", ""])}
NEG_RATE = {"product": 0.25, "service": 0.55, "delivery": 0.3, "price": 0.35, "store": 0.2, "digital": 0.45,
            "membership": 0.5}
WEIGHT = {"product": 5, "service": 4, "delivery": 4, "price": 2, "store": 2, "digital": 1.5, "membership": 1}


def post(rng: random.Random, lang: str, week: int):
    labels = list(WEIGHT)
    picked = set()
    while len(picked) < rng.choice([1, 1, 2, 2, 3]):
        picked.add(rng.choices(labels, [WEIGHT[x] for x in labels])[0])
    negs = 0
    parts = []
    for tp in sorted(picked, key=lambda x: rng.random()):
        rate = NEG_RATE[tp] + (0.45 if tp == "delivery" and week == 8 else 0)
        neg = rng.random() < rate
        negs += neg
        parts.append(rng.choice(PHRASES[tp][lang][neg]))
    sep, join = ("，", "。") if lang == "zh" else (", ", ". ")
    mood = negs * 2 > len(parts)
    end = rng.choice(ENDINGS[lang][mood])
    text = sep.join(parts) + (sep + end if end else "")
    return text + ("。" if lang == "zh" else ".")


def main(out: Path = Path(__file__).with_name("demo_posts.jsonl"), n: int = 3000) -> None:
    rng = random.Random(7)
    start = datetime(2026, 8, 31)
    channels = ["weibo", "dianping", "app_review", "twitter"]
    rows = []
    for i in range(n):
        week = rng.randrange(12)
        t = start + timedelta(weeks=week, seconds=rng.randrange(7 * 86400))
        channel = rng.choice(channels)
        lang = "en" if channel == "twitter" or rng.random() < 0.15 else "zh"
        rows.append({"id": f"demo-{i:05d}", "text": post(rng, lang, week), "time": t.isoformat(timespec="minutes"),
                     "channel": channel, "customer": f"c{int(rng.paretovariate(1.3) * 10) % 900:03d}",
                     "reposts": int(rng.paretovariate(1.2)) - 1, "city": rng.choice(["上海", "北京", "深圳", "香港"])})
    rows.sort(key=lambda r: r["time"])
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} posts to {out}")
    try:  # the same posts as Parquet, for the Spark example (docs/spark.md)
        import pyarrow.json as pj
        import pyarrow.parquet as pq

        pq.write_table(pj.read_json(str(out)), str(Path(out).with_suffix(".parquet")), compression="zstd")
    except ImportError:
        pass


if __name__ == "__main__":
    main()
