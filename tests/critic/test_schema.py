import pytest

from fairmarket_local.critic.schema import InvalidAnswer, answer_grammar, answer_schema, parse_answer


@pytest.mark.parametrize("text", [
    '{"ftg": 0, "fbs": 1, "fpp": 0.5}',
    '{ "ftg": 1.00, "fbs": 0.33, "fpp": 0.0 }',
])
def test_valid_answers_parse(text):
    values, rationale = parse_answer(text)
    assert all(0.0 <= v <= 1.0 for v in values) and rationale is None


@pytest.mark.parametrize("text", [
    '{"ftg": 1.7, "fbs": 1, "fpp": 0.5}',  # out of range
    '{"ftg": -0.1, "fbs": 1, "fpp": 0.5}',
    '{"ftg": 1e15, "fbs": 1, "fpp": 0.5}',
    '{"ftg": true, "fbs": 1, "fpp": 0.5}',  # a bool is not a number
    '{"ftg": "0.5", "fbs": 1, "fpp": 0.5}',
    '{"ftg": NaN, "fbs": 1, "fpp": 0.5}',
    '{"ftg": 0.5, "fbs": 1}',  # missing key
    '{"ftg": 0.5, "fbs": 1, "fpp": 0.5, "x": 1}',  # extra key
    '{"ftg": 0.5, "fbs": 1, "fpp": 0.',  # truncated
    '[0.5, 1, 0.5]',
    'The scores are high.',
])
def test_invalid_answers_raise(text):
    with pytest.raises(InvalidAnswer):
        parse_answer(text)


def test_rationale_required_when_asked():
    assert parse_answer('{"ftg": 1, "fbs": 1, "fpp": 1, "rationale": "even"}', rationale=True)[1] == "even"
    with pytest.raises(InvalidAnswer):
        parse_answer('{"ftg": 1, "fbs": 1, "fpp": 1}', rationale=True)


def test_schema_bounds_every_score():
    schema = answer_schema()
    assert schema["required"] == ["ftg", "fbs", "fpp"] and schema["additionalProperties"] is False
    assert all(p == {"type": "number", "minimum": 0, "maximum": 1} for p in schema["properties"].values())


def test_grammar_only_admits_unit_numbers():
    grammar = answer_grammar()
    assert 'unit ::= "0" ("." [0-9] [0-9]?)? | "1" (".0" "0"?)?' in grammar
    assert "rationale" not in grammar and "rationale" in answer_grammar(rationale=True)


def test_grammar_compiles_in_llama_cpp():
    llama_cpp = pytest.importorskip("llama_cpp")
    for rationale in (False, True):
        llama_cpp.LlamaGrammar.from_string(answer_grammar(rationale), verbose=False)
