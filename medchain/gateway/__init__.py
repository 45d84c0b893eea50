"""The record exchange's data plane (docs/RECORD-EXCHANGE.md): each hospital's record gateway and the
requester's client.

- :mod:`medchain.gateway.messages` the signed requests (EIP-712, domain "MedChain RecordGateway" v1);
- :mod:`medchain.gateway.crypto` ECIES (secp256k1) encryption of every response;
- :mod:`medchain.gateway.catalogue` the hospital's export directory (files, FHIR JSON, FHIR Bulk NDJSON);
- :mod:`medchain.gateway.service` the release decisions, checked against the chain at every request;
- :mod:`medchain.gateway.releases` the released request ids (replay protection);
- :mod:`medchain.gateway.server` the FastAPI app (FHIR-shaped REST, OperationOutcome errors);
- :mod:`medchain.gateway.client` the requester: list, fetch, decrypt, verify against the anchor, store;
- :mod:`medchain.gateway.exchange` the flows: log the access on chain, then fetch (one record or all).
"""
