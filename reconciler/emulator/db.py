"""SQLite state: one connection, one lock, one transaction per request.

uvicorn serves from its own thread while tests may touch the app from theirs, so the
connection is shared (`check_same_thread=False`) and every use holds the lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS stores (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL,
    created TEXT NOT NULL, modified TEXT NOT NULL, seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, store_id TEXT NOT NULL, name TEXT NOT NULL,
    value_digest TEXT NOT NULL, comment TEXT, scopes TEXT NOT NULL, status TEXT NOT NULL,
    created TEXT NOT NULL, modified TEXT NOT NULL, seq INTEGER NOT NULL,
    UNIQUE (store_id, name)
);
CREATE TABLE IF NOT EXISTS scripts (
    account_id TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE IF NOT EXISTS versions (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, script TEXT NOT NULL, number INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deployments (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, script TEXT NOT NULL, seq INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
    secret_id TEXT PRIMARY KEY, reads_left INTEGER NOT NULL, until REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS routes (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, zone_id TEXT NOT NULL, pattern TEXT NOT NULL,
    script TEXT, seq INTEGER NOT NULL, UNIQUE (zone_id, pattern)
);
CREATE TABLE IF NOT EXISTS domains (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, zone_id TEXT NOT NULL, hostname TEXT NOT NULL,
    service TEXT NOT NULL, environment TEXT NOT NULL, cert_id TEXT NOT NULL, seq INTEGER NOT NULL,
    UNIQUE (hostname)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS asset_tokens (
    token TEXT PRIMARY KEY, account_id TEXT NOT NULL, script TEXT NOT NULL,
    kind TEXT NOT NULL, manifest TEXT NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS asset_blobs (
    account_id TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (account_id, hash)
);
"""


class Database:
    """The emulator's state; `db_path=None` keeps it in memory."""

    def __init__(self, db_path: str | None) -> None:
        if db_path is not None:
            _create_private(Path(db_path))
        self.conn = sqlite3.connect(
            db_path or ":memory:", check_same_thread=False, isolation_level=None
        )
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        try:
            self.conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise ConfigError(f"cannot use {db_path} as the emulator database: {exc}") from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: any exception rolls every change of the request back."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def next_seq(self, conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        seq = int(row["value"]) + 1 if row else 1
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('seq', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(seq),),
        )
        return seq

    def close(self) -> None:
        with self.lock:
            self.conn.close()


_SQLITE_HEADER = b"SQLite format 3\x00"


def _create_private(path: Path) -> None:
    """Create the db file owner-only before sqlite opens it (it holds digests, never values).

    An existing file is made owner-only only once it is known to be a database (or
    empty): `--db notes.txt` is refused with the file untouched.
    """
    try:
        if path.is_symlink():
            # sqlite would follow it: the emulator's state would land wherever it points.
            raise ConfigError(
                f"cannot use {path} as the emulator database: it is a symbolic link; name the "
                "database file itself"
            )
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
            os.close(fd)
        elif not path.is_file():
            raise ConfigError(f"cannot use {path} as the emulator database: not a regular file")
        else:
            with path.open("rb") as handle:
                header = handle.read(len(_SQLITE_HEADER))
            if header and header != _SQLITE_HEADER:
                raise ConfigError(
                    f"cannot use {path} as the emulator database: it is not a SQLite database "
                    "(it was left unchanged); name a new file or an emulator database"
                )
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot create the emulator database {path}: {exc.strerror}") from None


def new_id() -> str:
    """A Cloudflare-style identifier: 32 lowercase hex."""
    return uuid.uuid4().hex


def now_iso(after: str | None = None) -> str:
    """RFC 3339 UTC with microseconds, strictly later than `after` (modified_on must move)."""
    t = datetime.now(UTC)
    if after:
        prev = datetime.fromisoformat(after.replace("Z", "+00:00"))
        if t <= prev:
            t = prev + timedelta(microseconds=1)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
