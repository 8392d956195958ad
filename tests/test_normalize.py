import pytest

from voc.normalize import (DEFAULT_STEPS, TraditionalToSimplified, lowercase, make_step, mask_mentions, mask_urls,
                           nfkc, normalize, strip_hashtag_marks, unescape_html)


@pytest.mark.parametrize("text_in,text_out", [
    ("ｗｉｆｉ太慢了", "wifi太慢了"),                       # full-width latin
    ("太差了！！", "太差了!!"),                              # full-width punctuation
    ("价格１２８元", "价格128元"),                            # full-width digits
    ("won’t", "won't"),                                      # curly apostrophe
    ("好吃😋", "好吃😋"),                                    # emoji kept
    ("The food was great", "The food was great"),            # ascii unchanged
    ("ﬁne", "ﬁne"),                                          # ligature would change length: kept
    ("", ""),
])
def test_nfkc(text_in, text_out):
    assert nfkc(text_in) == text_out


@pytest.mark.parametrize("text_in,text_out", [
    ("WiFi APP", "wifi app"),
    ("İstanbul", "İstanbul"[0] + "stanbul"),                 # dotted capital I would grow: kept
    ("服务ABC", "服务abc"),
])
def test_lowercase(text_in, text_out):
    assert lowercase(text_in) == text_out


@pytest.mark.parametrize("text_in,text_out", [
    ("這家餐廳的服務態度很差", "这家餐厅的服务态度很差"),
    ("頭髮亂糟糟，價格實惠", "头发乱糟糟，价格实惠"),
    ("这家店很好", "这家店很好"),                              # simplified unchanged
    ("The food", "The food"),                                  # english unchanged
    ("wifi 還不錯", "wifi 还不错"),                             # mixed
])
def test_traditional_to_simplified(text_in, text_out):
    assert TraditionalToSimplified()(text_in) == text_out


@pytest.mark.parametrize("fn,text_in,text_out", [
    (mask_urls, "see https://t.co/abc now", "see " + " " * 16 + " now"),
    (mask_urls, "no link here", "no link here"),
    (mask_mentions, "@united thanks", " " * 7 + " thanks"),
    (mask_mentions, "mail me at a@b.com", "mail me at a@b.com"),
    (strip_hashtag_marks, "#外卖吐槽# 太慢", " 外卖吐槽  太慢"),
    (strip_hashtag_marks, "so bad #fail", "so bad  fail"),
    (unescape_html, "A &amp; B", "A &" + " " * 4 + " B"),
    (unescape_html, "AT&T", "AT&T"),
])
def test_masking_steps(fn, text_in, text_out):
    assert fn(text_in) == text_out


@pytest.mark.parametrize("text", [
    "這家餐廳的服務態度很差！！@老板 https://t.co/x #吐槽#",
    "ＡＰＰ闪退😡 &amp; won’t load",
    "İstanbul ﬁne café ß",
    "",
    "   ",
])
def test_every_step_keeps_length(text):
    steps = [make_step(s) for s in DEFAULT_STEPS]
    for step in steps:
        assert len(step(text)) == len(text)
    assert len(normalize(text, steps)) == len(text)


def test_unknown_step_lists_valid_ones():
    from voc.errors import ModelError

    with pytest.raises(ModelError, match="valid steps"):
        make_step("stem")
