"""The demo's record-exchange step: hospital A's gateway serves the patient's records; hospital B fetches them
under the patient's consent (logged on chain first), is refused after the patient revokes, and the patient
downloads their own record with their own key. Every release B obtained is in the accounting of disclosures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from medchain import records, signing, tx
from medchain.codes import PURPOSES
from medchain.demo import DemoContext
from medchain.gateway.catalogue import Catalogue
from medchain.gateway.client import Gateway, GatewayClient
from medchain.gateway.errors import GatewayRefused
from medchain.gateway.exchange import domain_of, download_own, fetch_all
from medchain.gateway.server import create_app
from medchain.gateway.service import RecordGateway
from medchain.journal import Journal
from medchain.node import free_port
from medchain.store import open_store

__all__ = ["record_exchange"]


@contextmanager
def _gateway_of_a(ctx: DemoContext) -> Iterator[Gateway]:
    """Hospital A's gateway on a loopback port, serving the patient's single records; A publishes its URL."""
    suite = ctx.suite
    assert suite is not None
    registry = suite.require("records")
    journal = Journal(open_store(ctx.out / "hospital-store.sqlite"), ctx.w3.eth.chain_id, registry.address)
    member = ctx.address("hospital_a")
    service = RecordGateway(ctx.w3, registry, suite.consortium, suite.require("consent"), journal, member,
                            Catalogue(ctx.out / "records" / "patient"))  # fmt: skip
    served = service.refresh()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tx.send(ctx.w3, suite.consortium.functions.updateProfile("Hospital A", url), ctx.signer("hospital_a"))
    ctx.say(f"hospital A's gateway serves {served} record(s) at {url} (its endpoint URI in Consortium)")
    config = uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield Gateway(member, url, "Hospital A")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def record_exchange(ctx: DemoContext) -> None:
    with ctx.step(8, "Record exchange: hospital B fetches from hospital A's gateway; the patient downloads"):
        suite = ctx.suite
        assert suite is not None
        registry = suite.require("records")
        conn = open_store(":memory:")
        svc_b = records.RecordService.open(ctx.w3, registry, suite.consortium, conn, ctx.signer("hospital_b"))
        with _gateway_of_a(ctx) as gateway:
            _hospital_b(ctx, svc_b, gateway)
            own = download_own(ctx.w3, registry, gateway, ctx.actors["patient"])
            ctx.facts["exchange_own"] = len(own)
            ctx.say(f"the patient downloads their own {len(own)} record(s) with their key: verified, "
                    "no consent and no access log needed")  # fmt: skip
        patient, hospital_b = ctx.address("patient"), ctx.address("hospital_b")
        releases = records.access_events(svc_b, patient=patient, accessor=hospital_b)
        ctx.say(f"accounting of disclosures: {len(releases)} access(es) by hospital B on chain")


def _hospital_b(ctx: DemoContext, svc_b: records.RecordService, gateway: Gateway) -> None:
    """B fetches everything its consent covers, then is refused after the patient revokes."""
    patient = ctx.address("patient")
    domain = domain_of(ctx.w3, svc_b.registry)
    client = GatewayClient(domain, ctx.actors["hospital_b"], ctx.address("hospital_b"))
    try:
        report = fetch_all(svc_b, client, [gateway], patient, "TREATMENT", ctx.out / "received-by-b")
        ctx.facts["exchange_fetched"] = len(report.stored)
        gas = report.as_dict()["gasPerRecord"]
        ctx.say(f"hospital B listed, logged ({gas:,} gas per record, one logAccessMany), fetched, decrypted "
                f"and verified {len(report.stored)} record(s) -> received-by-b/")  # fmt: skip
        again = client.list(gateway, patient, "TREATMENT")[0]
        leaf = "0x" + again.opening.leaf.hex()
        access_tx = next(str(r["accessTx"]) for r in report.stored if r["leaf"] == leaf)
        _revoke(ctx, "hospital_b", "TREATMENT")
        ctx.say("the patient revokes hospital B's TREATMENT consent (signed offline, relayed by hospital A)")
        try:
            client.fetch(again, "TREATMENT", bytes.fromhex(access_tx[2:]))
            ctx.facts["exchange_refused"] = False
            outcome = "RELEASED (unexpected)"
        except GatewayRefused as exc:
            ctx.facts["exchange_refused"] = True
            outcome = f"refused ({exc.status} {exc.code})"
        ctx.say(f"hospital B asks again under its earlier access log: {outcome}")
    finally:
        client.close()


def _revoke(ctx: DemoContext, grantee: str, purpose: str) -> None:
    registry = ctx.suite.require("consent")  # type: ignore[union-attr]
    domain = signing.Domain(ctx.w3.eth.chain_id, registry.address)
    now = int(ctx.w3.eth.get_block("latest")["timestamp"])
    patient = ctx.address("patient")
    nonce = int(registry.functions.nonces(patient).call())
    grantee_address = ctx.address(grantee)
    message = signing.ConsentRevoke(patient, grantee_address, PURPOSES[purpose], nonce, now + 3600)
    signature = signing.sign(message, domain, ctx.actors["patient"])
    deadline = message.deadline
    fn = registry.functions.revokeBySig(patient, grantee_address, message.purpose, deadline, signature)
    tx.send(ctx.w3, fn, ctx.signer("hospital_a"))
