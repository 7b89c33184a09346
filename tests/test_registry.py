import pytest

from taskdeck.errors import DuplicateNameError, UnknownNameError
from taskdeck.registry import Registry


def test_duplicates_are_refused_naming_both_plugins():
    reg = Registry("task")
    reg.add("sentiment", object(), owner="builtin")
    with pytest.raises(DuplicateNameError, match="'builtin' and by plugin 'thirdparty'"):
        reg.add("sentiment", object(), owner="thirdparty")


def test_unknown_name_lists_choices_and_nearest_match():
    reg = Registry("task")
    for name in ("sentiment", "ner", "qa"):
        reg.add(name, object())
    with pytest.raises(UnknownNameError) as err:
        reg.get("sentimnt")
    msg = str(err.value)
    assert "did you mean 'sentiment'" in msg
    assert "choices: ner, qa, sentiment" in msg


def test_unknown_name_without_near_match_still_lists_choices():
    reg = Registry("backend")
    reg.add("llama_cpp", object())
    msg = str(pytest.raises(UnknownNameError, reg.get, "zzz").value)
    assert "did you mean" not in msg and "llama_cpp" in msg


def test_aliases_answer_for_their_name_and_are_not_listed():
    reg = Registry("task")
    qa = object()
    reg.add("qa", qa, owner="builtin")
    reg.add_alias("question-answering", "qa", owner="builtin")
    assert reg.get("question-answering") is qa and "question-answering" in reg
    assert reg.names() == ["qa"] and reg.aliases("qa") == ["question-answering"] == reg.aliases()
    assert reg.canonical("question-answering") == "qa" and reg.canonical("qa") == "qa"
    with pytest.raises(DuplicateNameError, match="registered twice"):
        reg.add("question-answering", object(), owner="thirdparty")  # an alias is taken like a name
    with pytest.raises(DuplicateNameError):
        reg.add_alias("qa", "qa")
    msg = str(pytest.raises(UnknownNameError, reg.get, "question-answer").value)
    assert "did you mean 'question-answering'" in msg and "choices: qa" in msg
