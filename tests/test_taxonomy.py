"""Taxonomy files: the default one is valid, and every kind of mistake gets its own code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from voc.cli import main
from voc.components import STAGE_PRIORS
from voc.taxonomy import TaxonomyError, load_taxonomy, taxonomy_from_dict

REPO = Path(__file__).resolve().parents[1]


def test_default_taxonomy_is_valid_and_complete():
    tax = load_taxonomy(REPO / "data/taxonomy.yaml")
    assert tax.ids("touchpoints")[:3] == ["product", "price", "service"]
    assert len(tax.ids("themes")) == 10 and len(tax.ids("stages")) == 5 and len(tax.ids("signals")) == 5
    assert tax.stage_priors() == STAGE_PRIORS
    assert any(r[0] == "service" and r[2] == "服务员" for r in tax.seed_rows("touchpoints"))


@pytest.mark.parametrize("name", ["airline", "car", "restaurant"])
def test_example_taxonomies_are_valid(name):
    tax = load_taxonomy(REPO / f"data/taxonomies/{name}.yaml")
    assert tax.ids("touchpoints") and not tax.warnings


def _tp(*entries, **top):
    return {"touchpoints": list(entries), **top}


@pytest.mark.parametrize("data, code, where", [
    (_tp({"id": "a"}, {"id": "a"}), "E503", "touchpoints[1] (a)"),
    (_tp({"id": "a", "parent": "zz"}), "E504", "touchpoints (a).parent"),
    (_tp({"id": "a", "parent": "b"}, {"id": "b", "parent": "a"}), "E505", "touchpoints (a).parent"),
    (_tp({"id": "a", "parent": "b"}, {"id": "b", "parent": "c"}, {"id": "c"}), "E506", "touchpoints (a).parent"),
    (_tp({"id": "a", "rules": {"en": ["(unclosed"]}}), "E507", "touchpoints[0] (a).rules.en[0]"),
    (_tp({"id": "a", "seeds": {"fr": ["x"]}}), "E507", "touchpoints[0] (a).seeds.fr"),
    (_tp({"id": "a", "seeds": {"en": [""]}}), "E507", "touchpoints[0] (a).seeds.en"),
    (_tp({"id": "has space"}), "E502", "touchpoints[0].id"),
    (_tp({"en": "no id"}), "E502", "touchpoints[0].id"),
    (_tp({"id": "a", "colour": "red"}), "E502", "touchpoints[0] (a).colour"),
    (_tp({"id": "a", "stage": "nowhere"}), "E508", "touchpoints (a).stage"),
    ({"themes": [{"id": "t"}]}, "E502", "touchpoints"),
    (_tp({"id": "a"}, format=2), "E502", "format"),
    (_tp({"id": "a"}, extra=1), "E502", "extra"),
    ({"touchpoints": {"id": "a"}}, "E502", "touchpoints"),
    (_tp({"id": "a"}, lexicons={"touchpoints": "missing.tsv"}), "E501", "lexicons.touchpoints"),
])
def test_each_mistake_has_a_code_and_a_place(data, code, where, tmp_path):
    with pytest.raises(TaxonomyError) as e:
        taxonomy_from_dict(data, tmp_path / "t.yaml")
    assert (code, where) in [(c, w) for c, w, _ in e.value.problems]
    assert where in str(e.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(TaxonomyError) as e:
        taxonomy_from_dict(_tp({"id": "a"}, {"id": "a"}, {"id": "b", "parent": "nope"}, {"id": "bad id"}))
    assert sorted(c for c, _, _ in e.value.problems) == ["E502", "E503", "E504"]


def test_file_level_errors(tmp_path):
    with pytest.raises(TaxonomyError) as e:
        load_taxonomy(tmp_path / "nope.yaml")
    assert e.value.code == "E501"
    bad = tmp_path / "bad.yaml"
    bad.write_text("touchpoints: [\n  - id: a", encoding="utf-8")
    with pytest.raises(TaxonomyError) as e:
        load_taxonomy(bad)
    assert e.value.code == "E501" and "YAML" in str(e.value)


def test_aspects_alias_traditional_seeds_and_two_levels():
    tax = taxonomy_from_dict({"aspects": [
        {"id": "flight", "en": "Flight", "zh": "航班"},
        {"id": "delay", "en": "Delay", "zh": "延誤", "parent": "flight", "seeds": {"zh": ["延誤", "誤點"], "en": ["Late"]}},
    ]})
    assert tax.ids("touchpoints") == ["flight", "delay"]
    assert tax.parents() == {"delay": "flight"}
    assert {t for _, _, t in tax.seed_rows("touchpoints")} == {"延误", "误点", "late"}


def test_missing_names_are_warnings_not_errors():
    tax = taxonomy_from_dict(_tp({"id": "a", "en": "A"}))
    assert tax.warnings and "no zh name" in tax.warnings[0]


def test_lexicon_file_with_unknown_ids_is_refused(tmp_path):
    (tmp_path / "lex.tsv").write_text("a\ten\tfoo\nb\ten\tbar\n", encoding="utf-8")
    with pytest.raises(TaxonomyError) as e:
        taxonomy_from_dict(_tp({"id": "a"}, lexicons={"touchpoints": "lex.tsv"}), tmp_path / "t.yaml")
    assert e.value.code == "E507" and "b" in str(e.value)


def test_cli_taxonomy_check(tmp_path, capsys):
    assert main(["taxonomy", "check", str(REPO / "data/taxonomies/airline.yaml")]) == 0
    out = capsys.readouterr().out
    assert "ok: taxonomy 'airline'" in out and "late_flight < flight" in out
    bad = tmp_path / "t.yaml"
    bad.write_text(yaml.safe_dump(_tp({"id": "a"}, {"id": "a"})), encoding="utf-8")
    assert main(["taxonomy", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "E503" in err and "touchpoints[1] (a)" in err


def test_cli_taxonomy_without_action_is_a_usage_error(capsys):
    assert main(["taxonomy"]) == 2
    assert "voc taxonomy check FILE" in capsys.readouterr().err
