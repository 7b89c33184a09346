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
