"""medchain.store: the schema and its upgrades (a real release-1 store built from the fixture SQL), the
salt keys sealed with the store passphrase, and the index every journal lookup uses."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

import pytest

from medchain.errors import ConfigError
from medchain.merkle import RECORD_LEAF_ENCODING, StandardMerkleTree
from medchain.salts import derive_salt
from medchain.store import open_store, schema
from medchain.store.claims import ClaimJournal
from medchain.store.events import EventIndex, index_info
from medchain.store.keys import SaltKeys
from medchain.store.records import Item, Journal
from medchain.store.releases import ReleaseLog
from medchain.store.schema import KEY_PREFIX, SCHEMA_VERSION, schema_version

RELEASE_1_SQL = Path(__file__).parents[1] / "fixtures" / "store_v1.sql"
REGISTRY = "0x" + "11" * 20
HOSPITAL = "0x" + "22" * 20
CLAIMS = "0x" + "33" * 20
OLD_KEY = bytes(range(32))


@pytest.fixture
def plaintext_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCHAIN_INSECURE_STORE", "1")
    monkeypatch.delenv("MEDCHAIN_STORE_PASSPHRASE", raising=False)
    monkeypatch.delenv("MEDCHAIN_STORE_PASSPHRASE_FILE", raising=False)


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEDCHAIN_INSECURE_STORE", "MEDCHAIN_STORE_PASSPHRASE", "MEDCHAIN_STORE_PASSPHRASE_FILE"):
        monkeypatch.delenv(name, raising=False)


def _items(count: int) -> list[Item]:
    return [Item(os.urandom(32), os.urandom(32), 1 + i % 3, "raw", f"f{i}.pdf") for i in range(count)]


def release_1_store(path: Path) -> tuple[list[Item], StandardMerkleTree]:
    """A store as release 1 left it: its tables (verbatim SQL), user_version 0, a journaled batch, a
    plaintext salt key, a claim row, a gateway release and an event index."""
    items = _items(4)
    tree = StandardMerkleTree.of([it.value for it in items], RECORD_LEAF_ENCODING)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(RELEASE_1_SQL.read_text(encoding="utf-8"))
    now = int(time.time())
    conn.execute(
        "INSERT INTO record_submissions (id, chain_id, registry, hospital, kind, root, leaf_count, status,"
        " created_at, updated_at) VALUES (1, 1337, ?, ?, 'batch', ?, 4, 'done', ?, ?)",
        (REGISTRY, HOSPITAL, tree.root, now, now),
    )
    conn.executemany(
        "INSERT INTO record_items (submission_id, value_index, leaf, record_hash, commitment, data_class,"
        " method, source, state) VALUES (1, ?, ?, ?, ?, ?, 'raw', '', 'anchored')",
        [(i, it.leaf, it.record_hash, it.commitment, it.data_class) for i, it in enumerate(items)],
    )
    conn.execute(
        "INSERT INTO record_trees (submission_id, nodes, leaf_order) VALUES (1, ?, ?)",
        (tree.nodes, tree.order.tobytes()),
    )
    conn.execute(
        "INSERT INTO salt_keys (hospital, key, created_at) VALUES (?, ?, ?)", (HOSPITAL, OLD_KEY, now)
    )
    conn.execute(
        "INSERT INTO claim_submissions (claims_address, reference, fingerprint, source, policy_id, amount,"
        " claim_ref, invoice_hash, sender, status, created_at, updated_at)"
        " VALUES (?, 'C-1', 'f', 'claims.csv', 1, '100', '0x01', '0x02', ?, 'submitted', ?, ?)",
        (CLAIMS, HOSPITAL, now, now),
    )
    conn.execute(
        "INSERT INTO gateway_releases (request_id, kind, requester, signer, subject, purpose, expires_at,"
        " released_at) VALUES (?, 'record', ?, ?, ?, 1, ?, ?)",
        (b"\x01" * 32, HOSPITAL, HOSPITAL, b"\x02" * 32, now + 60, now),
    )
    conn.execute(
        "INSERT INTO index_state (chain_id, addresses, first_block, last_block) VALUES (1337, '[]', 0, 9)"
    )
    conn.close()
    return items, tree


def test_a_release_1_store_upgrades_in_place_and_keeps_everything(tmp_path: Path, plaintext_ok: None) -> None:
    path = tmp_path / "medchain.sqlite"
    items, tree = release_1_store(path)
    conn = open_store(path)
    assert schema_version(conn) == SCHEMA_VERSION
    journal = Journal(conn, 1337, REGISTRY)
    [sub] = journal.submissions()
    assert (sub.root, sub.status, sub.leaf_count) == (tree.root, "done", 4)
    assert journal.journaled([it.leaf for it in items]) == {it.leaf for it in items}
    for i in range(4):
        assert journal.proof(sub.id, i) == tree.get_proof(i)
    assert journal.salt_key(HOSPITAL) == OLD_KEY  # the old key, not a new one
    assert ClaimJournal(conn, CLAIMS).get("C-1")["status"] == "submitted"
    assert ReleaseLog(conn).seen(b"\x01" * 32)
    assert EventIndex(conn, 1337).last_block() == 9 and index_info(conn, 1337) is not None
    conn.close()
    assert schema_version(open_store(path)) == SCHEMA_VERSION  # opening again changes nothing


def _indexes(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                                       " AND sql IS NOT NULL", (table,))}  # fmt: skip


def test_a_version_2_store_gets_prefix_indexes_and_finds_records_by_the_whole_key(
    tmp_path: Path, plaintext_ok: None
) -> None:
    """Version 3 replaces the 32-byte leaf / record-hash indexes with 4-byte prefix indexes (issue 15 item 4):
    a store the previous release wrote (version 2, built by its own steps) upgrades in place, and a record
    whose leaf or hash shares its prefix with another's is still told apart by the whole value."""
    path = tmp_path / "medchain.sqlite"
    items, _ = release_1_store(path)
    raw = sqlite3.connect(path, isolation_level=None)
    for version in (0, 1):
        schema._STEPS[version](raw)
    raw.execute("PRAGMA user_version = 2")
    assert _indexes(raw, "record_items") == {"record_items_leaf", "record_items_hash"}
    twin_hash = items[0].record_hash[:KEY_PREFIX] + os.urandom(32 - KEY_PREFIX)
    twin = Item(twin_hash, os.urandom(32), 2, "raw", "twin.pdf")
    twin_leaf = items[0].leaf[:KEY_PREFIX] + os.urandom(32 - KEY_PREFIX)  # shares the first record's prefix
    raw.execute(
        "INSERT INTO record_items (submission_id, value_index, leaf, record_hash, commitment, data_class,"
        " method, source, state) VALUES (1, 4, ?, ?, ?, 2, 'raw', 'twin.pdf', 'anchored')",
        (twin_leaf, twin.record_hash, twin.commitment),
    )
    raw.close()
    conn = open_store(path)
    assert schema_version(conn) == SCHEMA_VERSION == 3
    assert _indexes(conn, "record_items") == {"record_items_leaf_prefix", "record_items_hash_prefix"}
    journal = Journal(conn, 1337, REGISTRY)
    assert [it.value_index for it in journal.find(leaf=items[0].leaf)] == [0]
    assert [it.value_index for it in journal.find(leaf=twin_leaf)] == [4]
    assert [it.value_index for it in journal.find(record_hash=items[0].record_hash)] == [0]
    assert [it.value_index for it in journal.find(record_hash=twin.record_hash)] == [4]
    assert journal.find(leaf=items[0].leaf[:KEY_PREFIX] + b"\x00" * (32 - KEY_PREFIX)) == []
    probe = [items[0].leaf[:KEY_PREFIX] + b"\x00" * (32 - KEY_PREFIX), items[1].leaf, twin_leaf]
    assert journal.journaled(probe) == {items[1].leaf, twin_leaf}
    assert [s.id for s in journal.done_holding(probe[:1])] == []
    assert [s.id for s in journal.done_holding(probe)] == [1]


def test_an_upgrade_from_release_1_seals_the_plain_key_once_a_passphrase_is_given(
    tmp_path: Path, no_secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "medchain.sqlite"
    release_1_store(path)
    assert SaltKeys(open_store(path)).get(HOSPITAL) == OLD_KEY  # readable as it was, without a passphrase
    monkeypatch.setenv("MEDCHAIN_STORE_PASSPHRASE", "correct horse")
    assert SaltKeys(open_store(path)).get(HOSPITAL) == OLD_KEY
    raw = sqlite3.connect(path).execute("SELECT key, sealed FROM salt_keys").fetchone()
    assert raw[1] == 1 and OLD_KEY not in raw[0] and len(raw[0]) == 12 + 32 + 16
    monkeypatch.delenv("MEDCHAIN_STORE_PASSPHRASE")
    with pytest.raises(ConfigError, match="encrypted; set MEDCHAIN_STORE_PASSPHRASE"):
        SaltKeys(open_store(path)).get(HOSPITAL)


def test_a_store_from_a_newer_medchain_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError, match="written by a newer medchain"):
        open_store(path)


def test_new_salt_keys_are_sealed_and_a_wrong_passphrase_is_one_line(
    tmp_path: Path, no_secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    secret_file = tmp_path / "passphrase"
    secret_file.write_text("from a file\n", encoding="utf-8")
    monkeypatch.setenv("MEDCHAIN_STORE_PASSPHRASE_FILE", str(secret_file))
    key = SaltKeys(open_store(path)).create(HOSPITAL)
    raw = sqlite3.connect(path).execute("SELECT key, sealed FROM salt_keys").fetchone()
    assert raw[1] == 1 and key not in raw[0]
    assert SaltKeys(open_store(path)).salt(HOSPITAL, HOSPITAL, b"\x05" * 32, 1) == derive_salt(
        key, HOSPITAL, b"\x05" * 32, 1
    )
    secret_file.write_text("not it\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        SaltKeys(open_store(path)).get(HOSPITAL)
    assert "wrong store passphrase" in str(caught.value) and "\n" not in str(caught.value)
    # journals and proofs stay readable without any passphrase
    monkeypatch.delenv("MEDCHAIN_STORE_PASSPHRASE_FILE")
    assert Journal(open_store(path), 1, REGISTRY).submissions() == []


def test_a_sealed_key_moved_to_another_row_does_not_open(
    tmp_path: Path, no_secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDCHAIN_STORE_PASSPHRASE", "pw")
    path = tmp_path / "s.sqlite"
    SaltKeys(open_store(path)).create(HOSPITAL)
    raw = sqlite3.connect(path, isolation_level=None)
    other = "0x" + "44" * 20
    raw.execute(
        "INSERT INTO salt_keys SELECT ?, key, created_at, exported_at, sealed FROM salt_keys", (other,)
    )
    with pytest.raises(ConfigError, match="fails its AES-GCM check"):
        SaltKeys(open_store(path)).get(other)


def test_without_a_passphrase_a_new_key_is_refused_unless_opted_in(
    tmp_path: Path, no_secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(open_store(tmp_path / "s.sqlite"), 1, REGISTRY)
    with pytest.raises(ConfigError, match="would be stored unencrypted: set MEDCHAIN_STORE_PASSPHRASE"):
        journal.salt_key(HOSPITAL)
    assert journal.keys.get(HOSPITAL) is None
    monkeypatch.setenv("MEDCHAIN_INSECURE_STORE", "1")
    key = journal.salt_key(HOSPITAL)
    assert journal.keys.sealed() == {"0x2222222222222222222222222222222222222222": False}
    assert journal.salt_key(HOSPITAL) == key


def _plans(conn: sqlite3.Connection, statements: list[str]) -> list[tuple[str, list[str]]]:
    out = []
    for sql in statements:
        if sql.lstrip().upper().startswith("SELECT"):
            out.append((sql, [str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql)]))
    return out


def test_every_journal_lookup_uses_an_index(tmp_path: Path, plaintext_ok: None) -> None:
    """A long IN list of leaves made SQLite walk every item of the registry (issue 15): each query the
    journal makes is checked with EXPLAIN QUERY PLAN on a store holding several submissions."""
    conn = open_store(tmp_path / "s.sqlite")
    journal = Journal(conn, 1337, REGISTRY)
    batches = [_items(50) for _ in range(3)]
    for items in batches:
        tree = StandardMerkleTree.of([it.value for it in items], RECORD_LEAF_ENCODING)
        sub = journal.create("batch", HOSPITAL, items, tree=tree)
    leaves = [it.leaf for items in batches for it in items] + [os.urandom(32) for _ in range(900)]
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    journal.journaled(leaves)
    journal.done_holding(leaves)
    journal.find(leaf=leaves[0])
    journal.find(record_hash=batches[0][0].record_hash)
    journal.unfinished()
    journal.items(sub.id)
    journal.values(sub.id)
    journal.proof(sub.id, 3)
    journal.by_root(b"\x00" * 32)
    journal.salt_key("0x" + "55" * 20)  # a hospital that never anchored here: a new key
    conn.set_trace_callback(None)
    plans = _plans(conn, seen)
    assert len(plans) >= 10
    for sql, plan in plans:
        assert not [step for step in plan if step.startswith("SCAN")], (sql[:200], plan)
    by_leaf = [plan for sql, plan in plans if "substr(i.leaf, 1, 4) IN" in sql]
    assert by_leaf
    assert all(plan[0] == "SEARCH i USING INDEX record_items_leaf_prefix (<expr>=?)" for plan in by_leaf)


PACKAGE = Path(__file__).resolve().parents[3] / "medchain"
SQL_TEXT = re.compile(r"[\"'](SELECT |INSERT |UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX)|PRAGMA )")


def test_only_the_store_package_speaks_sql() -> None:
    """medchain/store/ owns every table: no other module imports sqlite3 or holds an SQL statement."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(PACKAGE / "store"):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(import sqlite3|from sqlite3 import)", text, re.MULTILINE) or SQL_TEXT.search(
            text
        ):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
    assert (PACKAGE / "store" / "schema.py").is_file()


def test_every_table_a_release_1_store_has_is_made_by_the_schema_module(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "old.sqlite")
    old.executescript(RELEASE_1_SQL.read_text(encoding="utf-8"))
    release_1 = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    conn = open_store(tmp_path / "new.sqlite")
    now = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    assert release_1 <= now
    assert now - release_1 == {"store_secrets", "drug_shipments"}


def test_serial_tree_and_shipment_lookups_use_an_index(tmp_path: Path) -> None:
    from medchain.serials import SerialTree
    from medchain.store.serials import SerialTrees

    conn = open_store(tmp_path / "s.sqlite")
    trees = SerialTrees(conn)
    tree = SerialTree.of(b"\x07" * 32, [f"S{i:04d}" for i in range(40)])
    trees.save_tree(tree, "09506000134352", "L1", "commissioned")
    trees.save_shipment(1, SerialTree.of(b"\x07" * 32, ["S0001", "S0002"]), 0)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    assert trees.proof(b"\x07" * 32, "S0003") == tree.tree.get_proof(tree.serials.index("S0003"))
    trees.flat_tree(b"\x07" * 32)
    trees.serials(b"\x07" * 32)
    assert trees.shipment(1) is not None
    assert [sid for sid, _ in trees.shipments_of(b"\x07" * 32)] == [1]
    assert [sid for sid, _ in trees.shipped_from(b"\x07" * 32, 0)] == [1]
    conn.set_trace_callback(None)
    plans = _plans(conn, seen)
    assert len(plans) >= 6
    for sql, plan in plans:
        assert not [step for step in plan if step.startswith("SCAN")], (sql[:200], plan)


def test_a_file_that_is_not_a_store_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, " * 200)
    with pytest.raises(ConfigError, match="cannot open the local store") as caught:
        open_store(junk)
    assert "\n" not in str(caught.value)
    assert junk.read_bytes() == b"this is not a database, " * 200


def test_claim_release_and_index_lookups_use_an_index(tmp_path: Path, plaintext_ok: None) -> None:
    path = tmp_path / "medchain.sqlite"
    release_1_store(path)
    conn = open_store(path)
    claims, releases, index = ClaimJournal(conn, CLAIMS), ReleaseLog(conn), EventIndex(conn, 1337)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    assert claims.get("C-1") is not None and len(claims.rows()) == 1
    assert releases.seen(b"\x01" * 32) and not releases.seen(b"\x09" * 32)
    assert index.last_block() == 9 and index.state() == ([], 0, 9) and index.checkpoints() == []
    assert index.tx_ids(["0x" + "ab" * 32]) == {}
    conn.set_trace_callback(None)
    plans = _plans(conn, seen)
    assert len(plans) >= 7
    for sql, plan in plans:
        assert not [step for step in plan if step.startswith("SCAN")], (sql[:200], plan)


def test_the_sealed_format_is_plain_aes_gcm_and_scrypt_so_stores_sealed_before_still_open() -> None:
    """Stores sealed by the first sealing release (pycryptodome's AES-GCM, hashlib's scrypt) open with the
    `cryptography` package now, and the other way round: the box is ``nonce || ciphertext || tag``."""
    import hashlib

    from Crypto.Cipher import AES

    from medchain.store import secrets

    salt = bytes(range(16))
    key = secrets._derive(b"correct horse", salt, 2**14, 8, 1)
    assert key == hashlib.scrypt(b"correct horse", salt=salt, n=2**14, r=8, p=1, dklen=32)
    nonce = bytes(12)
    old = AES.new(key, AES.MODE_GCM, nonce=nonce)
    old.update(b"row label")
    body, tag = old.encrypt_and_digest(b"salt key bytes")
    assert secrets._open(key, nonce + body + tag, b"row label") == b"salt key bytes"
    assert secrets._open(key, nonce + body + tag, b"another row") is None
    box = secrets._seal(key, b"new secret", b"row label")
    again = AES.new(key, AES.MODE_GCM, nonce=box[:12])
    again.update(b"row label")
    assert again.decrypt_and_verify(box[12:-16], box[-16:]) == b"new secret"
