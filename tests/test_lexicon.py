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


@pytest.mark.parametrize("text,word,negated", [
    ("no complaints about the room, pretty clean", "clean", False),   # the comma ends the scope
    ("no complaints about the room, pretty clean", "complaints", True),
    ("the room was not clean at all", "clean", True),
    ("never had one single problem", "problem", True),                # English scope: most of a clause
    ("not the best - still great", "great", False),
    ("菜不好吃", "好吃", True),
    ("不是很贵，好吃", "好吃", False),
])
def test_negation_scope_stops_at_punctuation(text, word, negated):
    from voc import components as C
    from voc.document import Document

    lexicons = {"polarity": Lexicon([("pos", "en", "clean"), ("neg", "en", "complaints"), ("neg", "en", "problem"),
                                     ("pos", "en", "great"), ("pos", "zh", "好吃"), ("neg", "zh", "贵")])}
    doc = Document(text)
    for stage in (C.Normalizer(), C.LanguageDetector(), C.Tokenizer(), C.ClauseSplitter(), C.LexiconTagger(lexicons)):
        doc = stage(doc)
    hits = {doc.tokens[m[0]][0]: m[4] for c in doc.clauses for m in c.matches if m[2] == "polarity"}
    assert hits[word] is negated
    feats = {f for c in doc.clauses for f in C.Featurizer(None).clause_strings(doc, c)}
    assert (("w=¬" + word) in feats) is negated
