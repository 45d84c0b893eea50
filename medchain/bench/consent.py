"""ConsentRegistry rows: grant, grantBySig (first and later signature), revoke, isPermitted from a
contract."""

from __future__ import annotations

from medchain import consent
from medchain.bench import BenchContext


def rows(ctx: BenchContext) -> None:
    probe = ctx.deploy_probe("ConsentProbe")
    a = ctx.accounts
    profile = consent.gas_profile(
        ctx.suite.require("consent"), probe, a["council"], a["hospital"], a["insurer"], a["insurer_b"]
    )
    for name, s in profile.rows():
        ctx.add("ConsentRegistry", name, s.gas, floor=s.floor, target=s.target, note=s.note)
