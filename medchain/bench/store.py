"""Local store rows: the cost of anchoring a batch stays with the batch, not with the journal's size.

The same batches of 20,000 files (1 KiB each, the size issue 15 measured) are anchored as `records batch`
does it (:func:`medchain.records.collect_batch_inputs` hashes the files and derives each record's salt,
then :func:`medchain.records.anchor_batch`: journal lookups, tree, journal write, the transaction and its
receipt) into an empty store and into one already holding 1,000,000 journaled records; the two stores
have their own salt keys, so the same files are new records in each. The big store is filled directly
through :meth:`Journal.create` (50 settled submissions of 20,000 random records, no chain transactions:
only the journal's size matters here), not by anchoring a million records on chain. Each figure is the
median of three batches; target: the big store within 1.2x of the empty one. A second pair of rows times
the store's own part alone (records made in memory, no files). What still grows with the store is inserting
20,000 random keys into the two 1,000,000-entry lookup indexes (leaf, record hash): it dirties most of their
pages, each written to the WAL and checkpointed. Since schema version 3 those indexes hold 4-byte prefixes
of the keys (:mod:`medchain.store.schema`): a batch into this store writes about 8,800 WAL pages instead of
21,000-25,000 with whole keys (an empty store: 1,300), and the store's share of a batch (the journal calls
alone, quiet machine) went from +0.49 s over an empty store to about +0.2 s. Sorting the batch by key before
inserting, a larger page cache, mmap and synchronous=NORMAL were measured too and did not help (they change
neither which pages a batch dirties nor how many), so they are not used.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from medchain import records as rs
from medchain.bench import BenchContext
from medchain.store import open_store
from medchain.store.records import Item

AREA = "Local store"
BATCH = 20_000
JOURNALED = 1_000_000
RUNS = 3
PATIENT = "0x" + "ab" * 20


def _items(count: int) -> list[Item]:
    return [Item(os.urandom(32), os.urandom(32), i % 11, "raw") for i in range(count)]


def _fill(svc: rs.RecordService, records: int) -> None:
    hospital = svc.hospital
    for start in range(0, records, BATCH):
        items = _items(min(BATCH, records - start))
        sub = svc.journal.create("records", hospital, items)
        svc.journal.mark_done(sub.id, tx_hash=None, block_number=None, anchored_at=None)


def _files(folder: Path, run: int) -> Path:
    directory = folder / f"batch-{run}"
    directory.mkdir()
    for i in range(BATCH):
        (directory / f"record-{i:05d}.bin").write_bytes(os.urandom(1024))
    return directory


def _anchor(svc: rs.RecordService, batch: Path | None) -> float:
    """Seconds to anchor one batch: the files of `batch` as `records batch` does, or (None) fresh
    in-memory records (timing starts after they are made)."""
    if batch is None:
        items = _items(BATCH)
        started = time.perf_counter()
    else:
        started = time.perf_counter()
        items = rs.collect_batch_inputs(svc.journal, svc.hospital, batch, patient=PATIENT, data_class="LAB")
    report = rs.anchor_batch(svc, items)
    seconds = time.perf_counter() - started
    if [s.status for s in report.settled] != ["done"]:
        raise RuntimeError(f"the bench batch did not anchor: {report.as_dict()}")
    return seconds


def rows(ctx: BenchContext) -> None:
    suite = ctx.suite
    with tempfile.TemporaryDirectory(prefix="medchain-bench-store-") as name:
        folder = Path(name)
        batches = [_files(folder, run) for run in range(RUNS)]
        services: dict[str, rs.RecordService] = {}
        fill_s = 0.0
        for label, filled in (("empty", 0), ("big", JOURNALED)):
            conn = open_store(folder / f"{label}.sqlite")
            svc = rs.RecordService.open(ctx.w3, suite.require("records"), suite.consortium, conn,
                                        ctx.accounts["hospital"])  # fmt: skip
            svc.journal.salt_key(svc.hospital)  # the store's key (scrypt once) before any timing
            started = time.perf_counter()
            _fill(svc, filled)
            fill_s += time.perf_counter() - started
            services[label] = svc
        # the runs alternate between the stores, so a busy moment of the shared machine hits both alike
        files: dict[str, list[float]] = {"empty": [], "big": []}
        memory: dict[str, list[float]] = {"empty": [], "big": []}
        for run in range(RUNS):
            for label, svc in services.items():
                files[label].append(_anchor(svc, batches[run]))
                memory[label].append(_anchor(svc, None))
        for svc in services.values():
            svc.journal.conn.close()
        median = {k: statistics.median(v) for k, v in files.items()}
        median_memory = {k: statistics.median(v) for k, v in memory.items()}
        for label, filled in (("empty", 0), ("big", JOURNALED)):
            held = f"store holding {filled:,} records"
            how = f"filled directly in {fill_s:.0f} s (no chain txs)" if filled else "a fresh store"
            ctx.add(AREA, f"records batch of {BATCH:,} files, {held}", median[label], unit="s",
                    note=f"hash files, salts, journal, tree, anchorBatch + receipt; median of {RUNS}; {how}")
            ctx.add(AREA, f"anchor_batch of {BATCH:,} in-memory records, {held}", median_memory[label],
                    unit="s", note="the same without files: the store's share shows")  # fmt: skip
        ctx.add(AREA, f"same {BATCH:,}-file batch: {JOURNALED:,}-record store / empty store",
                median["big"] / median["empty"], unit="x", target=1.2,
                note="journal lookups use their key-prefix indexes (EXPLAIN QUERY PLAN tested)")  # fmt: skip
        ctx.add(AREA, f"in-memory records only: {JOURNALED:,}-record store / empty store",
                median_memory["big"] / median_memory["empty"], unit="x",
                note="random-key inserts into two 1M-entry prefix indexes (leaf, hash)")  # fmt: skip
