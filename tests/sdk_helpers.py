"""The official Python SDK (cloudflare 5.9.0) as a test's independent reader and writer.

Tests read back what reconciler wrote, and change things out of band, with the SDK rather
than our own client, so a shared mistake cannot hide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cloudflare import Cloudflare

_AUTH_VARS = (
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_BASE_URL",
)


@contextmanager
def sdk_client(base_url: str, token: str) -> Iterator[Cloudflare]:
    """An SDK client for the emulator; stray credentials in the environment would switch its
    auth (§8.1), so they are set aside while it runs."""
    saved = {k: os.environ.pop(k) for k in _AUTH_VARS if k in os.environ}
    client = Cloudflare(base_url=base_url, api_token=token, max_retries=0)
    try:
        yield client
    finally:
        client.close()
        os.environ.update(saved)


def read_bindings(client: Cloudflare, account_id: str, script: str) -> dict[str, dict[str, Any]]:
    """The deployed bindings by name, as the SDK models them (unset fields left out)."""
    settings = client.workers.scripts.script_and_version_settings.get(script, account_id=account_id)
    return {b.name: b.model_dump(exclude_none=True, by_alias=True) for b in settings.bindings or []}


def set_bindings(
    client: Cloudflare, account_id: str, script: str, bindings: list[dict[str, Any]]
) -> None:
    """Replace a worker's bindings out of band (PATCH …/settings, a new deployed version)."""
    client.workers.scripts.script_and_version_settings.edit(
        script,
        account_id=account_id,
        settings={"bindings": bindings},  # type: ignore[typeddict-item]
    )


def migration_tag(client: Cloudflare, account_id: str, script: str) -> str | None:
    for item in client.workers.scripts.list(account_id=account_id):
        if item.id == script:
            return item.migration_tag
    raise LookupError(script)
