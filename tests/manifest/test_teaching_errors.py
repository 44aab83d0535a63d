"""Errors teach (issue 26, item 7): YAML syntax errors in plain words with the usual fix,
unknown keys with the nearest known key, type errors with the expected shape and an example.

Each case was first run against the loader as it was, which answered with the parser's own
words, `expected one of: ...` with no guess, or `input should be a valid list`."""

from __future__ import annotations

import pytest

from tests.manifest.conftest import Write, problems_of

SECRET = "stores: [{name: main}]\nsecrets:\n  - name: API_KEY\n    store: main\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The issue's own: a key out of line with its siblings.
        (
            "stores:\n  - name: main\nsecrets:\n  - name: K\n    store: main\n     scopes: [workers]\n",
            "m.yaml:6:12: malformed YAML: line 6 is indented more than the key on line 5, so "
            "YAML reads it as more of that key's value: line it up with line 5 (column 5)",
        ),
        (
            "workers:\n  - name: w\n    script: w.js\n  compatibility_date: '2025-01-01'\n",
            "m.yaml:4:3: malformed YAML: line 4 breaks the list that starts at line 2: a list "
            "item starts with `- ` at column 3; to continue the item above, indent line 4 under "
            "the item's first key (column 5); to start a new item, begin it with `- `",
        ),
        (
            "stores:\n\t- name: main\n",
            "m.yaml:2:1: malformed YAML: line 2 is indented with a tab; YAML indents with spaces "
            "only: replace the tab with spaces",
        ),
        (
            "workers:\n  - name: w\n    script: w.js\n    bindings:\n"
            "      - {type: plain_text, name: G, text: hello: world}\n",
            "m.yaml:5:",
        ),
        (
            'stores: [{name: "main}]\n',
            "m.yaml:2:1: malformed YAML: the quote opened at line 1, column 17 is never closed",
        ),
        (
            "stores: [{name: main}\n",
            "m.yaml:2:1: malformed YAML: the [ opened at line 1, column 9 is not closed",
        ),
    ],
)
def test_yaml_errors_say_what_is_wrong_and_the_fix(write: Write, body: str, expected: str) -> None:
    write("m.yaml", body)
    (problem,) = problems_of("m.yaml")
    assert problem.startswith(expected), problem
    assert "(YAML parser: " in problem  # the parser's words stay, last, for a search
    assert not problem.startswith("m.yaml:") or "did not find expected" not in problem.split("(")[0]


def test_a_key_out_of_line_says_so(write: Write) -> None:
    write(
        "m.yaml", "stores:\n  - name: main\nsecrets:\n  - name: K\n    store: main\n   scopes: x\n"
    )
    (problem,) = problems_of("m.yaml")
    assert "line 6 breaks the list that starts at line 4" in problem
    write("n.yaml", "account_id: x\n stores: []\n")
    (problem,) = problems_of("n.yaml")
    assert "line 2 is indented more than the key on line 1" in problem


def test_a_colon_in_a_plain_value_asks_for_quotes(write: Write) -> None:
    write("m.yaml", "stores:\n  - name: main: prod\n")
    (problem,) = problems_of("m.yaml")
    assert problem.startswith("m.yaml:2:15: malformed YAML: unexpected ':' at line 2, column 15: ")
    assert "a value that contains ': ' needs quotes" in problem


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "workerz: []\n",
            "m.yaml:1:1: unknown key 'workerz'; did you mean 'workers'? expected one of: "
            "account_id, stores, secrets, workers",
        ),
        (
            SECRET + "    scopes: [workers]\n    value_form: {env: X}\n",
            "m.yaml:6:5: unknown key 'value_form'; did you mean 'value_from'? expected one of: "
            "name, store, value_from, scopes, comment ('value_from' is required)",
        ),
        (
            SECRET + "    scopes: [workers]\n    value_from: {evn: X}\n",
            "m.yaml:6:18: unknown key 'evn'; did you mean 'env'?",
        ),
        (
            "workers:\n  - name: w\n    script: w.js\n    compatability_date: '2025-01-01'\n",
            "m.yaml:4:5: unknown key 'compatability_date'; did you mean 'compatibility_date'?",
        ),
        # A binding's keys are those of its type.
        (
            "workers:\n  - name: w\n    script: w.js\n    bindings:\n"
            "      - {type: secrets_store_secret, name: K, store: main, secert: K}\n",
            "m.yaml:5:60: unknown key 'secert'; did you mean 'secret'? expected one of: "
            "type, name, store, secret ('secret' is required)",
        ),
        # Nothing near: no guess, the keys that are known.
        (
            "stores:\n  - name: main\n    colour: blue\n",
            "m.yaml:3:5: unknown key 'colour'; expected one of: name",
        ),
    ],
)
def test_unknown_keys_suggest_the_nearest_known_key(write: Write, body: str, expected: str) -> None:
    write("m.yaml", body)
    problems = problems_of("m.yaml")
    assert any(p.startswith(expected) for p in problems), problems


def test_a_misspelt_required_key_is_one_problem_not_two(write: Write) -> None:
    write("m.yaml", SECRET + "    scopes: [workers]\n    value_form: {env: X}\n")
    problems = problems_of("m.yaml")
    assert not any("missing required key 'value_from'" in p for p in problems), problems
    write("n.yaml", SECRET + "    scopes: [workers]\n")  # really missing: still said
    assert problems_of("n.yaml") == ["n.yaml:3:5: missing required key 'value_from'"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The issue's own: `scopes: workers`.
        (
            SECRET + "    scopes: workers\n    value_from: {env: X}\n",
            "m.yaml:5:13: scopes must be a list, not the text 'workers'; write it in brackets "
            "or one `- ` line per item, e.g. `scopes: [workers]`",
        ),
        (
            SECRET + "    scopes: [workers]\n    value_from: STRIPE_KEY\n",
            "m.yaml:6:17: value_from must be a mapping of keys to values, not the text "
            "'STRIPE_KEY', e.g. `value_from: {env: STRIPE_KEY}`",
        ),
        (
            "workers:\n  - name: w\n    script: w.js\n    bindings: {type: plain_text}\n",
            "m.yaml:4:15: bindings must be a list, not a mapping; write it in brackets or one "
            "`- ` line per item, e.g. `bindings: [{type: plain_text, name: GREETING, text: hello}]`",
        ),
        (
            "stores:\n  name: main\n",
            "m.yaml:2:3: stores must be a list, not a mapping; write it in brackets or one `- ` "
            "line per item, e.g. `stores: [{name: main}]`",
        ),
        (
            "workers:\n  - name: [w]\n    script: w.js\n",
            "m.yaml:2:11: name must be text, not a list, e.g. `name: some-text`",
        ),
    ],
)
def test_type_errors_show_the_expected_shape_with_an_example(
    write: Write, body: str, expected: str
) -> None:
    write("m.yaml", body)
    problems = problems_of("m.yaml")
    assert any(p.startswith(expected) for p in problems), problems
