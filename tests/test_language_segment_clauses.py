import pytest

from voc.clauses import split_clauses
from voc.language import detect_language
from voc.segment import Segmenter, tokenize_en


@pytest.mark.parametrize("text,lang", [
    ("这家店很好", "zh"),
    ("這家店很好", "zh"),
    ("wifi 太慢了", "zh"),
    ("The food was great", "en"),
    ("app 闪退 and the login page keeps crashing 真的", "mixed"),
    ("Привет мир", "other"),
    ("12345 😀", "other"),
    ("", "other"),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_segmenter_offsets_point_into_text():
    text = "外卖小哥送得太慢了,wifi也不好😡"
    toks = Segmenter()(text, "zh")
    assert toks, "no tokens"
    for word, s, e in toks:
        assert text[s:e] == word
    assert "wifi" in [t[0] for t in toks]
    assert "😡" in [t[0] for t in toks]


def test_user_dict_keeps_domain_words_whole(tmp_path):
    ud = tmp_path / "ud.txt"
    ud.write_text("外卖小哥 20000\n", encoding="utf-8")
    words = [t[0] for t in Segmenter(ud)("外卖小哥很准时", "zh")]
    assert "外卖小哥" in words


def test_segmenter_has_no_global_state(tmp_path):
    import jieba

    ud = tmp_path / "ud.txt"
    ud.write_text("怪词汇 20000\n", encoding="utf-8")
    Segmenter(ud)("怪词汇", "zh")
    assert "怪词汇" not in jieba.dt.FREQ


@pytest.mark.parametrize("text,tokens", [
    ("the waiter wasn't nice!", ["the", "waiter", "wasn't", "nice", "!"]),
    ("paid $12.50 for 2 coffees", ["paid", "12.50", "for", "2", "coffees"]),
])
def test_tokenize_en(text, tokens):
    assert [t for t, _, _ in tokenize_en(text)] == tokens


@pytest.mark.parametrize("text,clauses", [
    ("味道不错,但是送得太慢了!", [("味道不错", False), ("但是送得太慢了", True)]),
    ("the food was great but the waiter was rude.", [("the food was great", False), ("but the waiter was rude", True)]),
    ("服务员,态度很差。环境还可以", [("服务员,态度很差", False), ("环境还可以", False)]),
    ("好,很好。", [("好,很好", False)]),
    ("I love it. however, the app keeps crashing", [("I love it", False), ("however, the app keeps crashing", True)]),
    ("不过如此", [("不过如此", True)]),
    ("", []),
])
def test_split_clauses(text, clauses):
    assert [(text[a:b], k) for a, b, k in split_clauses(text)] == clauses
