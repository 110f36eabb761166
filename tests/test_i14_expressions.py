"""Block argument expressions: parsed, never evaluated as Python, with Python's meaning."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.blocks.expressions import (
    LONGEST_EXPRESSION,
    ExpressionError,
    Literal,
    Name,
    Negation,
    Operation,
    parse,
)

ARGUMENTS = {"planes": 16, "width": 7, "groups": 3, "expansion": 4}


@pytest.mark.parametrize(("text", "value"), [
    ("planes * 4", 64), ("planes*expansion", 64), ("(width + 1) // 2", 4), ("width - 3 - 2", 2),
    ("width - (3 - 2)", 6), ("-width // 2", -4), ("--width", 7), (" 12 ", 12),
    ("planes // groups * groups", 15), ("((((planes))))", 16),
])
def test_expressions_have_pythons_meaning(text, value):
    assert parse(text).value(ARGUMENTS) == value


@pytest.mark.parametrize(("text", "where"), [
    ("planes +", "character 9"), ("planes ** 2", "character 9"), ("(planes", "character 1"),
    ("planes width", "character 8"), ("", "character 1"), ("2.5 * planes", "character 2"),
    ("__import__('os')", "character 12"), ("planes.real", "character 7"), ("planes / 2", "'/'"),
    ("planes; 1", "';'"), ("lambda: 1", "':'"),
])
def test_anything_outside_the_grammar_is_refused_with_the_place(text, where):
    with pytest.raises(ExpressionError, match="cannot read the expression") as caught:
        parse(text)
    assert where in str(caught.value)


def test_a_long_or_deep_expression_is_refused_without_recursing_forever():
    with pytest.raises(ExpressionError, match="characters long"):
        parse("1+" * LONGEST_EXPRESSION + "1")
    with pytest.raises(ExpressionError, match="nests deeper"):
        parse("(" * 60 + "1" + ")" * 60)


@pytest.mark.parametrize(("text", "arguments", "message"), [
    ("planes * 4", {}, "'planes', which is not an argument of the block"),
    ("mode * 2", {"mode": "same"}, "'mode', which is 'same', not a number"),
    ("bias + 1", {"bias": True}, "not a number"),
    ("planes // (groups - 3)", ARGUMENTS, "divides by zero"),
    ("planes * 4294967296 * 4294967296", ARGUMENTS, "comes to more than"),
])
def test_working_out_says_what_is_wrong(text, arguments, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text).value(arguments)


def test_a_bare_name_may_stand_for_a_choice_or_a_boolean():
    assert parse("mode").value({"mode": "same"}) == "same"
    assert parse("use_bias").value({"use_bias": False}) is False
    assert parse("a * b + c").names() == {"a", "b", "c"}
    assert parse("a * (b + a)").renamed({"a": "planes"}).text == "planes * (b + planes)"


_TERMS = st.recursive(
    st.one_of(st.integers(0, 50).map(Literal), st.sampled_from(sorted(ARGUMENTS)).map(Name)),
    lambda inner: st.one_of(
        inner.map(Negation),
        st.tuples(st.sampled_from(["+", "-", "*", "//"]), inner, inner).map(
            lambda parts: Operation(*parts))),
    max_leaves=12)


@given(_TERMS)
def test_the_spelling_reads_back_the_same_and_means_what_python_means(term):
    from engine.blocks.expressions import Expression

    text = Expression(term).text
    assert parse(text).tree == term
    try:
        expected = eval(text, {"__builtins__": {}}, dict(ARGUMENTS))  # Python is the oracle
    except ZeroDivisionError:
        with pytest.raises(ExpressionError, match="divides by zero"):
            parse(text).value(ARGUMENTS)
        return
    if abs(expected) > 2**63 - 1:
        return
    assert parse(text).value(ARGUMENTS) == expected
