"""Export: seed an account with the official SDK, export it, plan the export: only adopts."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from cloudflare import Cloudflare

from reconciler.emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN
from reconciler.errors import ConfigError
from reconciler.export import Export, env_var_name
from reconciler.plan.render_markdown import MARKER

from .conftest import Cli

ACCOUNT = DEFAULT_ACCOUNT_ID
VALUES = {
    ("app-secrets", "API_KEY"): "sdk-seeded-api-key-value-1",
    ("app-secrets", "db-password"): "sdk-seeded-db-password-2",
    # A worker script secret (secret_text): its placeholder is named after the worker.
    ("classic-hello", "SESSION_SECRET"): "sdk-seeded-session-secret-3",
}
ENV = {env_var_name(store, name): value for (store, name), value in VALUES.items()}
CLASSIC = b"addEventListener('fetch', (e) => e.respondWith(new Response(GREETING)));\n"
MAIN = b'import { hello } from "./lib/hello.js";\nexport default { fetch() { return hello(); } };\n'
HELLO = (
    b'import { text } from "../shared/text.js";\nexport const hello = () => new Response(text);\n'
)
SHARED = b'export const text = "hi";\n'


def _sdk(cli: Cli) -> Cloudflare:
    return Cloudflare(base_url=cli.server.base_url, api_token=DEFAULT_TOKEN, max_retries=0)


def seed(cli: Cli, *, extra_bindings: list[Any] | None = None) -> None:
    """An account built outside reconciler: no markers, no tags."""
    cf = _sdk(cli)
    store = cf.secrets_store.stores.create(account_id=ACCOUNT, name="app-secrets")
    assert store is not None
    cf.secrets_store.stores.secrets.create(
        store.id,
        account_id=ACCOUNT,
        body=[
            {
                "name": "API_KEY",
                "value": VALUES[("app-secrets", "API_KEY")],
                "scopes": ["workers"],
                "comment": "used by the api worker",
            },
            {
                "name": "db-password",
                "value": VALUES[("app-secrets", "db-password")],
                "scopes": ["workers", "ai_gateway"],
            },
        ],
    )
    cf.workers.scripts.update(
        "classic-hello",
        account_id=ACCOUNT,
        metadata={
            "body_part": "worker.js",
            "compatibility_date": "2025-01-01",
            "bindings": [
                {"type": "plain_text", "name": "GREETING", "text": "hello"},
                {
                    "type": "secret_text",
                    "name": "SESSION_SECRET",
                    "text": VALUES[("classic-hello", "SESSION_SECRET")],
                },
            ],
        },
        files=[("worker.js", CLASSIC, "application/javascript")],
    )
    cf.workers.scripts.update(
        "api",
        account_id=ACCOUNT,
        metadata={
            "main_module": "index.js",
            "compatibility_date": "2025-02-01",
            "compatibility_flags": ["nodejs_compat"],
            "bindings": [
                {"type": "json", "name": "CONFIG", "json": {"retries": 3, "tags": ["a", "b"]}},
                {
                    "type": "secrets_store_secret",
                    "name": "API_KEY",
                    "store_id": store.id,
                    "secret_name": "API_KEY",
                },
                {
                    "type": "kv_namespace",
                    "name": "CACHE",
                    "namespace_id": "0f2ac74b498b48028cb68387c421e279",
                },
                *(extra_bindings or []),
            ],
        },
        files=[
            ("index.js", MAIN, "application/javascript+module"),
            ("lib/hello.js", HELLO, "application/javascript+module"),
            ("shared/text.js", SHARED, "application/javascript+module"),
        ],
    )


def _no_values(text: str) -> None:
    for value in VALUES.values():
        assert value not in text


def test_export_then_plan_shows_only_adopts_and_apply_converges(served_cli: Cli) -> None:
    seed(served_cli)
    result = served_cli("export", "--out", "exported")
    assert result.exit_code == 0, result.output
    _no_values(result.output)
    for name in ENV:
        assert name in result.stdout  # the user is told which variables to set
    files = sorted(
        str(p.relative_to("exported")) for p in Path("exported").rglob("*") if p.is_file()
    )
    assert files == [
        "reconciler.yaml",
        "schema.json",
        "workers/api/index.js",
        "workers/api/lib/hello.js",
        "workers/api/shared/text.js",
        "workers/classic-hello.js",
    ]
    for path in Path("exported").rglob("*"):
        if path.is_file():
            _no_values(path.read_text())
    manifest = Path("exported/reconciler.yaml").read_text()
    assert manifest.startswith("# yaml-language-server: $schema=./schema.json\n")
    doc = yaml.safe_load(manifest)
    assert doc["account_id"] == ACCOUNT
    assert [s["value_from"] for s in doc["secrets"]] == [
        {"env": "APP_SECRETS_API_KEY"},
        {"env": "APP_SECRETS_DB_PASSWORD"},
    ]
    api = next(w for w in doc["workers"] if w["name"] == "api")
    assert api["script"] == "workers/api/index.js"
    assert api["modules"] == ["workers/api/lib/hello.js", "workers/api/shared/text.js"]
    assert Path("exported/workers/api/lib/hello.js").read_bytes() == HELLO
    assert {
        "type": "secrets_store_secret",
        "name": "API_KEY",
        "store": "app-secrets",
        "secret": "API_KEY",
    } in api["bindings"]
    assert Path("exported/workers/classic-hello.js").read_bytes() == CLASSIC
    classic = next(w for w in doc["workers"] if w["name"] == "classic-hello")
    assert {
        "type": "secret_text",
        "name": "SESSION_SECRET",
        "value_from": {"env": "CLASSIC_HELLO_SESSION_SECRET"},
    } in classic["bindings"]
    assert "CLASSIC_HELLO_SESSION_SECRET  (worker classic-hello secret SESSION_SECRET)" in (
        result.stdout
    )

    result, plan = served_cli.plan_file("plan", "exported", env=ENV)
    assert result.exit_code == 0, result.output
    assert plan["conflicts"] == []
    assert plan["unmanaged"] == []
    assert {(a["action"], a["kind"], a["store"], a["name"]) for a in plan["actions"]} == {
        ("adopt", "store", None, "app-secrets"),
        ("adopt", "secret", "app-secrets", "API_KEY"),
        ("adopt", "secret", "app-secrets", "db-password"),
        ("adopt", "worker", None, "api"),
        ("adopt", "worker", None, "classic-hello"),
        ("adopt", "worker_secret", None, "SESSION_SECRET"),
    }
    for action in plan["actions"]:
        # Adopting changes nothing but the marker; a secret's value is always rewritten.
        fields = [c["field"] for c in action["changes"]]
        secret = action["kind"] in ("secret", "worker_secret")
        assert fields == (["value"] if secret else []), action

    assert served_cli("apply", "exported", "--auto-approve", env=ENV).exit_code == 0
    again = served_cli("plan", "exported", "--detailed-exitcode", env=ENV)
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_export_never_overwrites_without_force(served_cli: Cli) -> None:
    seed(served_cli)
    Path("exported").mkdir()
    Path("exported/reconciler.yaml").write_text("# mine\n")
    result = served_cli("export", "--out", "exported")
    assert result.exit_code == 1
    assert "exported/reconciler.yaml" in result.output
    assert "--force" in result.output
    assert Path("exported/reconciler.yaml").read_text() == "# mine\n"
    assert not Path("exported/workers").exists()  # nothing at all was written

    forced = served_cli("export", "--out", "exported", "--force")
    assert forced.exit_code == 0, forced.output
    assert Path("exported/reconciler.yaml").read_text().startswith("# yaml-language-server")


def test_export_warns_about_bindings_the_format_cannot_express(served_cli: Cli) -> None:
    seed(
        served_cli,
        extra_bindings=[
            {"type": "r2_bucket", "name": "UPLOADS", "bucket_name": "uploads"},
            {"type": "assets", "name": "STATIC"},
        ],
    )
    result = served_cli("export")
    assert result.exit_code == 0, result.output
    # The assets binding belongs to the `assets` key, whose files the API cannot download:
    # the warning says what to add.
    assert "worker api serves static assets" in result.stderr
    assert "binding: STATIC" in result.stderr
    assert "UPLOADS" not in result.stderr  # every schema type but a few is exported
    doc = yaml.safe_load(Path("exported/reconciler.yaml").read_text())
    api = next(w for w in doc["workers"] if w["name"] == "api")
    assert {b["name"] for b in api["bindings"]} == {"API_KEY", "CACHE", "CONFIG", "UPLOADS"}
    # Assets left out are not managed: adopting the worker keeps them and their binding.
    _, plan = served_cli.plan_file("plan", "exported", env=ENV)
    adopt_api = next(a for a in plan["actions"] if a["name"] == "api")
    removed = {c["field"] for c in adopt_api["changes"] if c["after"] is None}
    assert removed == set()


def test_export_skips_a_binding_to_a_secret_that_is_gone(served_cli: Cli) -> None:
    """Exported manifests always validate, even when the account holds a dangling binding."""
    seed(served_cli)
    cf = _sdk(served_cli)
    store = next(iter(cf.secrets_store.stores.list(account_id=ACCOUNT)))
    secret = next(
        s
        for s in cf.secrets_store.stores.secrets.list(store.id, account_id=ACCOUNT)
        if s.name == "API_KEY"
    )
    cf.secrets_store.stores.secrets.delete(secret.id, account_id=ACCOUNT, store_id=store.id)
    result = served_cli("export")
    assert result.exit_code == 0, result.output
    assert "API_KEY (secrets_store_secret)" in result.stderr
    assert served_cli("validate", "exported").exit_code == 0


def test_export_of_an_empty_account_writes_a_valid_manifest(served_cli: Cli) -> None:
    result = served_cli("export", "--out", "empty")
    assert result.exit_code == 0, result.output
    assert served_cli("validate", "empty").exit_code == 0
    plan = served_cli("plan", "empty", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


@pytest.mark.parametrize(
    ("store", "secret", "expected"),
    [
        ("app-secrets", "API_KEY", "APP_SECRETS_API_KEY"),
        ("default_secrets_store", "db-password", "DEFAULT_SECRETS_STORE_DB_PASSWORD"),
        ("s", "a.b-c", "S_A_B_C"),
        ("1st", "K", "_1ST_K"),
    ],
)
def test_env_var_names_are_predictable(store: str, secret: str, expected: str) -> None:
    assert env_var_name(store, secret) == expected


def test_colliding_env_var_names_get_a_suffix(served_cli: Cli) -> None:
    cf = _sdk(served_cli)
    store = cf.secrets_store.stores.create(account_id=ACCOUNT, name="s")
    assert store is not None
    cf.secrets_store.stores.secrets.create(
        store.id,
        account_id=ACCOUNT,
        body=[
            {"name": "A-B", "value": "v1", "scopes": ["workers"]},
            {"name": "A_B", "value": "v2", "scopes": ["workers"]},
        ],
    )
    assert served_cli("export").exit_code == 0
    doc = yaml.safe_load(Path("exported/reconciler.yaml").read_text())
    assert [s["value_from"]["env"] for s in doc["secrets"]] == ["S_A_B", "S_A_B_2"]


def test_write_refuses_before_writing_anything(tmp_path: Path) -> None:
    export = Export(account_id=ACCOUNT)
    export.files = {PurePosixPath("a.yaml"): b"a", PurePosixPath("z/b.js"): b"b"}
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "b.js").write_text("keep")
    with pytest.raises(ConfigError, match=r"z/b\.js"):
        export.write(tmp_path)
    assert not (tmp_path / "a.yaml").exists()
    assert (tmp_path / "z" / "b.js").read_text() == "keep"


def test_markdown_marker_is_what_the_action_looks_for() -> None:
    """The action's comment poster finds its earlier comment by the plan Markdown's marker."""
    poster = (Path(__file__).resolve().parents[2] / "action/pr_comment.py").read_text()
    assert f'MARKER = "{MARKER}"' in poster


@pytest.mark.parametrize(
    ("names", "script", "modules", "renamed"),
    [
        (["index.js", "lib/a.js"], "workers/w/index.js", ["workers/w/lib/a.js"], []),
        (
            ["src/index.js", "src/lib/a.js", "shared/b.js"],
            "workers/w/src/index.js",
            ["workers/w/src/lib/a.js", "workers/w/shared/b.js"],
            ["src/lib/a.js -> lib/a.js", "shared/b.js -> ../shared/b.js"],
        ),
        (["main.mjs"], "workers/w.js", [], []),
    ],
)
def test_module_layout_keeps_imports_resolvable(
    names: list[str], script: str, modules: list[str], renamed: list[str]
) -> None:
    from reconciler.export_facets.code import _layout
    from reconciler.state import Module

    layout = _layout("w", [Module(n, b"") for n in names])
    assert layout == (script, modules, renamed)
    # What the loader computes back: each module's path relative to the script's folder.
    import posixpath

    main_dir = posixpath.dirname(script)
    back = [posixpath.relpath(m, main_dir) for m in modules]
    assert back == [
        r.split(" -> ")[1] if r else n
        for r, n in zip(renamed or [""] * len(back), names[1:], strict=True)
    ]
