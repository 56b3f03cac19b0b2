"""Relevance judgments: the majority vote, agreement, and the evaluation sets derived from them."""
import json
import shutil
from pathlib import Path

import pytest

from kb.evaluation import judgments
from kb.cli import cli

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def entry(key="q", first=("a",), second=None, third=None):
    second = second if second is not None else {"a": 2, "b": 2, "c": 1}
    third = third if third is not None else {"a": 0, "b": 2, "c": 2}
    return {"text": key, "first": list(first), "second": second, "third": third}


def write(tmp_path, entries) -> Path:
    path = tmp_path / "judgments.json"
    path.write_text(json.dumps({"queries": entries}), encoding="utf-8")
    return path


def test_majority_of_three_judges(tmp_path):
    [judged] = judgments.load(write(tmp_path, [entry()]))
    # a: first + second; b: second + third; c: only third says 2 (second's 1 is no vote)
    assert judged.relevant == ["a", "b"]
    [judged] = judgments.load(write(tmp_path, [entry(first=(), second={"a": 2, "b": 1},
                                                     third={"a": 1, "b": 1})]))
    assert judged.relevant == []  # one vote is not enough


def test_kappa():
    assert judgments.kappa([(1, 1), (0, 0), (2, 2)]) == 1.0
    assert judgments.kappa([(1, 0), (0, 1)]) == -1.0
    # 3 of 4 agree, chance agreement 0.5: kappa 0.5
    assert judgments.kappa([(True, True), (False, False), (True, True), (True, False)]) == 0.5


def test_agreement_counts_what_the_vote_changed(tmp_path):
    # a stays (first, second), b is added (second, third), c is removed (first only)
    judged = judgments.load(write(tmp_path, [entry(first=("a", "c"),
                                                   third={"a": 0, "b": 2, "c": 1})]))
    report = judgments.agreement(judged)
    assert report["pairs"] == 3
    assert (report["first judge's relevant kept"], report["added"], report["removed"]) == (1, 1, 1)


@pytest.mark.parametrize("bad, message", [
    (entry(second={"a": 3, "b": 0}, third={"a": 0, "b": 0}), "grades must be 0, 1 or 2, not 3"),
    (entry(second={"a": True}, third={"a": 2}), "grades must be 0, 1 or 2, not True"),
    (entry(second={"a": "2"}, third={"a": None}), "not '2', None"),
    (entry(first=[["a"]]), "'first' must be a list of practice IDs"),
    ("not an object", "entry 1 is not an object"),
    (entry(second={"a": 2}, third={"a": 2, "b": 0}), "judged different candidates"),
    (entry(first=("z",)), "the pool lacks the first judge's ['z']"),
    ({"text": "q", "first": ["a"], "second": {"a": 2}}, "needs the grades of second and third"),
    ({"first": ["a"], "second": {}, "third": {}}, "needs a text or id"),
])
def test_bad_judgments_are_refused(tmp_path, bad, message):
    with pytest.raises(ValueError, match="entry 1") as exc:
        judgments.load(write(tmp_path, [bad]))
    assert message in str(exc.value)


def test_an_entry_judged_twice_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"entry 2 \('q'\): judged twice"):
        judgments.load(write(tmp_path, [entry(), entry()]))


def test_unreadable_judgments(tmp_path):
    path = tmp_path / "j.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot read judgments"):
        judgments.load(path)
    for text in ("{}", "[]", '{"queries": []}'):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match="no 'queries' or 'items'"):
            judgments.load(path)


def test_adjudicated_set_rewrites_only_the_relevant_lists(tmp_path):
    eval_set = tmp_path / "search.toml"
    eval_set.write_text('# header\n\n[[query]]\ntext = "q"\nlang = "lv"\nneed = "housing"\n'
                        'relevant = ["a", "c"]\n', encoding="utf-8")
    judged = judgments.load(write(tmp_path, [entry()]))
    text = judgments.adjudicated_set(eval_set, judged, "search")
    assert text == ('# header\n\n[[query]]\ntext = "q"\nlang = "lv"\nneed = "housing"\n'
                    'relevant = ["a", "b"]\n')
    unjudged = judgments.load(write(tmp_path, [entry(key="other")]))
    with pytest.raises(ValueError, match="no judgments for 'q'"):
        judgments.adjudicated_set(eval_set, unjudged, "search")
    orphan = judgments.load(write(tmp_path, [entry(), entry(key="other")]))
    with pytest.raises(ValueError, match=r"judgments for entries it does not have: \['other'\]"):
        judgments.adjudicated_set(eval_set, orphan, "search")
    nobody = judgments.load(write(tmp_path, [entry(first=(), second={"a": 1}, third={"a": 2})]))
    with pytest.raises(ValueError, match="no practice is relevant"):
        judgments.adjudicated_set(eval_set, nobody, "search")


def test_the_evaluation_sets_are_derived_from_the_judgments(runner):
    result = runner.invoke(cli, ["adjudicate", "--check"])
    assert result.exit_code == 0, result.output
    assert "Up to date" in result.output and "kappa relevant (second, third)" in result.output


def test_a_hand_edited_evaluation_set_is_caught_and_rewritten(runner, tmp_path, monkeypatch):
    curation = tmp_path / "corpus"
    shutil.copytree(CORPUS / "eval", curation / "eval")
    monkeypatch.setenv("KB_CURATION_DIR", str(curation))
    original = (curation / "eval" / "recommend.toml").read_text(encoding="utf-8")
    edited = original.replace('id = "area-1-01"\nrelevant = [', 'id = "area-1-01"\nrelevant = ["tandem", ', 1)
    assert edited != original
    (curation / "eval" / "recommend.toml").write_text(edited, encoding="utf-8")
    result = runner.invoke(cli, ["adjudicate", "--check"])
    assert result.exit_code == 1 and "recommend.toml differ from the judgments" in result.output
    assert (curation / "eval" / "recommend.toml").read_text(encoding="utf-8") == edited
    result = runner.invoke(cli, ["adjudicate"])
    assert result.exit_code == 0 and "Rewrote recommend.toml" in result.output
    assert (curation / "eval" / "recommend.toml").read_text(encoding="utf-8") == original


@pytest.mark.parametrize("content, message", [
    ('[[query]]\ntext = "q"\nnote = "keep me"\nrelevant = ["a"]\n', "(not note)"),
    ('[[queries]]\ntext = "q"\nrelevant = ["a"]\n', "expected only [[query]] entries"),
    ('title = "x"\n[[query]]\ntext = "q"\nrelevant = ["a"]\n', "expected only [[query]] entries"),
    ('# header\n[[query]]\n# why\ntext = "q"\nrelevant = ["a"]\n', "comments below the header"),
    ('[[query]]\ntext = 1\nrelevant = ["a"]\n', "needs a 'text'"),
    ("[[query]\n", "cannot read the evaluation set"),
])
def test_an_evaluation_set_kb_could_not_write_back_is_refused(tmp_path, content, message):
    eval_set = tmp_path / "search.toml"
    eval_set.write_text(content, encoding="utf-8")
    judged = judgments.load(write(tmp_path, [entry()]))
    with pytest.raises(ValueError) as exc:
        judgments.adjudicated_set(eval_set, judged, "search")
    assert message in str(exc.value)
    assert eval_set.read_text(encoding="utf-8") == content


def test_a_missing_evaluation_set_is_a_clear_error(tmp_path):
    judged = judgments.load(write(tmp_path, [entry()]))
    with pytest.raises(ValueError, match="cannot read the evaluation set"):
        judgments.adjudicated_set(tmp_path / "missing.toml", judged, "search")


def test_written_sets_are_valid_toml_for_any_text(tmp_path):
    import tomllib
    odd = 'quote " backslash \\ tab \t del \x7f ā'
    eval_set = tmp_path / "search.toml"
    eval_set.write_text("[[query]]\ntext = " + json.dumps(odd).replace("\\u007f", "\\u007F")
                        + '\nrelevant = ["a"]\n', encoding="utf-8")
    assert tomllib.loads(eval_set.read_text(encoding="utf-8"))["query"][0]["text"] == odd
    judged = judgments.load(write(tmp_path, [entry(key=odd)]))
    written = judgments.adjudicated_set(eval_set, judged, "search")
    assert tomllib.loads(written)["query"][0] == {"text": odd, "relevant": ["a", "b"]}
