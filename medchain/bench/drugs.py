"""DrugTrace rows: commission (10k serials), ship, receive, dispense with proof, duplicate flag, recall,
and the consumer's views as calls."""

from __future__ import annotations

import datetime as dt
import time

from eth_typing import HexStr

from medchain import drugs
from medchain.bench import TX_BASE, BenchContext
from medchain.serials import batch_id

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
    drugs.register_product(w3, contract, maker, GTIN, "Amoxicillin capsules 0.25 g x 24")
    serials = [f"S{i:07d}" for i in range(10_000)]
    started = time.perf_counter()
    result = drugs.commission_batch(
        w3, contract, maker, gtin=GTIN, lot="LOT1", expiry=dt.date(2030, 12, 31), serials=serials,
        certificate=b"release certificate",
    )  # fmt: skip
    seconds = time.perf_counter() - started
    note = "batch record + serial Merkle root + certificate hash; constant in the number of serials"
    assert result.tx_hash is not None  # a fresh chain: the batch was not already commissioned
    ctx.add(AREA, "commission a batch of 10,000 serials", _gas(ctx, result.tx_hash),
            floor=TX_BASE + 3 * FRESH_SLOT, note=note)  # fmt: skip
    ctx.add("Python tooling", "serial tree of 10,000 serials (commission call, total)", seconds, unit="s",
            note=f"tree alone {result.tree_seconds:.2f} s")  # fmt: skip
    batch = batch_id(GTIN, "LOT1")
    shipped = drugs.ship(w3, contract, maker, batch=batch, to=dist, quantity=1_000)
    ctx.add(AREA, "ship (first shipment to a new holder)", _gas(ctx, shipped.tx_hash),
            floor=TX_BASE + 2 * FRESH_SLOT)  # fmt: skip
    got = drugs.receive(w3, contract, dist, shipment_id=shipped.shipment_id)
    ctx.add(AREA, "receive (full quantity)", _gas(ctx, got.tx_hash))
    onward = drugs.ship(w3, contract, dist, batch=batch, to=pharmacy, quantity=100)
    drugs.receive(w3, contract, pharmacy, shipment_id=onward.shipment_id)
    from medchain.serials import SerialTree

    tree = SerialTree.build(GTIN, "LOT1", serials)
    proof = tree.proof(serials[0])
    first = drugs.dispense(w3, contract, pharmacy, gtin=GTIN, lot="LOT1", serial=serials[0], proof=proof)
    note = "10k-serial batch: 14-node proof in calldata + a fresh per-serial slot"
    ctx.add(AREA, "dispense with proof", _gas(ctx, first.tx_hash),
            floor=TX_BASE + FRESH_SLOT + 4 * COLD_SLOAD, target=70_000, note=note)  # fmt: skip
    again = drugs.dispense(w3, contract, pharmacy, gtin=GTIN, lot="LOT1", serial=serials[0], proof=proof)
    ctx.add(AREA, "second dispense of one pack (duplicate flag recorded)", _gas(ctx, again.tx_hash))
    gas = contract.functions.batchInfo(batch).estimate_gas() - TX_BASE
    ctx.add(AREA, "batchInfo view (call, execution gas)", gas)
    gas = contract.functions.serialStatus(batch, serials[1]).estimate_gas() - TX_BASE
    ctx.add(AREA, "serialStatus view (call, execution gas)", gas)
    started = time.perf_counter()
    drugs.lookup(w3, contract, GTIN, "LOT1", serials[0])
    seconds = time.perf_counter() - started
    ctx.add(AREA, "consumer lookup (views + journey from events), Python", seconds, unit="s")
    recalled = drugs.recall(w3, contract, maker, batch=batch, notice=b"bench recall notice")
    ctx.add(AREA, "recall", _gas(ctx, recalled.tx_hash))
