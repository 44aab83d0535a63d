"""Every validation rule, with the exact file:line:column in the message."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.state import Binding
from tests.manifest.conftest import Write, load, problems_of

STORE = """
stores:
  - name: prod
"""


@pytest.fixture
def base(write: Write) -> Write:
    write("secret.txt", "s3cr3t-value\n")
    write("w.js", "export default { fetch() { return new Response('x') } }\n")
    return write


def test_valid_set_merges_files_in_a_directory(base: Write) -> None:
    base("m/a.yaml", STORE)
    base(
        "m/sub/b.yml",
        """
        secrets:
          - {name: K, store: prod, value_from: {file: ../../secret.txt}, scopes: [workers]}
        """,
    )
    # `..` is refused by default, so allow it here to test the merge itself.
    from reconciler.manifest.merge import load_manifests

    result = load_manifests(["m"], allow_outside_files=True)
    assert list(result.state.stores) == ["prod"]
    assert list(result.state.secrets) == [("prod", "K")]
    assert [str(f) for f in result.files] == ["m/a.yaml", "m/sub/b.yml"]


def test_full_example_loads_into_the_state_model(base: Write) -> None:
    base(
        "m.yaml",
        """
        account_id: 023e105f4ecef8ad9ca31a8372d0c353
        stores: [{name: prod}]
        secrets:
          - name: K
            store: prod
            value_from: {file: secret.txt}
            scopes: [workers, ai_gateway]
            comment: hi
        workers:
          - name: hello
            script: w.js
            compatibility_date: "2025-01-01"
            compatibility_flags: [nodejs_compat]
            bindings:
              - {type: secrets_store_secret, name: S, store: prod, secret: K}
              - {type: plain_text, name: A, text: t}
              - {type: json, name: J, json: {a: 1}}
              - {type: kv_namespace, name: C, namespace_id: 0f2ac74b498b48028cb68387c421e279}
        """,
    )
    state = load("m.yaml").state
    assert state.account_id == "023e105f4ecef8ad9ca31a8372d0c353"
    secret = state.secrets[("prod", "K")]
    assert secret.scopes == frozenset({"workers", "ai_gateway"})
    assert secret.comment == "hi" and secret.managed
    worker = state.workers["hello"]
    assert worker.format == "module"
    assert worker.compatibility_flags == ("nodejs_compat",)
    assert [b.name for b in worker.bindings] == ["A", "C", "J", "S"]
    assert Binding("S", "secrets_store_secret", {"store": "prod", "secret": "K"}) in worker.bindings
    assert worker.script_digest.startswith("sha256:")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # literal value refused, pointing to value_from
        (
            """
            stores: [{name: prod}]
            secrets:
              - name: K
                store: prod
                value: hunter2-should-not-leak
                scopes: [workers]
            """,
            "m.yaml:3:5: a literal `value:` is not allowed",
        ),
        # unknown top-level key
        (
            "stores: [{name: prod}]\nworkerz: []\n",
            "m.yaml:2:1: unknown key 'workerz'; did you mean 'workers'? expected one of",
        ),
        # missing required key
        (
            "stores: [{name: prod}]\nsecrets:\n  - {name: K, store: prod, scopes: [workers]}\n",
            "m.yaml:3:5: missing required key 'value_from'",
        ),
        # empty scopes
        (
            "stores: [{name: prod}]\nsecrets:\n"
            "  - {name: K, store: prod, value_from: {env: X}, scopes: []}\n",
            "m.yaml:3:58: scopes must list at least one of: workers",
        ),
        # invalid scope
        (
            "stores: [{name: prod}]\nsecrets:\n"
            "  - {name: K, store: prod, value_from: {env: X}, scopes: [wrkers]}\n",
            "m.yaml:3:59: unknown scope 'wrkers'",
        ),
        # name with a space
        ("stores:\n  - name: my store\n", "m.yaml:2:11: a name is letters"),
        # worker name rules
        (
            "workers:\n  - {name: Hello_World, script: w.js}\n",
            "m.yaml:2:12: a worker name is lowercase",
        ),
        # unknown binding type
        (
            "workers:\n  - name: w\n    script: w.js\n    bindings:\n      - {type: d2, name: X}\n",
            "m.yaml:5:16: unknown binding type 'd2'; expected one of: ai, ai_search,",
        ),
        # both env and file
        (
            "stores: [{name: prod}]\nsecrets:\n"
            "  - {name: K, store: prod, value_from: {env: X, file: y}, scopes: [workers]}\n",
            "m.yaml:3:40: value_from takes exactly one of",
        ),
        # bad date
        (
            "workers:\n  - {name: w, script: w.js, compatibility_date: 2025-1-1}\n",
            "m.yaml:2:49: compatibility_date is a date written YYYY-MM-DD",
        ),
        # bad account id
        ("account_id: nope\n", "m.yaml:1:13: an account_id is 32 lowercase hexadecimal"),
        # a value YAML reads as a number
        (
            "account_id: 11111111111111111111111111111111\n",
            "m.yaml:1:13: account_id: YAML reads 11111111111111111111111111111111 as a number; write it in quotes",
        ),
        (
            "stores:\n  - name: 2024\n",
            "m.yaml:2:11: name: YAML reads 2024 as a number; write it in quotes",
        ),
        (
            "workers:\n  - {name: w, script: w.js, compatibility_date: 2025-01-01}\n",
            "m.yaml:2:49: compatibility_date: YAML reads 2025-01-01 as a date; write it in quotes",
        ),
        (
            "workers:\n  - name: w\n    script: w.js\n    bindings:\n"
            "      - {type: json, name: J, json: {since: 2025-01-01}}\n",
            "m.yaml:5:45: since: YAML reads 2025-01-01 as a date; write it in quotes",
        ),
        # duplicate key within a mapping
        (
            "stores: []\nstores: []\n",
            "m.yaml:2:1: duplicate key 'stores' in the same mapping (also at m.yaml:1:1)",
        ),
        # a document that is not a mapping
        ("- just\n- a list\n", "m.yaml:1:1: a manifest document must be a mapping"),
        # malformed YAML
        ("stores: [{name: prod\n", "m.yaml:2:1: malformed YAML"),
    ],
)
def test_shape_errors_name_the_spot(base: Write, body: str, expected: str) -> None:
    base("m.yaml", body)
    problems = problems_of("m.yaml")
    assert any(p.startswith(expected) for p in problems), problems


def test_cross_checks_report_every_problem_with_locations(base: Write) -> None:
    base(
        "a.yaml",
        """
        account_id: 023e105f4ecef8ad9ca31a8372d0c353
        stores: [{name: prod}]
        secrets:
          - {name: K, store: prod, value_from: {file: secret.txt}, scopes: [ai_gateway]}
          - {name: L, store: nostore, value_from: {env: L}, scopes: [workers]}
        workers:
          - name: w
            script: missing.js
            bindings:
              - {type: plain_text, name: A, text: x}
              - {type: plain_text, name: A, text: y}
              - {type: secrets_store_secret, name: B, store: prod, secret: K}
              - {type: secrets_store_secret, name: C, store: prod, secret: NOPE}
              - {type: secrets_store_secret, name: D, store: other, secret: K}
        """,
    )
    base(
        "b.yaml",
        """
        account_id: 0000000000000000000000000000000f
        stores: [{name: prod}]
        workers:
          - {name: w, script: w.js}
        """,
    )
    problems = problems_of("a.yaml", "b.yaml")
    expected = [
        "b.yaml:1:13: account_id 0000000000000000000000000000000f conflicts with "
        "023e105f4ecef8ad9ca31a8372d0c353; one manifest set targets one account (also at a.yaml:1:13)",
        "b.yaml:2:17: duplicate store 'prod'; it is already declared (also at a.yaml:2:17)",
        "a.yaml:5:22: store 'nostore' is not declared; add it under `stores:`",
        "a.yaml:11:34: duplicate binding name 'A' in worker 'w'; it is already declared "
        "(also at a.yaml:10:34)",
        "a.yaml:12:9: binding 'B' needs secret 'K' to have the `workers` scope; add it to the "
        "secret's scopes (also at a.yaml:4:12)",
        "a.yaml:13:9: binding 'C' names secret 'NOPE', which is not declared in store 'prod'",
        "a.yaml:14:9: binding 'D' names store 'other', which is not declared under `stores:`",
        "a.yaml:8:13: script file missing.js does not exist",
        "b.yaml:4:12: duplicate worker 'w'; it is already declared (also at a.yaml:7:11)",
    ]
    for line in expected:
        assert any(p.startswith(line) for p in problems), (line, problems)
    assert len(problems) == len(expected), problems


def test_value_file_outside_the_manifest_directory_is_refused(base: Write, tmp_path: Path) -> None:
    base(
        "m/m.yaml",
        STORE
        + "secrets:\n  - {name: K, store: prod, value_from: {file: ../secret.txt}, scopes: [workers]}\n",
    )
    assert problems_of("m") == [
        "m/m.yaml:4:40: value_from: the file m/../secret.txt leaves the manifest's directory; "
        "keep such files beside the manifests or pass --allow-outside-files"
    ]
    (tmp_path / "m" / "link.txt").symlink_to(tmp_path / "secret.txt")
    base(
        "m/m.yaml",
        STORE
        + "secrets:\n  - {name: K, store: prod, value_from: {file: link.txt}, scopes: [workers]}\n",
    )
    assert "is a symbolic link" in problems_of("m")[0]


def test_value_sources_over_the_limit(base: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    base("big.txt", "x" * 70_000)
    monkeypatch.setenv("BIG_VALUE", "y" * 70_000)
    base(
        "m.yaml",
        STORE
        + "secrets:\n"
        + "  - {name: K, store: prod, value_from: {file: big.txt}, scopes: [workers]}\n"
        + "  - {name: L, store: prod, value_from: {env: BIG_VALUE}, scopes: [workers]}\n",
    )
    problems = problems_of("m.yaml")
    assert problems == [
        "m.yaml:4:40: value_from: the file big.txt holds more than 65,536 bytes, the Secrets Store limit",
        "m.yaml:5:40: value_from: the environment variable BIG_VALUE holds more than 65,536 bytes, the Secrets Store limit",
    ]
    assert not any("yyyy" in p or "xxxx" in p for p in problems)


def test_missing_value_file(base: Write) -> None:
    base(
        "m.yaml",
        STORE
        + "secrets:\n  - {name: K, store: prod, value_from: {file: nope.txt}, scopes: [workers]}\n",
    )
    assert problems_of("m.yaml")[0].startswith(
        "m.yaml:4:40: value_from: the file nope.txt does not exist"
    )


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (
            lambda w: w("empty/readme.txt", "no manifests"),
            "empty: no *.yaml or *.yml manifest files",
        ),
        (lambda w: w("empty/bin.yaml", b"\x00\x01\x02"), "empty/bin.yaml: this is a binary file"),
        (lambda w: w("empty/latin.yaml", b"name: caf\xe9\n"), "empty/latin.yaml: not UTF-8 text"),
    ],
)
def test_unusable_inputs_get_a_clear_error(write: Write, setup, expected: str) -> None:  # type: ignore[no-untyped-def]
    setup(write)
    assert problems_of("empty")[0].startswith(expected)


def test_missing_path(write: Write) -> None:
    assert problems_of("nowhere") == ["nowhere: no such file or directory"]


def test_format_detection_and_override(base: Write) -> None:
    base("classic.js", "addEventListener('fetch', e => e.respondWith(new Response('x')))\n")
    base(
        "m.yaml",
        """
        workers:
          - {name: a, script: w.js}
          - {name: b, script: classic.js}
          - {name: c, script: classic.js, format: module}
        """,
    )
    workers = load("m.yaml").state.workers
    assert (workers["a"].format, workers["b"].format, workers["c"].format) == (
        "module",
        "classic",
        "module",
    )


def test_extra_modules_are_named_relative_to_the_main_script(base: Write) -> None:
    base("src/index.js", "import { x } from './lib/util.js'; export default { fetch() {} }\n")
    base("src/lib/util.js", "export const x = 1\n")
    base("m.yaml", "workers:\n  - {name: a, script: src/index.js, modules: [src/lib/util.js]}\n")
    worker = load("m.yaml").state.workers["a"]
    assert [m.name for m in worker.modules] == ["index.js", "lib/util.js"]


def test_digest_changes_with_scripts_and_manifests(base: Write) -> None:
    base("m.yaml", "workers:\n  - {name: a, script: w.js}\n")
    first = load("m.yaml").digest
    assert load("m.yaml").digest == first
    base("w.js", "export default {}\n")
    assert load("m.yaml").digest != first


def test_comment_trailing_whitespace_is_dropped(base: Write) -> None:
    """A `|` block ends with a newline the marker would swallow: it must not count."""
    base(
        "m.yaml",
        STORE
        + "secrets:\n  - name: K\n    store: prod\n    value_from: {file: secret.txt}\n"
        + "    scopes: [workers]\n    comment: |\n      rotated monthly\n",
    )
    assert load("m.yaml").state.secrets[("prod", "K")].comment == "rotated monthly"


def test_validate_and_plan_share_one_size_rule(base: Write) -> None:
    """65,537 bytes without a trailing newline is over the limit for validate too."""
    base("edge.txt", "x" * 65_537)
    base("ok.txt", "x" * 65_536 + "\n")
    base("empty.txt", "\n")
    base(
        "m.yaml",
        STORE
        + "secrets:\n"
        + "  - {name: A, store: prod, value_from: {file: edge.txt}, scopes: [workers]}\n"
        + "  - {name: B, store: prod, value_from: {file: ok.txt}, scopes: [workers]}\n"
        + "  - {name: C, store: prod, value_from: {file: empty.txt}, scopes: [workers]}\n",
    )
    assert problems_of("m.yaml") == [
        "m.yaml:4:40: value_from: the file edge.txt holds more than 65,536 bytes, the Secrets Store limit",
        "m.yaml:6:40: value_from: the file empty.txt is empty; a secret needs a value",
    ]


def test_digest_does_not_depend_on_the_working_directory(
    base: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base("m/m.yaml", "workers:\n  - {name: a, script: w.js}\n")
    base("m/w.js", "export default {}\n")
    from_root = load("m").digest
    monkeypatch.chdir(tmp_path / "m")
    assert load(".").digest == from_root


def test_yaml_anchors_and_merge_keys(base: Write) -> None:
    base(
        "m.yaml",
        """
        x-worker-defaults: &worker
          script: w.js
          compatibility_date: "2025-01-01"
        workers:
          - <<: *worker
            name: a
          - <<: *worker
            name: b
            compatibility_date: "2025-02-02"
        """,
    )
    workers = load("m.yaml").state.workers
    assert workers["a"].compatibility_date == "2025-01-01"
    assert workers["b"].compatibility_date == "2025-02-02"


def test_explicit_duplicate_next_to_a_merge_is_still_a_duplicate(base: Write) -> None:
    base(
        "m.yaml",
        """
        x-d: &d {script: w.js}
        workers:
          - <<: *d
            name: a
            name: b
        """,
    )
    assert problems_of("m.yaml") == [
        "m.yaml:5:5: duplicate key 'name' in the same mapping (also at m.yaml:4:5)"
    ]


def test_a_loaded_manifest_set_holds_no_script_code(base: Write) -> None:
    """Code is hashed as read and read again at upload: memory does not grow with it."""
    import gc
    import tracemalloc

    from reconciler.state import ModuleFile

    size, count = 1024 * 1024, 20
    for i in range(count):
        base(f"w{i}.js", f"export default {{}} // {i}\n" + "x" * size)
    base(
        "m.yaml",
        "workers:\n" + "".join(f"  - {{name: w{i}, script: w{i}.js}}\n" for i in range(count)),
    )
    gc.collect()
    tracemalloc.start()
    try:
        manifests = load("m.yaml")
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 2 * size, f"{held} bytes held for {count} scripts of {size} bytes"
    worker = manifests.state.workers["w3"]
    assert all(isinstance(m, ModuleFile) for m in worker.modules)
    assert worker.modules[0].load().startswith(b"export default {} // 3\n")


def test_a_script_changed_after_loading_is_refused_at_upload(base: Write) -> None:
    from reconciler.file_policy import FileRefusedError

    base("w.js", "export default {}\n")
    base("m.yaml", "workers:\n  - {name: a, script: w.js}\n")
    module = load("m.yaml").state.workers["a"].modules[0]
    base("w.js", "export default { fetch() { return new Response('other') } }\n")
    with pytest.raises(FileRefusedError, match=r"^script file w\.js changed after the plan"):
        module.load()
    Path("w.js").unlink()
    with pytest.raises(
        FileRefusedError,
        match=r"^script file w\.js does not exist now, after the plan read it; nothing of it was",
    ):
        module.load()
