# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SQLite state: orders, certificates, idempotence keys, counters, logs.

One connection, used only from the event loop thread and never across an
``await``: a check followed by an insert is atomic with respect to other
requests. The idempotence key is also a PRIMARY KEY, so a second order for one
key cannot be stored even by mistake.
"""

from __future__ import annotations

import json
import os
import pathlib
import sqlite3
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    order_number TEXT NOT NULL,
    op TEXT NOT NULL,                 -- create | reissue | bound
    idempotence_id TEXT,
    product_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    path TEXT NOT NULL,               -- JSON list of states
    step INTEGER NOT NULL,            -- index in path, -1 when off the path
    entered REAL NOT NULL,            -- when the current state was entered
    next_due REAL,                    -- when the state machine moves it next (NULL: not by time)
    is_pay INTEGER NOT NULL,
    common_name TEXT NOT NULL,
    hosts TEXT NOT NULL,              -- JSON list
    month INTEGER NOT NULL,
    request TEXT NOT NULL,            -- JSON: the (lower-cased) create parameters, org, documents count
    csrs TEXT NOT NULL,               -- JSON {rsa|sign|encrypt: pem}
    created REAL NOT NULL,
    reissued_from TEXT,
    reissued_to TEXT,
    bound_order TEXT,                 -- SM2 order <-> its RSA order
    revoke_on_issue TEXT,             -- order whose certificate is revoked when this one is issued
    revoke_reason TEXT,
    cancel_reason TEXT,
    issued_at REAL,
    revoked_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS orders_seq ON orders(seq);
CREATE INDEX IF NOT EXISTS orders_due ON orders(next_due);
CREATE TABLE IF NOT EXISTS idempotence (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    order_id TEXT NOT NULL,
    op TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS certs (
    serial TEXT PRIMARY KEY,          -- lower-case hex, no leading zeros
    order_id TEXT NOT NULL,
    usage TEXT NOT NULL,              -- rsa | sign | encrypt
    pem TEXT NOT NULL,
    chain TEXT NOT NULL,              -- JSON list, root first
    not_after REAL NOT NULL,
    issued_at REAL NOT NULL,
    revoked_at REAL,
    revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS certs_order ON certs(order_id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS push_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL, order_id TEXT, event TEXT, attempt INTEGER, url TEXT,
    body TEXT, signature TEXT, http_status INTEGER, error TEXT, delivered INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL, order_id TEXT, collect_url TEXT, status TEXT, sent INTEGER NOT NULL, request_id TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dcv (                -- per-domain DCV of backend: sectigo orders
    order_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    pos INTEGER NOT NULL,             -- order of the names: commonName first
    state TEXT NOT NULL,              -- pending | failed | validated
    checked_at REAL,                  -- last attempt (or when it was marked validated)
    detail TEXT,
    url TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, domain)
);
"""

ORDER_JSON = ("path", "hosts", "request", "csrs")


class IdempotenceConflict(Exception):
    def __init__(self, key, order_id):
        super().__init__(key)
        self.key = key
        self.order_id = order_id


class Store:
    def __init__(self, state_dir: pathlib.Path):
        path = pathlib.Path(state_dir) / "sandbox.sqlite3"
        new = not path.exists()
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        if new:
            os.chmod(str(path), 0o600)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self):
        self.db.close()

    # -- transactions --------------------------------------------------------
    def tx(self):
        return _Tx(self.db)

    # -- counters ------------------------------------------------------------
    def count(self, name):
        self.db.execute("INSERT INTO counters(name, n) VALUES (?, 1) "
                        "ON CONFLICT(name) DO UPDATE SET n = n + 1", (name,))

    def counts(self):
        return {r["name"]: r["n"] for r in self.db.execute("SELECT name, n FROM counters")}

    # -- orders --------------------------------------------------------------
    def next_seq(self):
        row = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM orders").fetchone()
        return row[0]

    def insert_order(self, order):
        row = dict(order)
        for k in ORDER_JSON:
            row[k] = json.dumps(row[k], ensure_ascii=False)
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.db.execute("INSERT INTO orders(%s) VALUES (%s)" % (cols, marks), list(row.values()))

    def update_order(self, order_id, **fields):
        for k in ORDER_JSON:
            if k in fields:
                fields[k] = json.dumps(fields[k], ensure_ascii=False)
        sets = ", ".join("%s = ?" % k for k in fields)
        self.db.execute("UPDATE orders SET %s WHERE id = ?" % sets, list(fields.values()) + [order_id])

    @staticmethod
    def _order(row):
        if row is None:
            return None
        o = dict(row)
        for k in ORDER_JSON:
            o[k] = json.loads(o[k])
        return o

    def get_order(self, order_id):
        return self._order(self.db.execute("SELECT * FROM orders WHERE id = ?",
                                           (str(order_id).strip().upper(),)).fetchone())

    def orders(self):
        return [self._order(r) for r in self.db.execute("SELECT * FROM orders ORDER BY seq")]

    def due_orders(self, now):
        return [r["id"] for r in self.db.execute(
            "SELECT id FROM orders WHERE next_due IS NOT NULL AND next_due <= ? ORDER BY next_due", (now,))]

    def orders_in_status(self, status):
        return [r["id"] for r in self.db.execute("SELECT id FROM orders WHERE status = ? ORDER BY seq", (status,))]

    def next_due(self):
        row = self.db.execute("SELECT MIN(next_due) FROM orders WHERE next_due IS NOT NULL").fetchone()
        return row[0]

    # -- idempotence ------------------------------------------------------------
    def idempotence_lookup(self, key):
        row = self.db.execute("SELECT * FROM idempotence WHERE key = ?", (key,)).fetchone()
        return dict(row) if row else None

    def idempotence_insert(self, key, fingerprint, order_id, op):
        self.db.execute("INSERT INTO idempotence(key, fingerprint, order_id, op, created) VALUES (?, ?, ?, ?, ?)",
                        (key, fingerprint, order_id, op, time.time()))

    def idempotence_counts(self):
        out = {}
        for r in self.db.execute("SELECT idempotence_id, COUNT(*) AS n FROM orders "
                                 "WHERE idempotence_id IS NOT NULL GROUP BY idempotence_id"):
            out[r["idempotence_id"]] = r["n"]
        return out

    # -- certificates -------------------------------------------------------------
    def insert_cert(self, serial, order_id, usage, pem, chain, not_after):
        self.db.execute("INSERT INTO certs(serial, order_id, usage, pem, chain, not_after, issued_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (serial, order_id, usage, pem, json.dumps(chain), not_after, time.time()))

    def certs_of(self, order_id):
        out = []
        for r in self.db.execute("SELECT * FROM certs WHERE order_id = ? ORDER BY issued_at", (order_id,)):
            c = dict(r)
            c["chain"] = json.loads(c["chain"])
            out.append(c)
        return out

    def revoke_certs(self, order_id, reason, when):
        self.db.execute("UPDATE certs SET revoked_at = ?, revoke_reason = ? WHERE order_id = ? AND revoked_at IS NULL",
                        (when, reason, order_id))

    def revoked_serials(self):
        return [(int(r["serial"], 16), r["revoked_at"]) for r in
                self.db.execute("SELECT serial, revoked_at FROM certs WHERE revoked_at IS NOT NULL")]

    def cert_status(self, serial_hex):
        row = self.db.execute("SELECT * FROM certs WHERE serial = ?", (serial_hex,)).fetchone()
        return dict(row) if row else None

    # -- DCV ----------------------------------------------------------------------
    def dcv_init(self, order_id, domains):
        for pos, domain in enumerate(domains):
            self.db.execute("INSERT OR IGNORE INTO dcv(order_id, domain, pos, state) VALUES (?, ?, ?, 'pending')",
                            (order_id, domain, pos))

    def dcv_of(self, order_id):
        """{domain: {state, checked_at, detail, url, attempts}} in the order of the names."""
        return {r["domain"]: {"state": r["state"], "checked_at": r["checked_at"], "detail": r["detail"],
                              "url": r["url"], "attempts": r["attempts"]}
                for r in self.db.execute("SELECT * FROM dcv WHERE order_id = ? ORDER BY pos", (order_id,))}

    def dcv_record(self, order_id, domain, state, checked_at, detail, url=None, attempt=True):
        self.db.execute("UPDATE dcv SET state = ?, checked_at = ?, detail = ?, url = COALESCE(?, url), "
                        "attempts = attempts + ? WHERE order_id = ? AND domain = ?",
                        (state, checked_at, detail, url, 1 if attempt else 0, order_id, domain))

    # -- logs -------------------------------------------------------------------
    def _log_insert(self, table, row):
        cols = ", ".join(row)
        self.db.execute("INSERT INTO %s(%s) VALUES (%s)" % (table, cols, ", ".join("?" for _ in row)),
                        list(row.values()))

    def _log_rows(self, table, flag):
        """The rows of a log table in order, with the 0/1 column ``flag`` as a bool."""
        out = []
        for r in self.db.execute("SELECT * FROM %s ORDER BY id" % table):
            d = dict(r)
            d[flag] = bool(d[flag])
            out.append(d)
        return out

    def log_push(self, **row):
        self._log_insert("push_log", row)

    def push_log(self):
        return self._log_rows("push_log", "delivered")

    def log_notification(self, **row):
        self._log_insert("notifications", row)

    def notifications(self):
        return self._log_rows("notifications", "sent")

    # -- reset ------------------------------------------------------------------
    def reset(self):
        with self.tx():
            for table in ("orders", "idempotence", "certs", "counters", "push_log", "notifications", "dcv"):
                self.db.execute("DELETE FROM %s" % table)


class _Tx:
    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
