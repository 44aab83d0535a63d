"""The asset manifest exactly as wrangler builds it: hashes (checked against wrangler's own
BLAKE3 hash of the same files, computed with its bundled blake3-wasm), paths, what is left
out, `.assetsignore`, and each file through the file policy and the size limit."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from reconciler.asset_files import (
    CHUNK,
    MAX_ASSET_BYTES,
    encode_file,
    extension,
    hash_bytes,
    hash_file,
    read_tree,
)

# hashFile(path) of wrangler 4.86.0 (node, its blake3-wasm) for these names and contents.
BIG = bytes((i * 7) % 256 for i in range(3 * 256 * 1024 * 2 + 1))
WRANGLER_HASHES = [
    ("a.html", b"hello", "a2b82584e50075886b08927390f2f573"),
    ("big.js", BIG, "fcc6718f2b94ecde4f7719ec4fb69d79"),
    (".env", b"A=1\n", "5d19b50ce015444acd5acabf889053a4"),
    ("x.tar.gz", b"", "6c24033d630122d5c67c8671b61e0313"),
]


@pytest.mark.parametrize(("name", "content", "expected"), WRANGLER_HASHES)
def test_hash_is_wranglers(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    (tmp_path / name).write_bytes(content)
    assert hash_bytes(name, content) == expected
    assert hash_file(tmp_path / name, tmp_path, name) == (expected, len(content))


def test_extension_is_nodes_extname() -> None:
    cases = {"a.js": "js", ".env": "", "x.": "", "...x": "x", "..": "", "a.b.c": "c", ".a.b": "b"}
    assert {name: extension(name) for name in cases} == cases
    assert extension("dir.v2/readme") == ""


def test_streamed_hash_crosses_chunk_boundaries(tmp_path: Path) -> None:
    for size in (CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 2):
        data = os.urandom(size)
        (tmp_path / "f.bin").write_bytes(data)
        assert hash_file(tmp_path / "f.bin", tmp_path, "f.bin")[0] == hash_bytes("f.bin", data)


def test_hashing_holds_no_file_whole(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(os.urandom(20 * 1024 * 1024))
    tracemalloc.start()
    hash_file(tmp_path / "big.bin", tmp_path, "big.bin")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # A chunk, its base64 and the one before (the generator yields it): never the 20 MiB.
    assert peak < 5 * CHUNK


def test_tree_paths_ignore_rules_and_left_out_files(tmp_path: Path) -> None:
    public = tmp_path / "public"
    (public / "a" / "b").mkdir(parents=True)
    (public / "node_modules").mkdir()
    for rel in ("index.html", "a/b/deep.txt", "a/skip.map", "node_modules/x.js", "_headers"):
        (public / rel).write_text(rel)
    (public / "_redirects").write_text("/old /new 301\n")
    (public / ".assetsignore").write_text("*.map\nnode_modules\n")
    tree, problems = read_tree(public, tmp_path)
    assert problems == []
    assert [f.path for f in tree.files] == ["/a/b/deep.txt", "/index.html"]
    assert tree.headers == "_headers" and tree.redirects == "/old /new 301\n"
    assert tree.manifest()["/index.html"] == {
        "hash": hash_bytes("index.html", b"index.html"),
        "size": 10,
    }


def test_each_file_breaking_the_policy_is_named(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    (public / "ok.txt").write_text("ok")
    (public / "out").symlink_to("/etc/hostname")
    (public / "inside").symlink_to(public / "ok.txt")
    (public / "big.bin").write_bytes(b"\0" * (MAX_ASSET_BYTES + 1))
    os.mkfifo(public / "pipe")
    tree, problems = read_tree(public, tmp_path)
    named = {p.path: p.reason for p in problems}
    assert set(named) == {"/out", "/big.bin", "/pipe"}
    assert "outside" in named["/out"] and "25 MiB" in named["/big.bin"]
    assert "FIFO" in named["/pipe"]
    assert [f.path for f in tree.files] == ["/inside", "/ok.txt"]


def test_file_count_limit(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    for i in range(4):
        (public / f"{i}.txt").write_text(str(i))
    _, problems = read_tree(public, tmp_path, max_files=3)
    assert (
        len(problems) == 1 and "4 files" in str(problems[0]) and "3 per Worker" in str(problems[0])
    )


def test_a_directory_outside_the_manifests_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "m").mkdir()
    with pytest.raises(Exception, match="leaves the manifest's directory"):
        read_tree(tmp_path / "m" / ".." / "elsewhere", tmp_path / "m")


def test_upload_encoding_rechecks_the_hash(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"abcd")
    digest = hash_bytes("f.txt", b"abcd")
    assert encode_file(tmp_path / "f.txt", tmp_path, "f.txt", digest) == b"YWJjZA=="
    (tmp_path / "f.txt").write_bytes(b"abce")
    with pytest.raises(Exception, match="changed after the plan read it"):
        encode_file(tmp_path / "f.txt", tmp_path, "f.txt", digest)
