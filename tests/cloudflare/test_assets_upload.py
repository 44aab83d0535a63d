"""The asset upload flow against the emulator: only the buckets the session asks for are sent,
the completion token is answered once the account holds every file, a file changed after the
plan hashed it is refused with nothing deployed, and the emulator refuses parts that do not
match their hash or come with a token it did not issue."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from reconciler.asset_files import read_tree
from reconciler.cloudflare.assets_upload import ask_session, upload_assets
from reconciler.errors import ApiError, ReconcilerError
from reconciler.state import WorkerAssets

from .conftest import ACCOUNT, Emulator, inprocess


def _assets(tmp_path: Path, files: int) -> WorkerAssets:
    public = tmp_path / "public"
    public.mkdir(exist_ok=True)
    for i in range(files):
        (public / f"f{i}.txt").write_text(f"file {i}\n")
    tree, problems = read_tree(public, tmp_path)
    assert problems == []
    return WorkerAssets(digest="x", tree=tree, directory=public, root=tmp_path)


def _uploads(emu: Emulator) -> list[dict[str, object]]:
    log = asyncio.run(emu.requests())
    return [r for r in log if str(r["path"]).endswith("/workers/assets/upload")]


def test_only_what_the_account_lacks_is_uploaded(tmp_path: Path) -> None:
    emu = inprocess()
    assets = _assets(tmp_path, 120)

    async def run() -> tuple[str, str, int]:
        async with emu.client() as client:
            first = await upload_assets(client, ACCOUNT, "site", assets)
            assert assets.tree is not None
            again = await ask_session(client, ACCOUNT, "site", assets.tree)
            return first, again.jwt, len(again.missing_paths)

    first, again, missing = asyncio.run(run())
    assert first and again and missing == 0
    assert len(_uploads(emu)) == 3  # 120 files, 50 to a bucket


def test_a_file_changed_after_the_plan_is_refused(tmp_path: Path) -> None:
    emu = inprocess()
    assets = _assets(tmp_path, 3)
    (tmp_path / "public" / "f1.txt").write_text("edited after the plan\n")

    async def run() -> None:
        async with emu.client() as client:
            await upload_assets(client, ACCOUNT, "site", assets)

    with pytest.raises(ReconcilerError, match=r"/f1.txt changed after the plan read it.*"
                       r"Worker was not changed"):  # fmt: skip
        asyncio.run(run())
    assert _uploads(emu) == []


def test_the_emulator_checks_tokens_and_hashes(tmp_path: Path) -> None:
    emu = inprocess()
    assets = _assets(tmp_path, 1)
    assert assets.tree is not None
    (entry,) = assets.tree.files

    async def run() -> list[int]:
        async with emu.client() as client:
            session = await ask_session(client, ACCOUNT, "site", assets.tree)  # type: ignore[arg-type]
        statuses = []
        async with httpx.AsyncClient(base_url=emu.base_url, transport=emu.transport) as http:
            url = f"/accounts/{ACCOUNT}/workers/assets/upload?base64=true"
            for token, body in (("forged", b"ZmlsZSAwCg=="), (session.jwt, b"bm90IGl0Cg==")):
                r = await http.post(
                    url,
                    headers={"Authorization": f"Bearer {token}"},
                    files=[(entry.hash, (entry.hash, body, "text/plain"))],
                )
                statuses.append(r.status_code)
        return statuses

    assert asyncio.run(run()) == [401, 400]


def test_a_session_asking_for_unknown_files_is_refused(tmp_path: Path) -> None:
    from reconciler.cloudflare.assets_upload import _checked
    from reconciler.cloudflare.models import AssetsSession

    assets = _assets(tmp_path, 1)
    assert assets.tree is not None
    bogus = AssetsSession(jwt="a.b.c", buckets=[["0" * 32]])
    with pytest.raises(ApiError, match="does not hold"):
        _checked(bogus, assets.tree, "/x")
    with pytest.raises(ApiError, match="no usable upload token"):
        _checked(AssetsSession(jwt="bad token\r\n", buckets=[]), assets.tree, "/x")
