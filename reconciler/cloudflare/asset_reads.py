"""What the plan learns about a live Worker's assets beyond the listing, for the workers
whose manifests set `assets` (a key left out costs nothing):

- when our tag proves which assets our last upload sent and they are the desired ones:
  nothing more;
- when it proves other ones and the asset cache holds that upload's file list: the list
  (changed, added and removed files are then exact), no call;
- otherwise one upload session, which says which files the account lacks (nothing is
  uploaded, the script is not changed).
"""

from __future__ import annotations

import asyncio
import dataclasses

from reconciler.cloudflare.asset_cache import AssetCache
from reconciler.cloudflare.assets_upload import ask_session
from reconciler.cloudflare.client import CloudflareClient
from reconciler.state import State, Worker


async def read_asset_states(
    client: CloudflareClient, account: str, live: State, desired: State
) -> None:
    """Fill `previous` and `missing` of the live workers' assets, in place."""
    cache = AssetCache.open(client.config.cache_dir, account)
    asks: list[tuple[Worker, Worker]] = []
    for name, want in desired.workers.items():
        have = live.workers.get(name)
        if want.assets is None or want.assets.tree is None or have is None:
            continue
        if have.assets is None or have.assets.digest == want.assets.digest:
            continue
        previous = cache.files_for(name, have.assets.digest)
        if previous is not None:
            live.workers[name] = dataclasses.replace(
                have, assets=dataclasses.replace(have.assets, previous=previous)
            )
        else:
            asks.append((have, want))
    answers = await asyncio.gather(
        *(ask_session(client, account, w.name, d.assets.tree) for w, d in asks)  # type: ignore[union-attr,arg-type]
    )
    for (have, _), answer in zip(asks, answers, strict=True):
        assert have.assets is not None
        live.workers[have.name] = dataclasses.replace(
            have, assets=dataclasses.replace(have.assets, missing=answer.missing_paths)
        )
