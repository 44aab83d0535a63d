"""Reading the deployment facet: for each worker whose manifest sets `rollout`, its latest
deployment and its versions (two calls; none for a worker without the key). docs/cheap-reads.md
justifies both.

The listing and settings show one version (the one serving the largest share). During a
split the version the manifest describes may be the smaller one, or not deployed at all
(`percentage: 0`); so while a version tagged with the manifest's version digest exists, the
live worker's version fields are taken as the manifest's: versions are immutable, and ours
carries the digest of exactly what it was uploaded from (`state.version_digest`). A pinned
worker (`rollout.version`) is not compared on its version fields either: the pin says what
serves. Apart from the facet module because it imports the client.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from reconciler.cloudflare.client import CloudflareClient
from reconciler.cloudflare.models import VersionRecord
from reconciler.markers import parse_secrets_record
from reconciler.settings_forms import VERSION_KEYS
from reconciler.state import (
    VERSION_FIELDS,
    LiveDeployment,
    LiveVersion,
    State,
    Worker,
    WorkerSecret,
    rollout_tag,
)


async def read_deployments(
    client: CloudflareClient, account: str, state: State, rollouts: dict[str, Worker]
) -> None:
    names = [n for n in sorted(rollouts) if n in state.workers]
    found = await asyncio.gather(*(read_deployment(client, account, n) for n in names))
    for name, deployment in zip(names, found, strict=True):
        live = dataclasses.replace(state.workers[name], deployment=deployment)
        want = rollouts[name]
        assert want.rollout is not None
        tag = rollout_tag(want)
        ours = next((v for v in deployment.versions if v.tag == tag), None)
        if ours is not None:
            live = as_described(live, want, ours)
        elif want.rollout.version is not None:
            live = as_described(live, want, None)
        state.workers[name] = live


def as_described(live: Worker, want: Worker, version: LiveVersion | None) -> Worker:
    """`live` with the version fields of `want`: `version` is ours and holds them (its secrets
    are the declared ones, with the fingerprints its record holds); None, for a pin."""
    settings = {k: v for k, v in live.settings.items() if k not in VERSION_KEYS}
    settings.update({k: want.settings[k] for k in VERSION_KEYS if k in want.settings})
    fields: dict[str, Any] = {f: getattr(want, f) for f in VERSION_FIELDS}
    if version is not None:
        record = dict(version.record or ())
        declared = {s.name for s in want.secrets}
        others = [s for s in live.secrets if s.name not in declared]
        fields["secrets"] = tuple(
            sorted(
                [WorkerSecret(n, fingerprint=record.get(n)) for n in declared] + others,
                key=lambda s: s.name,
            )
        )
    return dataclasses.replace(live, settings=settings, **fields)


async def read_deployment(client: CloudflareClient, account: str, name: str) -> LiveDeployment:
    """One worker's latest deployment and listed versions (two calls)."""
    deployment, versions = await asyncio.gather(
        client.latest_deployment(account, name), client.list_versions(account, name)
    )
    split = tuple((v.version_id, v.percentage) for v in deployment.versions) if deployment else ()
    return LiveDeployment(split=split, versions=tuple(reversed(_tagged(versions))))


def _tagged(versions: list[VersionRecord]) -> list[LiveVersion]:
    """Oldest first, each with its `workers/tag`; a version made by a secret change (the API's
    `workers/triggered_by: secret`, or our fingerprint record written after one) holds the code
    and bindings of the version before it, so it carries that version's tag."""
    out: list[LiveVersion] = []
    previous = ""
    for v in sorted(versions, key=lambda v: v.number or 0):
        notes = v.annotations or {}
        tag = str(notes.get("workers/tag") or "")
        if not tag and _secret_change(notes):
            tag = previous
        record = parse_secrets_record(notes.get("workers/message"))
        found = tuple(sorted(record.items())) if record is not None else None
        out.append(LiveVersion(id=v.id, number=v.number or 0, tag=tag, record=found))
        previous = tag
    return out


def _secret_change(notes: dict[str, Any]) -> bool:
    if notes.get("workers/triggered_by") == "secret":
        return True
    return set(notes) <= {"workers/message", "workers/triggered_by"} and (
        parse_secrets_record(notes.get("workers/message")) is not None
    )
