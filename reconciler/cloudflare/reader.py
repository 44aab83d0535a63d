"""Read an account into the shared `State` model, with as few calls as possible.

Calls: stores (paged), secrets of each store (paged, 100 a page), quota, the
workers list, then per worker only what the list lacks: settings for bindings,
content for the code digest. Both are skipped when the cache's entry still
matches the listed `etag` and `modified_on`; the content alone is skipped when the
code digest is known for the listed `etag`, from the cache or from the code tag
our last upload wrote (`codetag.py`; docs/cheap-reads.md says what each skipped
read could and could not miss). Everything independent runs concurrently; the
client bounds it.

Live workers carry the code digest, not the code (`Worker.modules` is empty). Each
Worker facet (`cloudflare/facets/`) turns the listing and settings into its fields.
Script secrets (`secret_text`) come from the settings too: their names, and the
fingerprints the deployed version's record holds (`markers.parse_secrets_record`).
Bindings name stores, not store ids, so they compare with the manifests.
`State.max_stores` is the configured limit, else 1: the API exposes no store
quota, and free and standard plans allow one store.
"""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

from reconciler.cloudflare.cache import CachedScript, ScriptCache
from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.codetag import digest_from_tags
from reconciler.cloudflare.deployment_reads import read_deployments
from reconciler.cloudflare.facets import FACETS
from reconciler.cloudflare.facets.triggers import TriggerNeeds
from reconciler.cloudflare.models import ScriptRecord, ScriptSettings, StoreRecord
from reconciler.cloudflare.trigger_reads import read_triggers
from reconciler.cloudflare.upload import detect_format
from reconciler.markers import WORKER_TAG, parse_comment
from reconciler.state import Secret, State, Store, Worker, WorkerFormat, WorkerParts, script_digest

DEFAULT_MAX_STORES = 1


async def read_live(
    client: CloudflareClient,
    account_id: str,
    *,
    max_stores: int | None = None,
    needs: TriggerNeeds | None = None,
    rollouts: dict[str, Worker] | None = None,
) -> State:
    """The account; `needs` says which trigger keys the manifests manage (none: no reads);
    `rollouts`, the desired workers that set `rollout` (their deployments are read)."""
    cache = ScriptCache.open(client.config.cache_dir, account_id)
    state = State(
        account_id=account_id,
        max_stores=max_stores if max_stores is not None else DEFAULT_MAX_STORES,
    )
    (stores, secrets), quota, scripts = await asyncio.gather(
        _read_stores(client, account_id),
        client.get_quota(account_id),
        client.list_scripts(account_id),
    )
    state.secret_quota = quota.quota
    for store in stores:
        state.stores[store.name] = Store(name=store.name, id=store.id)
    for secret in secrets:
        state.secrets[secret.key] = secret
    store_names = {s.id: s.name for s in stores}
    client.limiter.announce(sum(_calls_for(r, cache) for r in scripts), "reading the account")
    workers = await asyncio.gather(
        *(_read_worker(client, account_id, r, cache, store_names) for r in scripts)
    )
    for worker in workers:
        state.workers[worker.name] = worker
    if needs is not None:
        await read_triggers(client, account_id, state, {r.id: r for r in scripts}, needs)
    if rollouts:
        await read_deployments(client, account_id, state, rollouts)
    cache.save(account_id)
    return state


async def _read_stores(
    client: CloudflareClient, account_id: str
) -> tuple[list[StoreRecord], list[Secret]]:
    stores = await client.list_stores(account_id)
    per_store = await asyncio.gather(*(client.list_secrets(account_id, s.id) for s in stores))
    secrets: list[Secret] = []
    for store, records in zip(stores, per_store, strict=True):
        for r in records:
            text, managed, fingerprint = parse_comment(r.comment)
            secrets.append(
                Secret(
                    store=store.name,
                    name=r.name,
                    scopes=frozenset(r.scopes),
                    comment=text,
                    managed=managed,
                    fingerprint=fingerprint,
                    id=r.id,
                )
            )
    return stores, secrets


async def _read_worker(
    client: CloudflareClient,
    account_id: str,
    record: ScriptRecord,
    cache: ScriptCache,
    store_names: dict[str, str],
) -> Worker:
    cached = cache.get(record.id, record.etag, record.modified_on)
    settings = _cached_settings(cached)
    fmt_hint: WorkerFormat | None = None
    digest: str | None
    if cached is not None and settings is not None:
        digest = cached.digest
    elif (digest := _known_digest(record, cache, record.tags)) is not None:
        settings = await client.get_script_settings(account_id, record.id)
    elif record.tags is None:
        # The list said nothing about tags: the settings carry them.
        settings = await client.get_script_settings(account_id, record.id)
        digest = _known_digest(record, cache, settings.tags)
        if digest is None:
            digest, fmt_hint = await _fetch_code(client, account_id, record.id)
    else:
        settings, (digest, fmt_hint) = await asyncio.gather(
            client.get_script_settings(account_id, record.id),
            _fetch_code(client, account_id, record.id),
        )
    assert settings is not None  # every branch above had or read them
    if record.etag is not None and record.modified_on is not None:
        cache.put(
            record.id,
            CachedScript(record.etag, record.modified_on, settings.model_dump(), digest),
        )
    if record.has_modules is not None:
        fmt: WorkerFormat = "module" if record.has_modules else "classic"
    else:
        fmt = fmt_hint or "classic"
    tags = record.tags if record.tags is not None else settings.tags or []
    parts: WorkerParts = {"format": fmt, "script_digest": digest or ""}
    for facet in FACETS:
        parts.update(facet.read(record, settings, store_names))
    return Worker(
        name=record.id,
        managed=WORKER_TAG in tags,
        etag=record.etag,
        modified_on=record.modified_on,
        tags=tuple(tags),
        **parts,
    )


def _cached_settings(cached: CachedScript | None) -> ScriptSettings | None:
    """The cached settings, or None when absent or unreadable (then we read again)."""
    if cached is None:
        return None
    try:
        return ScriptSettings.model_validate(cached.settings)
    except ValidationError:
        return None


def _known_digest(record: ScriptRecord, cache: ScriptCache, tags: list[str] | None) -> str | None:
    """The code digest for the listed etag without reading the code, if we can prove it."""
    return cache.digest_for(record.id, record.etag) or digest_from_tags(tags or [], record.etag)


def _calls_for(record: ScriptRecord, cache: ScriptCache) -> int:
    """Reads `_read_worker` will make for this script (for the up-front estimate)."""
    cached = cache.get(record.id, record.etag, record.modified_on)
    if cached is not None and _cached_settings(cached) is not None:
        return 0
    return 1 if _known_digest(record, cache, record.tags) is not None else 2


async def _fetch_code(
    client: CloudflareClient, account_id: str, name: str
) -> tuple[str, WorkerFormat | None]:
    modules = await client.get_script_content(account_id, name)
    fmt: WorkerFormat | None = None
    if modules:
        fmt = detect_format(modules[0].content.decode("utf-8", "replace"))
    return script_digest(modules), fmt
