"""Persistent score cache: SQLite in WAL mode, safe with several processes writing at once.

A key is the sha256 of (model id + weights hash, scoring method version, window, strand policy,
reference window sequence, variant offset, REF, ALT), so a cached value can only be reused by the
same model weights on the same reference sequence. Values are JSON (scores) plus raw float32 bytes
(embedding delta).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ScoreCache", "cache_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS variant_scores (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    payload TEXT NOT NULL,
    embedding BLOB,
    created REAL NOT NULL
)
"""


def cache_key(*parts: Any) -> str:
    """sha256 of the parts joined with a separator that cannot occur in DNA or ids."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


class ScoreCache:
    """Variant-score cache in one SQLite file (WAL journal, busy timeout, INSERT OR IGNORE).

    Parameters
    ----------
    path
        SQLite file; created with its folder when missing.
    timeout
        Seconds a writer waits for a lock held by another process.
    """

    def __init__(self, path: str | os.PathLike[str], timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        self._retry(lambda: self._con.execute(_SCHEMA))
        self.hits = 0
        self.misses = 0

    def _retry(self, fn, attempts: int = 20):
        for i in range(attempts):
            try:
                return fn()
            except sqlite3.OperationalError as exc:  # "database is locked" past busy_timeout
                if "locked" not in str(exc) or i == attempts - 1:
                    raise
                time.sleep(0.05 * (i + 1))
        return None

    def get_many(self, keys: list[str]) -> dict[str, tuple[dict, np.ndarray | None]]:
        """Cached entries among ``keys`` (missing keys are absent from the result)."""
        out: dict[str, tuple[dict, np.ndarray | None]] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = f"SELECT key, payload, embedding FROM variant_scores WHERE key IN ({','.join('?' * len(chunk))})"
            rows = self._retry(lambda q=q, chunk=chunk: self._con.execute(q, chunk).fetchall())
            for key, payload, emb in rows:
                out[key] = (json.loads(payload), None if emb is None else np.frombuffer(emb, dtype=np.float32).copy())
        self.hits += len(out)
        self.misses += len(set(keys) - set(out))
        return out

    def put_many(self, model: str, items: list[tuple[str, dict, np.ndarray | None]]) -> None:
        """Store entries in one transaction; an existing key is kept (first writer wins)."""
        if not items:
            return
        rows = [
            (k, model, json.dumps(p), None if e is None else np.asarray(e, dtype=np.float32).tobytes(), time.time())
            for k, p, e in items
        ]

        def write():
            cur = self._con.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.executemany("INSERT OR IGNORE INTO variant_scores VALUES (?, ?, ?, ?, ?)", rows)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

        self._retry(write)

    def __len__(self) -> int:
        return int(self._con.execute("SELECT COUNT(*) FROM variant_scores").fetchone()[0])

    def close(self) -> None:
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
