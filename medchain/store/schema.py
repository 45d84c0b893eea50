"""Every table of the local store, and the upgrades between its layouts (``PRAGMA user_version``).

Version 1 is the layout the first release wrote (each module then created its own tables on first use, so
an old store holds any subset of them; version 1 creates the missing ones). Later versions are numbered
steps below; :func:`migrate` runs the missing ones in one transaction each, so an interrupted upgrade leaves
the previous version intact. A store from a newer medchain is refused instead of being guessed at.

- 2: ``salt_keys.sealed`` (keys encrypted at rest, :mod:`medchain.store.secrets`) and ``store_secrets``
  (the passphrase's scrypt salt and check value); ``record_submissions (hospital)`` index;
  ``drug_shipments`` (shipments' serial lists, issue 12; stores that already have it keep it).
- 3: the record journal's lookup indexes hold the first 4 bytes of the leaf and of the record hash
  (``substr(x, 1, 4)``) instead of all 32: under a third of the pages (3,181 instead of 10,114 per index
  at 1,000,000 records, freshly built), so a batch's random-key inserts into a big journal dirty, log and
  checkpoint far fewer pages (20,000 records into a 1,000,000-record store: 8,800 WAL pages instead of
  21,000-25,000; 8-byte prefixes: 11,100; an empty store: 1,300), issue 15 item 4. Queries match the
  prefix through the index and the whole value on the row (:data:`KEY_PREFIX`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from medchain.errors import ConfigError

__all__ = ["KEY_PREFIX", "SCHEMA_VERSION", "migrate", "schema_version", "statements"]

SCHEMA_VERSION = 3

#: bytes of a leaf / record hash the record journal's indexes hold (version 3): the values are uniform hashes,
#: so a lookup meets N / 2**32 other rows on average (0.0002 at a million records), which the query's test of
#: the whole value drops
KEY_PREFIX = 4

V1 = """
-- from medchain/journal.py
CREATE TABLE IF NOT EXISTS record_submissions (
    id          INTEGER PRIMARY KEY,
    chain_id    INTEGER NOT NULL,
    registry    TEXT    NOT NULL,               -- RecordRegistry address
    hospital    TEXT    NOT NULL,               -- member address the records are anchored for
    kind        TEXT    NOT NULL CHECK (kind IN ('records', 'amend', 'batch')),
    root        BLOB,                           -- batch: Merkle root (= batch id)
    previous    BLOB,                           -- amend: the leaf being superseded
    leaf_count  INTEGER NOT NULL,
    uri         TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL DEFAULT '',    -- what the user gave (directory, manifest, files)
    status      TEXT    NOT NULL CHECK (status IN ('prepared', 'sent', 'done', 'conflict')),
    tx_hash     BLOB,
    block_number INTEGER,
    anchored_at INTEGER,                        -- block time on chain
    attempts    INTEGER NOT NULL DEFAULT 0,     -- transactions sent for it
    note        TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (chain_id, registry, root)
);
CREATE TABLE IF NOT EXISTS record_items (
    submission_id INTEGER NOT NULL REFERENCES record_submissions (id),
    value_index   INTEGER NOT NULL,             -- position in the submission (OZ value index for a batch)
    leaf          BLOB    NOT NULL,             -- DESIGN 6.5 leaf = the record's key on chain
    record_hash   BLOB    NOT NULL,
    commitment    BLOB    NOT NULL,
    data_class    INTEGER NOT NULL,
    patient       TEXT,                         -- local only, never sent on chain
    method        TEXT    NOT NULL,             -- how record_hash was made (medchain.hashing)
    source        TEXT    NOT NULL DEFAULT '',  -- file it came from
    state         TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'anchored', 'conflict')),
    PRIMARY KEY (submission_id, value_index)
);
CREATE INDEX IF NOT EXISTS record_items_leaf ON record_items (leaf);
CREATE INDEX IF NOT EXISTS record_items_hash ON record_items (record_hash);
CREATE TABLE IF NOT EXISTS record_trees (
    submission_id INTEGER PRIMARY KEY REFERENCES record_submissions (id),
    nodes         BLOB NOT NULL,                -- OZ flat tree: 2n-1 nodes of 32 bytes
    leaf_order    BLOB NOT NULL                 -- array('I'): leaf position -> value index
);

-- from medchain/salts.py
CREATE TABLE IF NOT EXISTS salt_keys (
    hospital    TEXT    PRIMARY KEY,            -- member address (checksummed)
    key         BLOB    NOT NULL,               -- 32 secret bytes
    created_at  INTEGER NOT NULL,
    exported_at INTEGER                         -- last backup (None = never exported)
);

-- the claim journal (medchain.store.claims)
CREATE TABLE IF NOT EXISTS claim_submissions (
    claims_address TEXT    NOT NULL,            -- ClaimsManager the claim goes to
    reference      TEXT    NOT NULL,            -- the submitter's own claim id (idempotency key)
    fingerprint    TEXT    NOT NULL,            -- ClaimModel.fingerprint(): same reference, same content
    source         TEXT    NOT NULL,            -- file (and row) it came from
    policy_id      INTEGER NOT NULL,
    amount         TEXT    NOT NULL,            -- base units, as text (may exceed 64 bits)
    claim_ref      TEXT    NOT NULL,            -- keccak256(reference), as sent
    invoice_hash   TEXT    NOT NULL,            -- keccak256(invoice number); the number itself is not kept
    sender         TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('intent', 'sent', 'submitted', 'failed')),
    tx_hash        TEXT,
    claim_id       INTEGER,
    block_number   INTEGER,
    error          TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (claims_address, reference)
);

-- from medchain/drugs.py
CREATE TABLE IF NOT EXISTS drug_batches (
    batch_id    BLOB PRIMARY KEY,              -- keccak256(abi.encode(uint64 gtin, string lot))
    gtin        TEXT    NOT NULL,              -- GTIN-14
    lot         TEXT    NOT NULL,
    serial_root BLOB    NOT NULL,
    nodes       BLOB    NOT NULL,              -- OZ flat tree: 2n-1 nodes of 32 bytes
    leaf_order  BLOB    NOT NULL,              -- array('I'): leaf position -> value index
    source      TEXT    NOT NULL CHECK (source IN ('commissioned', 'imported')),
    tx_hash     BLOB,                          -- commission transaction, once sent
    created_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS drug_serials (
    batch_id    BLOB    NOT NULL REFERENCES drug_batches (batch_id),
    serial      TEXT    NOT NULL,
    tree_index  INTEGER NOT NULL,              -- OZ treeIndex of the serial's leaf
    PRIMARY KEY (batch_id, serial)
);
CREATE TABLE IF NOT EXISTS drug_epcis (
    hash        BLOB PRIMARY KEY,              -- sha256 of the RFC 8785 canonical JSON (the epcisHash)
    kind        TEXT    NOT NULL,
    batch_id    BLOB,
    document    TEXT    NOT NULL,              -- the EPCIS 2.0 JSON-LD document
    tx_hash     BLOB,
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS drug_epcis_batch ON drug_epcis (batch_id);

-- from medchain/indexer.py
-- one row per transaction with suite events: its hash and sender (looked up once, shared by its events)
CREATE TABLE IF NOT EXISTS index_txs (
    id INTEGER PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    hash TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    sender TEXT,
    UNIQUE (chain_id, hash)
);
CREATE INDEX IF NOT EXISTS txs_sender ON index_txs (chain_id, sender);
CREATE INDEX IF NOT EXISTS txs_block ON index_txs (chain_id, block_number);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    tx_id INTEGER NOT NULL REFERENCES index_txs(id),
    timestamp INTEGER NOT NULL,
    contract TEXT NOT NULL,
    event TEXT NOT NULL,
    args TEXT NOT NULL,
    UNIQUE (chain_id, block_number, log_index)
);
CREATE INDEX IF NOT EXISTS events_name ON events (chain_id, contract, event);
CREATE INDEX IF NOT EXISTS events_tx ON events (tx_id);
-- every address / bytes32 / id argument of an event, so "all events touching X" is one indexed lookup
CREATE TABLE IF NOT EXISTS event_subjects (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    arg TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (event_id, arg, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subjects_value ON event_subjects (value);
CREATE TABLE IF NOT EXISTS index_state (
    chain_id INTEGER PRIMARY KEY,
    addresses TEXT NOT NULL,
    first_block INTEGER NOT NULL DEFAULT 0,
    last_block INTEGER NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT 0
);
-- block hashes seen while indexing (each page's last block and every block with events): reorg checkpoints
CREATE TABLE IF NOT EXISTS index_blocks (
    chain_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (chain_id, number)
) WITHOUT ROWID;
-- the events with their block hash, transaction hash and sender: what queries read
CREATE VIEW IF NOT EXISTS event_log AS
    SELECT e.id, e.chain_id, e.block_number, b.hash AS block_hash, t.hash AS tx_hash, e.log_index,
           e.timestamp, e.contract, e.event, e.args, t.sender AS tx_from
    FROM events e
    JOIN index_txs t ON t.id = e.tx_id
    LEFT JOIN index_blocks b ON b.chain_id = e.chain_id AND b.number = e.block_number;

-- from medchain/gateway/releases.py
CREATE TABLE IF NOT EXISTS gateway_releases (
    request_id  BLOB    PRIMARY KEY,            -- the signed request's requestId (replay key)
    kind        TEXT    NOT NULL CHECK (kind IN ('record', 'list')),
    requester   TEXT    NOT NULL,               -- member (or patient) address the request names
    signer      TEXT    NOT NULL,               -- key that signed it
    subject     BLOB    NOT NULL,               -- record: leaf; list: patient address (20 bytes)
    purpose     INTEGER NOT NULL,
    access_tx   BLOB,                           -- record: the access-log transaction (NULL: self-access)
    expires_at  INTEGER NOT NULL,
    released_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gateway_releases_expiry ON gateway_releases (expires_at);
"""

V2 = """
ALTER TABLE salt_keys ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;  -- 1: key holds nonce || AES-GCM box
CREATE TABLE IF NOT EXISTS store_secrets (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    kdf         TEXT    NOT NULL,               -- 'scrypt'
    salt        BLOB    NOT NULL,
    n           INTEGER NOT NULL,
    r           INTEGER NOT NULL,
    p           INTEGER NOT NULL,
    check_value BLOB    NOT NULL,               -- a known text sealed with the key: tells a wrong passphrase
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS record_submissions_hospital ON record_submissions (hospital);
CREATE TABLE IF NOT EXISTS drug_shipments (
    shipment_id INTEGER PRIMARY KEY,           -- DrugTrace shipment id
    batch_id    BLOB    NOT NULL,
    source      INTEGER NOT NULL,              -- 0 = the batch tree, else the shipment the serials came from
    serial_root BLOB    NOT NULL,
    serials     TEXT    NOT NULL,              -- JSON list of the shipped serials
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS drug_shipments_batch ON drug_shipments (batch_id);
CREATE INDEX IF NOT EXISTS drug_shipments_source ON drug_shipments (batch_id, source);
"""

V3 = """
DROP INDEX IF EXISTS record_items_leaf;
DROP INDEX IF EXISTS record_items_hash;
CREATE INDEX IF NOT EXISTS record_items_leaf_prefix ON record_items (substr(leaf, 1, 4));
CREATE INDEX IF NOT EXISTS record_items_hash_prefix ON record_items (substr(record_hash, 1, 4));
"""


def statements(script: str) -> list[str]:
    """The complete SQL statements of ``script``, in order (comments may hold semicolons)."""
    out: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:60]}")
    return out


def _to_v1(conn: sqlite3.Connection) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "events" in tables and "tx_id" not in {r[1] for r in conn.execute("PRAGMA table_info(events)")}:
        # an event index from before release 1: it is only a cache of the chain, so it is rebuilt
        for table in ("event_subjects", "events", "index_state", "index_blocks"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    _run(conn, V1)


def _to_v2(conn: sqlite3.Connection) -> None:
    _run(conn, V2)


def _to_v3(conn: sqlite3.Connection) -> None:
    _run(conn, V3)


def _run(conn: sqlite3.Connection, script: str) -> None:
    for statement in statements(script):
        conn.execute(statement)


#: step i takes a store from version i to i + 1
_STEPS: list[Callable[[sqlite3.Connection], None]] = [_to_v1, _to_v2, _to_v3]


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, where: str = "the local store") -> int:
    """Brings the store to :data:`SCHEMA_VERSION` (one transaction per step); returns the version it had."""
    found = schema_version(conn)
    if found == SCHEMA_VERSION:
        return found
    if found > SCHEMA_VERSION:
        raise ConfigError(
            f"{where}: store schema version {found} was written by a newer medchain (this one knows up to "
            f"{SCHEMA_VERSION}): upgrade medchain, or restore a backup made by this version"
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(conn) == version:  # another process may have upgraded it meanwhile
                _STEPS[version](conn)
                conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found
