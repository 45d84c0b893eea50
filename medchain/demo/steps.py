"""The demo's steps, in order. Each calls the same `medchain` functions the CLI commands call."""

from __future__ import annotations

import csv
import datetime as dt
import json
from typing import Any, cast

from eth_typing import ChecksumAddress
from eth_utils import keccak
from web3 import Web3

from medchain import claims, consortium, drugs, records, signing, tx
from medchain.codes import PURPOSES, parse_classes, parse_data_class
from medchain.contracts import Suite
from medchain.demo import COUNCIL, ROLES_BY_ACTOR, DemoContext
from medchain.demo.exchange import record_exchange
from medchain.deploy import deploy_all
from medchain.hashing import hash_file
from medchain.openings import RecordOpening
from medchain.store import open_store

GTIN = "06901234567892"
LOT = "GJ2611A"
PREFIX = "6901234"  # the GS1 Company Prefix inside GTIN


def deploy_and_admit(ctx: DemoContext) -> None:
    with ctx.step(1, "Deploy; a 2-of-3 council admits the members"):
        council = [ctx.address(f"council_{i}") for i in (1, 2, 3)]
        ctx.manifest = deploy_all(ctx.w3, ctx.signer("council_1"), council, list(COUNCIL), 2, write=False)
        ctx.suite = suite = Suite.load(ctx.w3, ctx.manifest)
        for name, entry in ctx.manifest["contracts"].items():
            ctx.say(f"{name:<16} {entry['address']}")
        c = suite.consortium
        for actor, (role, name) in ROLES_BY_ACTOR.items():
            uri = f"https://{actor.replace('_', '-')}.example.cn/api"
            if actor == "manufacturer":  # its public endpoint serves <uri>/trees/ (published serial trees)
                uri = (ctx.out / "published").resolve().as_uri()
            request = consortium.proposal_request("admit", target=ctx.address(actor), roles=role, name=name,
                                                  uri=uri)  # fmt: skip
            proposal = consortium.propose(c, ctx.signer("council_1"), request)
            consortium.approve(c, ctx.signer("council_2"), proposal)
            consortium.execute(c, ctx.signer("council_3"), proposal)
            ctx.say(f"proposal {proposal}: admit {name} as {role} — approved by 2 of 3, executed")
        for key in ("insurer_x_op1", "insurer_x_op2"):  # insurer X offers, each officer's key accepts
            consortium.add_operator(c, ctx.signer("insurer_x"), ctx.signer(key))
        ctx.say("insurer X offers two operator keys (its claims officers), each key accepts: dual control")


def _grant(ctx: DemoContext, grantee: str, purpose: str, classes: str, nonce: int) -> tuple[Any, Any, bytes]:
    registry = ctx.suite.require("consent")  # type: ignore[union-attr]
    domain = signing.Domain(ctx.w3.eth.chain_id, registry.address)
    now = int(ctx.w3.eth.get_block("latest")["timestamp"])
    message = signing.ConsentGrant(
        patient=ctx.address("patient"), grantee=ctx.address(grantee), purpose=PURPOSES[purpose],
        data_classes=parse_classes(classes), valid_from=now, valid_until=now + 365 * 86400,
        nonce=nonce, deadline=now + 7 * 86400,
    )  # fmt: skip
    return message, domain, signing.sign(message, domain, ctx.actors["patient"])


def consent(ctx: DemoContext) -> None:
    with ctx.step(2, "A patient holding no ETH signs consent offline; hospital A relays it"):
        registry = ctx.suite.require("consent")  # type: ignore[union-attr]
        patient = ctx.address("patient")
        ctx.say(f"patient {patient}: balance {ctx.w3.eth.get_balance(cast(ChecksumAddress, patient))} wei")
        nonce = int(registry.functions.nonces(patient).call())
        grants = [
            ("hospital_b", "TREATMENT", "ALL"),
            ("insurer_x", "CLAIM", "LAB,IMAGING,BILLING"),
            ("insurer_y", "CLAIM", "LAB,IMAGING,BILLING"),
        ]
        signed = [
            _grant(ctx, who, purpose, classes, nonce + i) for i, (who, purpose, classes) in enumerate(grants)
        ]
        files = []
        for (who, purpose, classes), (message, domain, signature) in zip(grants, signed, strict=True):
            doc = {"typedData": signing.typed_data(message, domain), "signature": Web3.to_hex(signature)}
            path = ctx.out / f"consent-{who}.json"
            path.write_text(json.dumps(doc, indent=2) + "\n")
            files.append(path)
            ctx.say(f"signed offline: {purpose} for {who} ({classes}) -> {path.name}")
        for (message, _domain, signature), path in zip(signed, files, strict=True):
            fn = registry.functions.grantBySig(
                message.patient, message.grantee, message.purpose, message.data_classes,
                message.valid_from, message.valid_until, message.deadline, signature,
            )  # fmt: skip
            tx.send(ctx.w3, fn, ctx.signer("hospital_a"))
            ctx.say(f"hospital A relayed {path.name} (hospital A paid the gas)")
        ok = registry.functions.isPermitted(patient, ctx.address("insurer_x"), PURPOSES["CLAIM"],
                                            parse_classes("LAB")).call()  # fmt: skip
        ctx.say(f"isPermitted(patient, insurer X, CLAIM, LAB) = {ok}")
        ctx.facts["consent_permitted"] = ok


def _record_service(ctx: DemoContext, actor: str) -> records.RecordService:
    suite = ctx.suite
    assert suite is not None
    conn = ctx.facts.setdefault("store", open_store(ctx.out / "hospital-store.sqlite"))
    return records.RecordService.open(
        ctx.w3, suite.require("records"), suite.consortium, conn, ctx.signer(actor)
    )


def anchor_records(ctx: DemoContext) -> None:
    from medchain.demo.data import write_records

    with ctx.step(3, f"Hospital A anchors records singly and {ctx.records:,} as one Merkle batch"):
        svc = _record_service(ctx, "hospital_a")
        patient = ctx.address("patient")
        folder = ctx.out / "records"
        ctx.facts["planted"] = planted = write_records(folder / "batch", ctx.records)
        singles = write_records(folder / "patient", 3, seed=11)
        planted.names |= singles.names
        planted.national_ids |= singles.national_ids
        planted.diagnosis_codes |= singles.diagnosis_codes
        planted.texts |= singles.texts
        evidence_items = []
        paths = sorted((folder / "patient").iterdir())
        for path, klass in zip(paths, ("LAB", "IMAGING", "BILLING"), strict=True):
            result = hash_file(path)
            report = records.anchor_files(svc, [result], patient, klass)
            evidence_items.append((path, klass, result))
            ok = not records.failures(report.settled)
            ctx.say(f"anchored {path.name} as {klass} ({result.method}) ok={ok}")
        ctx.facts["evidence_files"] = evidence_items
        manifest = folder / "batch-manifest.csv"
        others = [Web3.to_checksum_address(keccak(text=f"patient-{i}")[:20]) for i in range(50)]
        with manifest.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "patient", "class"])
            for i, path in enumerate(sorted((folder / "batch").iterdir())):
                who = patient if i % 1000 == 0 else others[i % len(others)]
                writer.writerow([f"batch/{path.name}", who, "LAB" if i % 2 else "INPATIENT"])
        from rich.progress import Progress

        with Progress(console=ctx.console, transient=True) as bar:
            task = bar.add_task("hashing FHIR records (RFC 8785)", total=ctx.records)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=f"{stage}")

            items = records.collect_batch_inputs(svc.journal, svc.hospital, manifest, progress=progress)
            report = records.anchor_batch(svc, items, uri="", source=str(manifest), progress=progress)
        sub = report.settled[-1]
        ctx.facts["batch"] = sub
        assert sub.root is not None  # a settled batch has its root
        ctx.say(f"batch of {len(items):,} records anchored: root 0x{sub.root.hex()} in one transaction")


def verify_and_access(ctx: DemoContext) -> None:
    with ctx.step(4, "Hospital B verifies a batch record's evidence package and logs the access"):
        svc_a = _record_service(ctx, "hospital_a")
        svc_b = _record_service(ctx, "hospital_b")
        patient = ctx.address("patient")
        sub = ctx.facts["batch"]
        item = next(i for i in svc_a.journal.items(sub.id) if i.patient == patient)
        evidence = records.build_evidence(svc_a, item, reveal=True)
        path = ctx.out / "evidence-package.json"
        path.write_text(json.dumps(evidence, indent=2, default=_hex) + "\n")
        ctx.say(f"hospital A exports {path.name} for record 0x{item.record_hash.hex()[:16]}…")
        verdict = records.verify_evidence(ctx.w3, json.loads(path.read_text()))
        ctx.facts["evidence_verdict"] = verdict.get("verdict", verdict.get("ok"))
        ctx.say(f"hospital B checks it against the chain: {ctx.facts['evidence_verdict']}")
        opening = RecordOpening.from_evidence(json.loads(path.read_text()))
        access = records.log_access(svc_b, opening, "TREATMENT")
        ctx.say("hospital B opens that one record: materialised with its proof, then the access logged")
        ctx.facts["access"] = access
        ctx.say(f"access logged: {access['purpose']} by {access['accessor']} (tx {access['txHash'][:18]}…)")


def _hex(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes | bytearray) else str(value)


def claim(ctx: DemoContext) -> None:
    from medchain.claimfile import load_file

    title = "Insurer X: policy and reserve; claim submitted; duplicate refused; dual control; payout"
    with ctx.step(5, title):
        suite = ctx.suite
        assert suite is not None
        token = suite.require("token")
        money = claims.currency(suite)
        patient = ctx.address("patient")
        now = int(ctx.w3.eth.get_block("latest")["timestamp"])
        policy = claims.create_policy(suite, ctx.signer("insurer_x"), patient, money.units("50000"),
                                      now - 86400, now + 365 * 86400)  # fmt: skip
        ctx.say(f"insurer X issues policy {policy.id} to the patient, coverage 50,000.00 {money.symbol}")
        mint = token.functions.mint(ctx.address("insurer_x"), money.units("100000"))
        tx.send(ctx.w3, mint, ctx.signer("council_1"))
        allow = token.functions.approve(suite.require("claims").address, 2**256 - 1)
        tx.send(ctx.w3, allow, ctx.signer("insurer_x"))
        claims.deposit_reserve(suite, ctx.signer("insurer_x"), money.units("100000"))
        claims.set_settings(suite, ctx.signer("insurer_x"), 7 * 86400, money.units("5000"))
        ctx.say(f"reserve funded with 100,000.00 {money.symbol}; approvals above 5,000.00 need two officers")
        svc_a = _record_service(ctx, "hospital_a")
        evidence = []
        for _path, klass, result in ctx.facts["evidence_files"]:
            code = parse_data_class(klass)
            salt = svc_a.journal.salt(svc_a.hospital, patient, result.record_hash, code)
            evidence.append({"recordHash": _hex(result.record_hash), "salt": _hex(salt), "dataClass": klass})
        claim_doc = {"reference": "HOSP-A-2026-0001", "policyId": policy.id, "amount": "8650.00",
                     "currency": money.symbol, "invoiceNumber": "JX-INV-20261120-7781", "holder": patient,
                     "evidence": evidence}  # fmt: skip
        claim_file = ctx.out / "claim.json"
        claim_file.write_text(json.dumps(claim_doc, indent=2) + "\n")
        journal = claims.ClaimJournal(ctx.facts["store"], suite.require("claims").address)
        entries = load_file(claim_file).entries
        [result] = claims.submit_claims(suite, entries, ctx.signer("hospital_a"), journal)
        ctx.say(f"hospital A submits {claim_file.name} with the claim-submission tool: {result.outcome}, "
                f"claim {result.claim_id}, {result.amount}")  # fmt: skip
        again = claims.submit_claims(suite, load_file(claim_file).entries, ctx.signer("hospital_a"), journal)
        ctx.say(f"re-running the same file: {again[0].outcome} (the journal never submits a claim twice)")
        policy_y = claims.create_policy(suite, ctx.signer("insurer_y"), patient, money.units("50000"),
                                        now - 86400, now + 365 * 86400)  # fmt: skip
        dup = dict(claim_doc, reference="HOSP-A-2026-0001-Y", policyId=policy_y.id)
        dup_file = ctx.out / "claim-duplicate-at-insurer-y.json"
        dup_file.write_text(json.dumps(dup, indent=2) + "\n")
        dup_entries = load_file(dup_file).entries
        [refused] = claims.submit_claims(suite, dup_entries, ctx.signer("hospital_a"), journal)
        ctx.say(f"the same evidence at insurer Y: {refused.outcome} — {'; '.join(refused.problems)}")
        ctx.facts["claim_id"] = claim_id = int(result.claim_id or 0)
        first = claims.approve(suite, ctx.signer("insurer_x_op1"), claim_id)
        ctx.say(f"officer 1 approves claim {claim_id}: {first.outcome}")
        second = claims.approve(suite, ctx.signer("insurer_x_op2"), claim_id)
        ctx.say(f"officer 2 approves claim {claim_id}: {second.outcome}")
        paid = claims.collect_payouts(suite, ctx.signer("hospital_a"), beneficiary=patient)
        balance = token.functions.balanceOf(patient).call()
        ctx.say(f"claims {paid['paidClaims']} paid; {money.fmt(int(paid['withdrawn']))} withdrawn to the "
                "patient (relayed by hospital A: the patient still holds no ETH)")  # fmt: skip
        ctx.say(f"patient's token balance: {money.fmt(balance)}")
        ctx.facts.update(claim_outcome=result.outcome, rerun_outcome=again[0].outcome, duplicate=refused,
                         approvals=(first.outcome, second.outcome), patient_balance=balance)  # fmt: skip
        ctx.facts["claim_file"] = claim_file


def drug_journey(ctx: DemoContext) -> None:
    from medchain import qr, serial_publish
    from medchain.gs1 import DrugCode, build_digital_link
    from medchain.serials import batch_id

    with ctx.step(6, "A drug batch: commission, ship, receive, dispense, duplicate scan, recall"):
        suite = ctx.suite
        assert suite is not None
        contract = suite.require("drugs")
        conn = open_store(ctx.out / "maker-store.sqlite")
        # each party its own store; a recipient gets the shipment's serials (ship --out, receive --serials)
        distributor = open_store(ctx.out / "distributor-store.sqlite")
        pharmacy = open_store(ctx.out / "pharmacy-store.sqlite")
        w3 = ctx.w3
        product = "阿莫西林胶囊 Amoxicillin capsules 0.25 g × 24"
        maker = ctx.address("manufacturer")
        for council in ("council_1", "council_2"):  # 2-of-3: the second approval assigns the GS1 prefix
            motion = drugs.assign_prefix(w3, contract, ctx.signer(council), PREFIX, maker)
        ctx.say(f"council assigns GS1 prefix {PREFIX} to the manufacturer ({motion.approvals} approvals)")
        drugs.register_product(w3, contract, ctx.signer("manufacturer"), GTIN, product)
        serials = [f"A{i:06d}" for i in range(1, 201)]
        expiry = dt.date(2028, 6, 30)
        done = drugs.commission_batch(w3, contract, ctx.signer("manufacturer"), gtin=GTIN, lot=LOT,
                                      expiry=expiry, serials=serials, certificate=b"GMP release certificate",
                                      store=conn)  # fmt: skip
        ctx.say(f"commissioned lot {LOT}: {done.quantity} packs, serial root {done.serial_root[:18]}…")
        batch = batch_id(GTIN, LOT)
        tree = serial_publish.publish(conn, batch, ctx.out / "published")
        ctx.say(f"the manufacturer publishes the serial tree (no serials) at its member URI: {tree.name}")
        s1 = drugs.ship(w3, contract, ctx.signer("manufacturer"), batch=batch, to=ctx.address("distributor"),
                        whole=True, store=conn)  # fmt: skip
        drugs.receive(w3, contract, ctx.signer("distributor"), shipment_id=s1.shipment_id, serials=s1.serials,
                      store=distributor)  # fmt: skip
        s2 = drugs.ship(w3, contract, ctx.signer("distributor"), batch=batch, to=ctx.address("pharmacy"),
                        quantity=50, store=distributor)  # fmt: skip
        drugs.receive(w3, contract, ctx.signer("pharmacy"), shipment_id=s2.shipment_id, quantity=48,
                      serials=s2.serials, store=pharmacy)  # fmt: skip
        ctx.say("manufacturer → distributor (whole lot, 200) → pharmacy (50 listed serials shipped, "
                "48 received: discrepancy recorded)")  # fmt: skip
        pages = ctx.out / "consumer-pages"
        pages.mkdir()
        # the consumer page's server has its own store: it fetches the published tree, checks its root
        consumer = open_store(ctx.out / "consumer-store.sqlite")
        packs = (("genuine", serials[1]), ("dispensed", serials[0]), ("duplicate", serials[0]))
        codes = {name: DrugCode(GTIN, lot=LOT, serial=s, expiry=expiry) for name, s in packs}
        fake = DrugCode(GTIN, lot=LOT, serial="Z999999", expiry=expiry)
        _page(ctx, contract, codes["genuine"], "genuine", pages, consumer)
        scan = build_digital_link(codes["dispensed"], "id.medchain.example")
        first = drugs.dispense(w3, contract, ctx.signer("pharmacy"), scan, store=pharmacy)
        ctx.say(f"pharmacy dispenses {serials[0]} from scan {scan}: first={first.first}")
        _page(ctx, contract, codes["dispensed"], "dispensed", pages, consumer)
        again = drugs.dispense(w3, contract, ctx.signer("pharmacy"), scan, store=pharmacy)
        ctx.say(f"the same box scanned again: first={again.first}, duplicate flags={again.duplicate_count}")
        ctx.facts["dispense"] = (first.first, again.first, again.duplicate_count)
        _page(ctx, contract, codes["duplicate"], "duplicate", pages, consumer)
        _page(ctx, contract, fake, "not_found", pages, consumer)
        notice = "召回通知 recall notice GJ2611A".encode()
        drugs.recall(w3, contract, ctx.signer("manufacturer"), batch=batch, notice=notice)
        ctx.say(f"manufacturer recalls lot {LOT}")
        _page(ctx, contract, codes["genuine"], "recalled", pages, consumer)
        labels = ctx.out / "qr"
        for name, code in (("genuine", codes["genuine"]), ("dispensed", codes["dispensed"])):
            path = labels / f"{name}.png"
            labels.mkdir(exist_ok=True)
            qr.save_label_png(code, build_digital_link(code, "id.medchain.example"), path)
        ctx.say(f"pack labels (QR + GS1 human-readable text) in {labels}")
        journey = drugs.trace(w3, contract, GTIN, LOT, serials[0])
        (ctx.out / "drug-journey.json").write_text(json.dumps(journey, indent=2, default=_plain) + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + value.hex()
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _page(ctx: DemoContext, contract: Any, code: Any, state: str, folder: Any, conn: Any) -> None:
    """Render the consumer page for one pack as `medchain web serve` would, save it as one self-contained
    file (stylesheet inlined: it opens from disk), print its URL."""
    from fastapi.testclient import TestClient

    from medchain.gs1 import build_digital_link
    from medchain.web import create_app
    from medchain.web.pages import standalone

    app = create_app(
        lambda g, lot, s: drugs.lookup(ctx.w3, contract, g, lot, s, store=conn), "id.medchain.example"
    )
    link = build_digital_link(code, "id.medchain.example")
    path = link.split("id.medchain.example", 1)[1]
    response = TestClient(app).get(path)
    out = folder / f"{state}.html"
    out.write_text(standalone(response.text))
    ctx.facts.setdefault("pages", {})[state] = (response.status_code, response.text)
    url = f"http://127.0.0.1:8080{path}"
    ctx.say(f"consumer page [{state}]: {url} -> {out.name} (HTTP {response.status_code})")


def break_glass(ctx: DemoContext) -> None:
    with ctx.step(7, "Break-glass: hospital B opens emergency access; the auditor reviews it"):
        registry = ctx.suite.require("consent")  # type: ignore[union-attr]
        patient = ctx.address("patient")
        justification = keccak(text="ER admission 2026-11-25 23:40, unconscious patient, ticket ER-5521")
        fn = registry.functions.openEmergency(patient, 1, justification)
        receipt = tx.send(ctx.w3, fn, ctx.signer("hospital_b"))
        opened = registry.events.EmergencyOpened().process_receipt(receipt, errors=_discard())[0]["args"]
        opening = int(opened["openingId"])
        ctx.say(f"emergency opening {opening} for the patient (visible to the patient as an event)")
        ok = registry.functions.isPermitted(patient, ctx.address("hospital_b"), PURPOSES["EMERGENCY"],
                                            parse_classes("ALL")).call()  # fmt: skip
        ctx.say(f"isPermitted(patient, hospital B, EMERGENCY, ALL) = {ok}")
        ctx.facts["emergency_permitted"] = ok
        tx.send(ctx.w3, registry.functions.reviewEmergency(opening, True), ctx.signer("auditor"))
        ctx.say("the auditor reviews it: justified")


def _discard() -> Any:
    from web3.logs import DISCARD

    return DISCARD


def reports(ctx: DemoContext) -> None:
    with ctx.step(9, "Reports: disclosures, evidence, drug journey; privacy scan and linkage check"):
        from medchain import linkage, privacy

        suite = ctx.suite
        assert suite is not None
        written = _audit_reports(ctx)
        for path in written:
            ctx.say(f"wrote {path.relative_to(ctx.out)}")
        needles = ctx.facts["planted"].needles()
        storage = privacy.can_dump_state(ctx.w3)  # only Anvil dumps its storage (anvil_dumpState)
        findings = privacy.scan(ctx.w3, suite.addresses().values(), needles, storage=storage)
        ctx.facts["privacy_findings"] = findings
        ctx.facts["privacy_storage_scanned"] = storage
        (ctx.out / "privacy-scan.json").write_text(json.dumps(privacy.summary(findings), indent=2) + "\n")
        where = "every storage slot, event and calldata" if storage else "every event and calldata"
        ctx.say(f"privacy scan: {len(needles):,} planted values × 5 forms over {where} of the suite: "
                f"{len(findings)} found")  # fmt: skip
        if not storage:
            ctx.say(f"storage slots not scanned: {ctx.chain} has no full state dump (anvil_dumpState)")
        linked = linkage.observe(ctx.w3, suite)
        ctx.facts["linkage"] = linked
        (ctx.out / "linkage.json").write_text(json.dumps(linked.as_dict(), indent=2) + "\n")
        ctx.say(f"linkage check: an observer of every transaction and event tried {len(linked.openings)} "
                f"openings on {len(linked.anchored)} published records: linked the {len(linked.opened)} "
                f"opened record(s), {len(linked.extra_links)} more")  # fmt: skip


def _audit_reports(ctx: DemoContext) -> list[Any]:
    """The patient's accounting of disclosures from the event index (medchain.reports when present)."""
    from medchain.indexer import Indexer

    suite = ctx.suite
    assert suite is not None
    conn = open_store(ctx.out / "audit-index.sqlite")
    Indexer(ctx.w3, suite, conn, confirmations=0).run()
    written = []
    try:
        from medchain import reports as reports_mod
    except ImportError:
        reports_mod = None  # type: ignore[assignment]
    patient = ctx.address("patient")
    if reports_mod is not None and hasattr(reports_mod, "write_disclosures"):
        written += reports_mod.write_disclosures(conn, ctx.w3, suite, patient, ctx.out)
    else:
        from medchain.indexer import events_touching

        events = events_touching(conn, ctx.w3.eth.chain_id, patient)
        path = ctx.out / "disclosures.json"
        path.write_text(json.dumps(events, indent=2) + "\n")
        written.append(path)
    return written


STEPS = [
    deploy_and_admit, consent, anchor_records, verify_and_access, claim, drug_journey, break_glass,
    record_exchange, reports,
]
