"""PII redaction in both languages: masked, same length, and no false alarms on order
numbers, prices and dates."""

import pytest

from voc.privacy import find_pii, redact


@pytest.mark.parametrize("text,kinds", [
    ("客服电话打了十次没人接，我的手机13812345678，快回电", ["phone"]),
    ("联系我 +86 139-1234-5678 或者 010-62345678", ["phone", "phone"]),
    ("香港號碼 9123 4567 請回覆", ["phone"]),
    ("台灣手機 0912-345-678 謝謝", ["phone"]),
    ("Call me at (415) 555-2671 or +44 20 7946 0958", ["phone", "phone"]),
    ("邮箱 zhang.san@example.com 收不到发票", ["email"]),
    ("Email me: jane_doe+voc@mail.example.org", ["email"]),
    ("身份证号11010519491231002X被泄露了", ["id_card"]),
    ("扣款的卡号是 6222 0202 0011 2233 445", []),          # fails the Luhn check: not a card number
    ("My card 4111 1111 1111 1111 was charged twice", ["bank_card"]),
    ("银行卡4111111111111111被盗刷", ["bank_card"]),
])
def test_finds_personal_data(text, kinds):
    assert [k for _, _, k in find_pii(text)] == kinds


@pytest.mark.parametrize("text", [
    "订单号是8123456789，三天了还没发货",          # 10-digit order number
    "Order #123456 arrived late",
    "一共花了12315元",                               # a price that is also the regulator's hotline number
    "2026-11-30 下单，12月3日才到",
    "the bill doubled from $45.99 to $91.98",
    "身份证号110105194912310021不对",                # wrong check digit: not an ID
])
def test_leaves_other_numbers_alone(text):
    assert find_pii(text) == []


def test_redaction_keeps_length_and_offsets():
    text = "服务员态度很差，电话13812345678，邮箱 a.b@example.com，再也不来了"
    out, spans = redact(text)
    assert len(out) == len(text)
    assert "13812345678" not in out and "a.b@example.com" not in out
    assert out[:7] == text[:7] and out.endswith("再也不来了")
    assert out[10:21] == "*" * 11
    assert [k for _, _, k in spans] == ["phone", "email"]


def test_nothing_to_redact_returns_the_same_text():
    text = "The waiter was rude."
    assert redact(text) == (text, [])
