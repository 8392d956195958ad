import pytest

from voc.errors import ModelError
from voc.lexicon import Lexicon


@pytest.fixture
def lex():
    return Lexicon([("service", "en", "waiter"), ("store", "zh", "环境"), ("churn_risk", "en", "won't be back"),
                    ("repurchase", "en", "be back"), ("delivery", "zh", "外卖小哥")])


@pytest.mark.parametrize("tokens,expected", [
    (["the", "waiter"], [(1, 2, "service")]),
    (["the", "waiters"], [(1, 2, "service")]),                      # plural fallback
    (["we", "won't", "be", "back"], [(1, 4, "churn_risk")]),        # longest match wins
    (["we", "will", "be", "back"], [(2, 4, "repurchase")]),
    (["外卖", "小哥", "环境"], [(0, 2, "delivery"), (2, 3, "store")]),  # multi-token Chinese term
    (["nothing", "here"], []),
])
def test_match(lex, tokens, expected):
    assert lex.match(tokens) == expected


def test_match_all_keeps_overlaps(lex):
    assert {m[2] for m in lex.match_all(["won't", "be", "back"])} == {"churn_risk", "repurchase"}


def test_tsv_round_trip(lex, tmp_path):
    lex.to_tsv(tmp_path / "l.tsv")
    assert Lexicon.from_tsv(tmp_path / "l.tsv").rows == lex.rows


def test_bad_tsv_names_the_line(tmp_path):
    f = tmp_path / "bad.tsv"
    f.write_text("service\ten\twaiter\nbroken line\n", encoding="utf-8")
    with pytest.raises(ModelError, match="bad.tsv:2"):
        Lexicon.from_tsv(f)
