"""DrugTrace rows: prefix assignment, register, commission (10k serials), ship (whole batch, listed serials),
receive, cancel, return, dispense with a shipment proof, duplicate flag, recall, and the consumer's views as
calls."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from eth_typing import HexStr

from medchain import drugs
from medchain.bench import TX_BASE, BenchContext
from medchain.serials import batch_id
from medchain.store import open_store

AREA = "DrugTrace"
FRESH_SLOT, COLD_SLOAD = 22_100, 2_100
GTIN = "09506000134352"


def _gas(ctx: BenchContext, tx_hash: str) -> int:
    return int(ctx.w3.eth.get_transaction_receipt(HexStr(tx_hash))["gasUsed"])


def rows(ctx: BenchContext) -> None:
    contract = ctx.suite.require("drugs")
    a = ctx.accounts
    maker, dist, pharmacy = a["manufacturer"], a["distributor"], a["pharmacy"]
    w3 = ctx.w3
    store = open_store(Path(tempfile.mkdtemp(prefix="medchain-bench-")) / "drugs.sqlite")
    motion = drugs.assign_prefix(w3, contract, a["council"], "9506000", maker)
    ctx.add(AREA, "assign a GS1 Company Prefix (threshold 1)", _gas(ctx, motion.tx_hash))
    registered, _ = drugs.register_product(w3, contract, maker, GTIN, "Amoxicillin capsules 0.25 g x 24")
    ctx.add(AREA, "register a product (inside its prefix)", _gas(ctx, registered))
    serials = [f"S{i:07d}" for i in range(10_000)]
    started = time.perf_counter()
    result = drugs.commission_batch(
        w3, contract, maker, gtin=GTIN, lot="LOT1", expiry=dt.date(2030, 12, 31), serials=serials,
        certificate=b"release certificate", store=store,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    note = "batch record + serial Merkle root + certificate hash; constant in the number of serials"
    assert result.tx_hash is not None  # a fresh chain: the batch was not already commissioned
    ctx.add(AREA, "commission a batch of 10,000 serials", _gas(ctx, result.tx_hash),
            floor=TX_BASE + 3 * FRESH_SLOT, note=note)  # fmt: skip
    ctx.add("Python tooling", "serial tree of 10,000 serials (commission call, total)", seconds, unit="s",
            note=f"tree alone {result.tree_seconds:.2f} s")  # fmt: skip
    batch = batch_id(GTIN, "LOT1")
    shipped = drugs.ship(w3, contract, maker, batch=batch, to=dist, whole=True, store=store)
    ctx.add(AREA, "ship the whole 10k batch (proof = [root])", _gas(ctx, shipped.tx_hash),
            floor=TX_BASE + 4 * FRESH_SLOT)  # fmt: skip
    got = drugs.receive(w3, contract, dist, shipment_id=shipped.shipment_id, store=store)
    ctx.add(AREA, "receive (full quantity)", _gas(ctx, got.tx_hash))
    onward = drugs.ship(w3, contract, dist, batch=batch, to=pharmacy, quantity=100, store=store)
    note = "100 serials picked from a 10k tree: their hashes + OZ multiproof in calldata, root built on chain"
    ctx.add(AREA, "ship 100 listed serials onward", _gas(ctx, onward.tx_hash), note=note)
    drugs.receive(w3, contract, pharmacy, shipment_id=onward.shipment_id, store=store)
    few = drugs.ship(w3, contract, dist, batch=batch, to=pharmacy, quantity=4, store=store)
    drugs.receive(w3, contract, pharmacy, shipment_id=few.shipment_id, store=store)
    cancelled = drugs.ship(w3, contract, dist, batch=batch, to=pharmacy, quantity=2, store=store)
    gone = drugs.cancel_shipment(w3, contract, dist, shipment_id=cancelled.shipment_id, store=store)
    ctx.add(AREA, "cancel a shipment in transit", _gas(ctx, gone.tx_hash))
    refused = drugs.ship(w3, contract, dist, batch=batch, to=pharmacy, quantity=2, store=store)
    back = drugs.return_shipment(w3, contract, pharmacy, shipment_id=refused.shipment_id, store=store)
    ctx.add(AREA, "return a shipment (refused before receipt)", _gas(ctx, back.tx_hash))
    first = drugs.dispense(
        w3, contract, pharmacy, gtin=GTIN, lot="LOT1", serial=onward.serials[0], store=store
    )
    note = "proof in the 100-serial shipment (7 nodes) + a fresh per-serial slot; ≤ 70,000 needs ≤ 4 serials"
    ctx.add(AREA, "dispense with a shipment proof (100-serial shipment)", _gas(ctx, first.tx_hash),
            floor=TX_BASE + FRESH_SLOT + 4 * COLD_SLOAD, target=70_000, note=note)  # fmt: skip
    small = drugs.dispense(w3, contract, pharmacy, gtin=GTIN, lot="LOT1", serial=few.serials[0], store=store)
    ctx.add(AREA, "dispense with a shipment proof (4-serial shipment)", _gas(ctx, small.tx_hash),
            target=70_000, note="2 proof nodes")  # fmt: skip
    again = drugs.dispense(
        w3, contract, pharmacy, gtin=GTIN, lot="LOT1", serial=onward.serials[0], store=store
    )
    ctx.add(AREA, "second dispense of one pack (duplicate flag recorded)", _gas(ctx, again.tx_hash))
    gas = contract.functions.batchInfo(batch).estimate_gas() - TX_BASE
    ctx.add(AREA, "batchInfo view (call, execution gas)", gas)
    gas = contract.functions.serialStatus(batch, serials[1]).estimate_gas() - TX_BASE
    ctx.add(AREA, "serialStatus view (call, execution gas)", gas)
    started = time.perf_counter()
    drugs.lookup(w3, contract, GTIN, "LOT1", onward.serials[0], store=store)  # the tree cached in the store
    seconds = time.perf_counter() - started
    ctx.add(AREA, "consumer lookup (views + journey from events), Python", seconds, unit="s",
            note="with the serial proven from the stored tree (verify call)")  # fmt: skip
    recalled = drugs.recall(w3, contract, maker, batch=batch, notice=b"bench recall notice")
    ctx.add(AREA, "recall", _gas(ctx, recalled.tx_hash))
