"""`migrations:` on a worker: wrangler's step shape, tags unique, left out = not managed."""

from __future__ import annotations

import pytest

from reconciler.state import Migration
from tests.manifest.conftest import Write, load, problems_of

WORKER = "workers:\n  - name: w\n    script: w.js\n"


@pytest.fixture
def base(write: Write) -> Write:
    write("w.js", "export class Room {}\nexport default {}\n")
    return write


def test_steps_load_with_the_api_field_names(base: Write) -> None:
    base(
        "m.yaml",
        WORKER
        + "    migrations:\n"
        + "      - {tag: v1, new_sqlite_classes: [Room]}\n"
        + "      - tag: v2\n"
        + "        renamed_classes: [{from: Room, to: Chamber}]\n"
        + "        transferred_classes: [{from: Old, from_script: legacy, to: Chamber}]\n",
    )
    assert load("m.yaml").state.workers["w"].migrations == (
        Migration("v1", {"new_sqlite_classes": ["Room"]}),
        Migration(
            "v2",
            {
                "renamed_classes": [{"from": "Room", "to": "Chamber"}],
                "transferred_classes": [{"from": "Old", "from_script": "legacy", "to": "Chamber"}],
            },
        ),
    )


def test_left_out_is_none_and_empty_is_owned(base: Write) -> None:
    base("m.yaml", WORKER)
    assert load("m.yaml").state.workers["w"].migrations is None
    base("m.yaml", WORKER + "    migrations: []\n")
    assert load("m.yaml").state.workers["w"].migrations == ()


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            "      - {tag: v1, new_classes: [A]}\n      - {tag: v1, new_classes: [B]}\n",
            "m.yaml:6:15: duplicate migration tag 'v1' in worker 'w'; it is already declared "
            "(also at m.yaml:5:15)",
        ),
        ("      - {new_classes: [A]}\n", "m.yaml:5:9: missing required key 'tag'"),
        (
            "      - {tag: v1, new_class: [A]}\n",
            "m.yaml:5:19: unknown key 'new_class'; did you mean 'new_classes'? expected one of: tag,",
        ),
        (
            "      - {tag: v1, renamed_classes: [{from: A}]}\n",
            "m.yaml:5:37: missing required key 'to'",
        ),
    ],
)
def test_problems_name_the_spot(base: Write, steps: str, expected: str) -> None:
    base("m.yaml", WORKER + "    migrations:\n" + steps)
    problems = problems_of("m.yaml")
    assert any(p.startswith(expected) for p in problems), problems
