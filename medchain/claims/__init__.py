"""ClaimsManager services: the claim-submission workflow (pre-flight checks read from the chain, a journal in
the local store that makes re-runs idempotent) and the insurer, holder and council operations.

Every function takes a :class:`medchain.contracts.Suite` (or its web3 handles) and returns plain data, so the
CLI (`medchain claims ...`), `scripts/submit_claim.py` and the tests share one code path. One module a job:

- ``onchain``: the settlement token, policies, claims and evidence as the chain holds them
- ``preflight``: what a submission would meet on chain, checked without sending
- ``submit``: journal first, checks, transaction; re-runs, crashes and reorgs resolved
- ``decisions``: approve, reject, escalate, withdraw, pay
- ``queue``: what awaits a decision, and a claim's history
- ``payouts``: holders' credit and collecting it
- ``admin``: policies, insurers' reserves and claim settings

Amounts are :mod:`medchain.money`'s; the submission journal is :class:`medchain.store.claims.ClaimJournal`.
"""

from __future__ import annotations

from medchain.claims.admin import (
    create_policy,
    deposit_reserve,
    policy_window,
    release_reserve,
    reserve_status,
    set_settings,
    withdraw_reserve,
)
from medchain.claims.decisions import (
    Decision,
    approve,
    escalate,
    pay,
    reject,
    withdraw,
)
from medchain.claims.onchain import (
    CLAIM_PURPOSE,
    STATUS_NAMES,
    ClaimInfo,
    EvidenceStatus,
    PolicyInfo,
    currency,
    get_claim,
    get_policy,
    insurer_of,
)
from medchain.claims.payouts import collect_payouts, payout_status
from medchain.claims.preflight import Preflight, preflight
from medchain.claims.queue import HistoryEvent, QueueItem, history, queue
from medchain.claims.submit import Outcome, Progress, SubmitResult, submit_claims
from medchain.codes import REASON_NAMES, REJECT_REASONS, parse_reason
from medchain.money import UINT96_MAX, UINT128_MAX, Currency
from medchain.store.claims import ClaimJournal

__all__ = [
    "CLAIM_PURPOSE",
    "REASON_NAMES",
    "REJECT_REASONS",
    "STATUS_NAMES",
    "UINT96_MAX",
    "UINT128_MAX",
    "ClaimInfo",
    "ClaimJournal",
    "Currency",
    "Decision",
    "EvidenceStatus",
    "HistoryEvent",
    "Outcome",
    "PolicyInfo",
    "Preflight",
    "Progress",
    "QueueItem",
    "SubmitResult",
    "approve",
    "collect_payouts",
    "create_policy",
    "currency",
    "deposit_reserve",
    "escalate",
    "get_claim",
    "get_policy",
    "history",
    "insurer_of",
    "parse_reason",
    "pay",
    "payout_status",
    "policy_window",
    "preflight",
    "queue",
    "reject",
    "release_reserve",
    "reserve_status",
    "set_settings",
    "submit_claims",
    "withdraw",
    "withdraw_reserve",
]
