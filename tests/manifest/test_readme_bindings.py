"""The README's binding reference: one example of every declarable type, and it validates."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from reconciler.manifest.models import BINDING_TYPES
from tests.manifest.conftest import Write, load

README = Path(__file__).resolve().parents[2] / "README.md"


def bindings_block() -> str:
    text = README.read_text()
    section = text[text.index("### Bindings") :]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_every_declarable_type_has_an_example() -> None:
    types = {b["type"] for b in yaml.safe_load(bindings_block())["bindings"]}
    assert types == set(BINDING_TYPES)


def test_the_examples_validate(write: Write) -> None:
    write("w.js", "export default {}\n")
    write(
        "m.yaml",
        "stores: [{name: prod-secrets}]\n"
        "secrets: [{name: STRIPE_KEY, store: prod-secrets, value_from: {env: X}, scopes: [workers]}]\n"
        "workers:\n  - name: w\n    script: w.js\n"
        + "".join(f"    {line}\n" for line in bindings_block().splitlines()),
    )
    worker = load("m.yaml").state.workers["w"]
    assert len(worker.bindings) + len(worker.secrets) == len(BINDING_TYPES)


def test_the_migrations_example_validates(write: Write) -> None:
    text = README.read_text()
    section = text[text.index("### Durable Object migrations") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
    write("workers/rooms.js", "export class Chamber {}\nexport default {}\n")
    write("m.yaml", block)
    worker = load("m.yaml").state.workers["rooms"]
    assert [m.tag for m in worker.migrations or ()] == ["v1", "v2", "v3"]
