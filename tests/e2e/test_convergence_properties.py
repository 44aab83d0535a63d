"""Property (issue 21, part 1): apply random manifests, then plan: the plan is empty.

Every field of stores, secrets and Workers is drawn with and without its optional keys, and
with each empty spelling a manifest allows. Each example applies one or two manifest sets in
turn to a served emulator (so a field also goes from set to unset and back); after each apply
the CLI's plan is empty, and so is a plan of the same account read through a transport that
respells every empty field of the API's answers (absent, null, or its own empty form), as a
real account may; and the account holds what was declared, so no real change (a json
binding's `{}` becoming `[]`, applied last) was compared away. CI runs it again under each
emulator switch (`.ci/run`); about 20 s a pass here.

Extending it: each optional Worker key has one strategy in `WORKER_KEYS`, each binding type
one in `BINDINGS`. A key or binding type the manifest format gains without a strategy here
fails `test_the_generator_covers_every_manifest_key`: add one `@worker_key(KEY)` or
`@binding(TYPE)` function that draws the key's value (or `ABSENT`), and the property covers it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.config import ClientConfig
from reconciler.cloudflare.facets.triggers import TriggerNeeds
from reconciler.cloudflare.reader import read_live
from reconciler.empty import canonical
from reconciler.emulator.config import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_TOKEN,
    EmulatorConfig,
)
from reconciler.manifest.merge import load_manifests
from reconciler.manifest.models import BINDING_TYPES, SecretSpec, StoreSpec, WorkerSpec
from reconciler.openapi.bindings import KINDS, normal_form, undeclared_computed
from reconciler.plan.diff import compute_plan
from reconciler.plan.model import PlanOptions
from reconciler.settings_forms import KEYS as SETTINGS_KEYS
from reconciler.settings_forms import VERSION_KEYS
from reconciler.settings_forms import canonical as settings_canonical
from tests.binding_samples import SAMPLES
from tests.e2e.conftest import FINGERPRINT_KEY, Env, start_env
from tests.settings_strategies import ABSENT as SETTINGS_ABSENT
from tests.settings_strategies import settings_keys

ABSENT = object()  # a strategy's way to say "leave the key out of the manifest"
STORES = ["main", "second"]
SECRETS = ["API_KEY", "TOKEN", "HMAC"]
WORKERS = ["legacy", "api", "edge"]
SCOPES = ["workers", "ai_gateway", "dex", "access", "containers", "websearch"]
MAX_STORES = ("--max-stores", "2")
ZONE_ID = "0123456789abcdef0123456789abcdef"  # example.com; example.org's id is made up below
ZONES = [
    {"id": ZONE_ID, "name": "example.com", "account": DEFAULT_ACCOUNT_ID},
    {
        "id": "fedcba9876543210fedcba9876543210",
        "name": "example.org",
        "account": DEFAULT_ACCOUNT_ID,
    },
]
text = st.text(alphabet="ab \n'\"{}:#-é", max_size=10)
# JSON data as a json binding carries it: empties (each a different value for the Worker),
# nesting, numbers, strings that look odd.
json_values = st.sampled_from([{}, [], "", 0, False, {"a": ""}, [None]]) | st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.sampled_from([0.5, -2.25])
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=6,
).filter(lambda v: v is not None)  # fmt: skip
# (a top-level null json is refused by the schema check: "leave the key out instead")
BINDING_NAMES = ["A", "B", "C", "D"]


@dataclass
class Worker:
    """What a Worker's key strategies may depend on: its code and the account's secrets."""

    name: str
    module: bool
    bindable: list[dict[str, Any]]
    # Each binding name has one type per example, so a second manifest set changes the
    # same binding's value (a json {} becoming [] must be applied, not compared away).
    kinds: dict[str, str]
    files: dict[str, str] = field(default_factory=dict)
    # The workers declared after it in the same set: the ones it may name as Tail Workers
    # (declared, so they exist; only later ones, so no cycle the API could not create).
    later: list[str] = field(default_factory=list)


# -- one strategy per optional Worker key ----------------------------------------------------

WORKER_KEYS: dict[str, Callable[[Worker], st.SearchStrategy[Any]]] = {}


def worker_key(key: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        WORKER_KEYS[key] = func
        return func

    return register


@worker_key("format")
def _format(w: Worker) -> st.SearchStrategy[Any]:
    return st.sampled_from([ABSENT, "auto", "module" if w.module else "classic"])


@worker_key("compatibility_date")
def _compatibility_date(w: Worker) -> st.SearchStrategy[Any]:
    return st.sampled_from([ABSENT, "2024-09-23", "2025-01-01"])


@worker_key("compatibility_flags")
def _compatibility_flags(w: Worker) -> st.SearchStrategy[Any]:
    flags = ["nodejs_compat", "streams_enable_constructors"]
    return st.just(ABSENT) | st.lists(st.sampled_from(flags), max_size=2, unique=True)


@worker_key("modules")
def _modules(w: Worker) -> st.SearchStrategy[Any]:
    if not w.module:
        return st.sampled_from([ABSENT, []])
    w.files["lib/util.js"] = "export const util = 1\n"
    return st.sampled_from([ABSENT, [], ["lib/util.js"]])


@worker_key("bindings")
def _bindings(w: Worker) -> st.SearchStrategy[Any]:
    names = st.lists(st.sampled_from(BINDING_NAMES), max_size=4, unique=True)

    @st.composite
    def draw_bindings(draw: st.DrawFn) -> list[dict[str, Any]]:
        out = []
        for name in draw(names):
            kind = w.kinds[name]
            if kind == "secrets_store_secret" and not w.bindable:
                kind = "json"
            out.append({"type": kind, "name": name, **draw(BINDINGS[kind](w, name))})
        return out

    return st.just(ABSENT) | draw_bindings()


@worker_key("crons")
def _crons(w: Worker) -> st.SearchStrategy[Any]:
    # Spelled with extra spaces too: compared as the API spells them (single spaces).
    crons = ["*/5 * * * *", "0 3 * * 1", "0  0 * * *"]
    return st.just(ABSENT) | st.lists(st.sampled_from(crons), max_size=3, unique=True)


@worker_key("routes")
def _routes(w: Worker) -> st.SearchStrategy[Any]:
    patterns = [f"{w.name}.example.com/*", f"example.com/{w.name}/*"]
    zone = st.sampled_from([{"zone": "example.com"}, {"zone_id": ZONE_ID}])
    route = st.builds(lambda p, z: {"pattern": p, **z}, st.sampled_from(patterns), zone)
    return st.just(ABSENT) | st.lists(route, max_size=2, unique_by=lambda r: r["pattern"])


@worker_key("domains")
def _domains(w: Worker) -> st.SearchStrategy[Any]:
    hostnames = [f"{w.name}-shop.example.com", f"{w.name}.example.org"]
    domain = st.sampled_from(hostnames).map(lambda h: {"hostname": h, "zone": h.split(".", 1)[1]})
    return st.just(ABSENT) | st.lists(domain, max_size=2, unique_by=lambda d: d["hostname"])


@worker_key("workers_dev")
def _workers_dev(w: Worker) -> st.SearchStrategy[Any]:
    return st.sampled_from([ABSENT, True, False])


@worker_key("preview_urls")
def _preview_urls(w: Worker) -> st.SearchStrategy[Any]:
    return st.sampled_from([ABSENT, True, False])


ASSET_FILES = ["index.html", "a/b.css", "c.js", ".hidden", "img/x.png", "_headers"]
ASSET_CONTENT = ["", "hello", "<h1>é</h1>\n", "/*\n  X-A: b\n"]


@worker_key("assets")
def _assets(w: Worker) -> st.SearchStrategy[Any]:
    """Small directories (one to four files, `_headers` among them), every config key in and
    out, with and without the binding."""

    @st.composite
    def draw_assets(draw: st.DrawFn) -> Any:
        if draw(st.booleans()):
            return ABSENT
        directory = f"public-{w.name}"
        names = draw(st.lists(st.sampled_from(ASSET_FILES), min_size=1, max_size=4, unique=True))
        if names == ["_headers"]:
            names.append("index.html")  # a directory of only rules serves nothing
        for name in names:
            w.files[f"{directory}/{name}"] = draw(st.sampled_from(ASSET_CONTENT))
        spec: dict[str, Any] = {"directory": directory}
        options = {
            "binding": st.just("ASSETS"),
            "html_handling": st.sampled_from(
                ["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"]
            ),
            "not_found_handling": st.sampled_from(["none", "404-page", "single-page-application"]),
            "run_worker_first": st.booleans() | st.just(["/api/*", "!/api/docs/*"]) | st.just([]),
        }
        for key, values in options.items():
            if draw(st.booleans()):
                spec[key] = draw(values)
        return spec

    return draw_assets()


@worker_key("rollout")
def _rollout(w: Worker) -> st.SearchStrategy[Any]:
    """Left out (plain uploads), a share for the version the manifest describes (with or
    without a message; `{}` is 100), or version 1 pinned (a rollback)."""
    share = st.fixed_dictionaries(
        {"percentage": st.sampled_from([0, 10, 50, 100])},
        optional={"message": st.sampled_from(["canary", "ünïcode ✓", ""])},
    )
    return st.sampled_from([ABSENT, {}, {"version": 1}]) | share


def _settings_key(key: str) -> None:
    """Each settings key's strategy from tests/settings_strategies.py (ABSENT spelled ours)."""

    @worker_key(key)
    def draw_setting(w: Worker) -> st.SearchStrategy[Any]:
        strategy = settings_keys(w.later)[key]()
        return strategy.map(lambda v: ABSENT if v is SETTINGS_ABSENT else v)


for _key in SETTINGS_KEYS:
    _settings_key(_key)


# -- one strategy per binding type: the binding's keys besides `type` and `name` --------------

BINDINGS: dict[str, Callable[[Worker, str], st.SearchStrategy[dict[str, Any]]]] = {}


def binding(type_: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        BINDINGS[type_] = func
        return func

    return register


@binding("plain_text")
def _plain_text(w: Worker, name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda t: {"text": t}, text)


@binding("json")
def _json(w: Worker, name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda v: {"json": v}, json_values)


@binding("kv_namespace")
def _kv_namespace(w: Worker, name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda i: {"namespace_id": i}, st.sampled_from(["0f" * 16, "a1" * 16]))


@binding("secrets_store_secret")
def _secrets_store_secret(w: Worker, name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from([{"store": s["store"], "secret": s["name"]} for s in w.bindable])


@binding("secret_text")
def _secret_text(w: Worker, name: str) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def draw(draw: st.DrawFn) -> dict[str, Any]:
        path = f"values/{w.name}-{name}"
        w.files[path] = draw(st.text(alphabet="0123456789abcdef", min_size=1, max_size=8))
        return {"value_from": {"file": path}}

    return draw()


# Every other API binding type (issue 23): its sample (tests/binding_samples.py) with each
# optional field drawn present or left out, the schema's defaults sometimes spelled out, list
# fields sometimes empty, and d1's database_id sometimes under its deprecated name `id`.
def _api_binding(type_: str) -> Callable[[Worker, str], st.SearchStrategy[dict[str, Any]]]:
    kind = KINDS[type_]

    def strategy(w: Worker, name: str) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def draw(draw: st.DrawFn) -> dict[str, Any]:
            sample = SAMPLES[type_]
            out = {k: v for k, v in sample.items() if k in kind.required}
            for key in sample:
                if key not in kind.required and draw(st.booleans()):
                    out[key] = sample[key]
            for key, default in kind.defaults.items():
                if key not in out and draw(st.booleans()):
                    out[key] = default
            for key, prop in kind.properties.items():
                if prop.get("type") == "array" and key not in out and draw(st.booleans()):
                    out[key] = []
            for old, new in kind.aliases.items():
                if new in out and draw(st.booleans()):
                    out[old] = out.pop(new)
            return out

        return draw()

    return strategy


for _type in SAMPLES:
    binding(_type)(_api_binding(_type))


# Durable Object migrations: a fixed history per worker (a later manifest set never drops a
# step that ran, which would be a conflict), declared or left out.
MIGRATION_STEPS = [
    {"tag": "v1", "new_sqlite_classes": ["Room"]},
    {"tag": "v2", "new_classes": ["Lobby"], "deleted_classes": []},
    {"tag": "v3", "renamed_classes": [{"from": "Room", "to": "Chamber"}]},
]


@worker_key("migrations")
def _migrations(w: Worker) -> st.SearchStrategy[Any]:
    steps = MIGRATION_STEPS[: 1 + WORKERS.index(w.name)]
    return st.sampled_from([ABSENT, steps])


# -- manifests ------------------------------------------------------------------------------


@st.composite
def manifest_sets(draw: st.DrawFn, kinds: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the manifest document, the files it names by relative path)."""
    files: dict[str, str] = {}
    stores = draw(st.lists(st.sampled_from(STORES), min_size=1, max_size=2, unique=True))
    secrets = []
    for name in draw(st.lists(st.sampled_from(SECRETS), max_size=3, unique=True)):
        secret: dict[str, Any] = {
            "name": name,
            "store": draw(st.sampled_from(stores)),
            "scopes": draw(st.lists(st.sampled_from(SCOPES), min_size=1, max_size=3, unique=True)),
            "value_from": {"file": f"values/{name}"},
        }
        comment = draw(st.sampled_from([ABSENT, "", "rotated monthly", "a |\nblock\n", "  "]))
        if comment is not ABSENT:
            secret["comment"] = comment
        files[f"values/{name}"] = draw(st.text(alphabet="0123456789abcdef", min_size=1, max_size=8))
        secrets.append(secret)
    bindable = [s for s in secrets if "workers" in s["scopes"]]
    workers = []
    names = draw(st.lists(st.sampled_from(WORKERS), max_size=2, unique=True))
    for i, name in enumerate(names):
        w = Worker(name, module=draw(st.booleans()), bindable=bindable, kinds=kinds)
        w.later = names[i + 1 :]
        body = draw(st.sampled_from(["", "hello", "a'b"]))
        code = (
            f"export default {{ fetch() {{ return new Response({body!r}) }} }}\n"
            if w.module
            else f"addEventListener('fetch', e => e.respondWith(new Response({body!r})))\n"
        )
        entry: dict[str, Any] = {"name": name, "script": f"workers/{name}.js"}
        w.files[entry["script"]] = code
        for key, strategy in WORKER_KEYS.items():
            if key == "rollout" and "assets" in entry:
                continue  # refused together for now (tests/manifest/test_rollout_with_assets.py)
            value = draw(strategy(w))
            if value is not ABSENT:
                entry[key] = value
        files.update(w.files)
        workers.append(entry)
    doc: dict[str, Any] = {"stores": [{"name": n} for n in stores]}
    # The sections themselves are optional keys too: left out, or present and empty.
    for key, items in (("secrets", secrets), ("workers", workers)):
        if items or draw(st.booleans()):
            doc[key] = items
    return doc, files


def _write(root: Path, doc: dict[str, Any], files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for relative, content in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(content)
    (root / "m.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    return root


# -- the API's other spellings of empty -----------------------------------------------------


class Respelling(httpx.AsyncBaseTransport):
    """Answers as a real account may spell them: every empty field of a JSON result
    becomes absent, null or its own empty form at random. A json binding's `json` is
    the user's data and is left alone."""

    def __init__(self, seed: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._random = random.Random(seed)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method != "GET" or "json" not in response.headers.get("content-type", ""):
            return response
        body = json.loads(await response.aread())
        if isinstance(body, dict) and body.get("success"):
            body["result"] = self._items(body.get("result"))
        headers = [(k, v) for k, v in response.headers.items() if k != "content-length"]
        return httpx.Response(response.status_code, headers=headers, json=body)

    def _items(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._items(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            if key != "json" and (item is None or item in ("", [], {})):
                spelling = self._random.choice(["absent", None, item])
                if spelling != "absent":
                    out[key] = spelling
            else:
                out[key] = item if key == "json" else self._items(item)
        return out

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _respelled_plan(env: Env, manifests: Path, seed: int) -> list[Any]:
    config = ClientConfig(
        token=DEFAULT_TOKEN, base_url=env.server.base_url, transport=Respelling(seed)
    )
    async with CloudflareClient(config) as client:
        desired = load_manifests([manifests]).state
        needs = TriggerNeeds.of(desired.workers.values())
        live = await read_live(
            client, DEFAULT_ACCOUNT_ID, max_stores=2, needs=needs, rollouts=desired.rollouts()
        )
    plan = compute_plan(
        desired,
        live,
        options=PlanOptions(),
        fingerprint_key=FINGERPRINT_KEY.encode(),
    )
    return [(a.action, a.kind, a.name, a.changes) for a in plan.actions]


def _serves_most(entry: dict[str, Any]) -> bool:
    """Whether the version this manifest describes serves the largest share: the script shows
    that version's fields, not necessarily the manifest's (a pin; a new version at <= 50 %)."""
    rollout = entry.get("rollout")
    return rollout is None or ("version" not in rollout and rollout.get("percentage", 100) > 50)


def _holds_what_was_declared(env: Env, doc: dict[str, Any]) -> None:
    """The empty plan hides no real difference: the account holds each Worker's declared
    date, flags and bindings, a json binding's value exactly (`{}` is not `[]` is not `""`)."""
    scripts = {s["id"]: s["settings"] for s in env.inspect("state")["scripts"]}
    for entry in doc.get("workers", []):
        live = scripts[entry["name"]]
        if not _serves_most(entry):
            continue
        for key in ("compatibility_date", "compatibility_flags"):
            assert canonical(live[key]) == canonical(entry.get(key)), (key, live[key])
        declared = {
            b["name"]: _as_held(
                b, {k: v for k, v in b.items() if k not in ("store", "secret", "value_from")}
            )
            for b in entry.get("bindings", [])
        }
        held = {
            b["name"]: _as_held(
                b, {k: v for k, v in b.items() if k not in ("store_id", "secret_name")}
            )
            for b in live["bindings"]
            if b["type"] != "assets"  # the assets key's binding, checked below
        }
        for name, binding in held.items():  # fields the server fills in, when not declared
            wanted = next((b for b in entry.get("bindings", []) if b["name"] == name), {})
            for key in undeclared_computed(binding["type"], wanted):
                binding.pop(key, None)
        assert json.dumps(held, sort_keys=True) == json.dumps(declared, sort_keys=True)
    state = env.inspect("state")
    by_name = {s["id"]: s for s in state["scripts"]}
    for entry in doc.get("workers", []):
        script = by_name[entry["name"]]
        if "crons" in entry:
            held_crons = sorted(c["cron"] for c in script["schedules"])
            assert held_crons == sorted(" ".join(c.split()) for c in entry["crons"])
        if "routes" in entry:
            held_routes = sorted(
                r["pattern"] for r in state["routes"] if r["script"] == entry["name"]
            )
            assert held_routes == sorted(r["pattern"] for r in entry["routes"])
        if "domains" in entry:
            held_domains = sorted(
                d["hostname"] for d in state["domains"] if d["service"] == entry["name"]
            )
            assert held_domains == sorted(d["hostname"] for d in entry["domains"])
        for key, field_ in (("workers_dev", "enabled"), ("preview_urls", "previews_enabled")):
            if key in entry:
                assert script["subdomain"][field_] is entry[key], key
        if "assets" in entry:
            assert script["has_assets"] is True
            binding = [b["name"] for b in script["settings"]["bindings"] if b["type"] == "assets"]
            assert binding == ([entry["assets"]["binding"]] if "binding" in entry["assets"] else [])
        for key in SETTINGS_KEYS:
            if key in entry and (key not in VERSION_KEYS or _serves_most(entry)):
                held = settings_canonical(key, script["settings"].get(key), entry[key])
                assert held == settings_canonical(key, entry[key], entry[key]), key


def _as_held(binding: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """An API-typed binding in the schema's normal form (d1's `id` is `database_id`, a
    default is its absence); our own types and a json value exactly as they are."""
    if binding["type"] in ("json", "plain_text", "secret_text", "secrets_store_secret"):
        return fields
    params = {k: v for k, v in fields.items() if k not in ("name", "type")}
    return {"name": fields["name"], "type": fields["type"], **normal_form(fields["type"], params)}


# -- the properties ---------------------------------------------------------------------------


def test_the_generator_covers_every_manifest_key() -> None:
    """A new manifest key or binding type needs its strategy above (see the module doc)."""
    assert set(WORKER_KEYS) == set(WorkerSpec.model_fields) - {"name", "script"}
    assert set(BINDINGS) == set(BINDING_TYPES)
    assert set(StoreSpec.model_fields) == {"name"}
    assert set(SecretSpec.model_fields) == {"name", "store", "value_from", "scopes", "comment"}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kinds=st.fixed_dictionaries({n: st.sampled_from(sorted(BINDINGS)) for n in BINDING_NAMES}),
    data=st.data(),
    seed=st.integers(0, 2**32),
)
def test_apply_then_plan_is_empty_however_empties_are_spelled(
    kinds: dict[str, str], data: st.DataObject, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    sets = data.draw(st.lists(manifest_sets(kinds), min_size=1, max_size=2), label="sets")
    # Then only json values change (often one empty for another): applied, not compared away.
    doc, files = copy.deepcopy(sets[-1])
    json_bindings = [b for w in doc.get("workers", []) for b in w.get("bindings", [])]
    json_bindings = [b for b in json_bindings if b["type"] == "json"]
    for b in json_bindings:
        b["json"] = data.draw(json_values, label=f"json {b['name']}")
    if json_bindings:
        sets.append((doc, files))
    config = EmulatorConfig.model_validate(
        {"accounts": [{"id": DEFAULT_ACCOUNT_ID, "max_stores": 2}], "zones": ZONES}
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for env in start_env(config, root, monkeypatch):
            for i, (doc, files) in enumerate(sets):
                manifests = str(_write(root / f"set{i}", doc, files))
                applied = env.run("apply", manifests, "--auto-approve", "--prune", *MAX_STORES)
                assert applied.exit_code == 0, applied.output
                plan = env.run(
                    "plan", manifests, "--detailed-exitcode", "--format", "json", *MAX_STORES
                )
                assert plan.exit_code == 0, plan.output
                assert json.loads(plan.output)["actions"] == []
                assert asyncio.run(_respelled_plan(env, Path(manifests), seed)) == []
                _holds_what_was_declared(env, doc)
