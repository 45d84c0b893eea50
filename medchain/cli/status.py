"""`medchain status`: the chain, this home's deployment manifest, the acting account and its roles."""

from __future__ import annotations

from typing import Any

import typer

from medchain.cli.options import JsonOpt, output, state


def status(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Show the chain, this home's deployment manifest, and the acting account's member and roles.

    The account is the one --account or MEDCHAIN_ACCOUNT names (none: chain and manifest only)."""
    from medchain import consortium
    from medchain.chain import head, signer_address
    from medchain.deploy import is_live, manifest_path, read_manifest
    from medchain.errors import ConfigError
    from medchain.home import find_home

    st = state(ctx, json_out)
    w3 = st.w3()
    chain_id = int(w3.eth.chain_id)
    info: dict[str, Any] = {
        "rpcUrl": getattr(w3.provider, "endpoint_uri", None),
        "chainId": chain_id,
        **head(w3),
        "home": str(find_home()),
    }
    path = st.manifest or manifest_path(chain_id)
    try:
        manifest = read_manifest(chain_id, st.manifest)
        info["manifest"] = str(path)
        info["deployed"] = is_live(w3, manifest)
    except ConfigError:
        info["manifest"] = None
        info["deployed"] = False
    if st.account is not None:
        address = signer_address(st.signer())
        info["account"] = f"{st.account} {address}"
        if info["deployed"]:
            c = st.suite().consortium
            member = consortium.member_of(c, address)
            if member is not None:
                m = consortium.get_member(c, member)
                info["member"] = f"{m.name} {member}" + ("" if member == address else " (operator key)")
                info["roles"] = m.role_names
                info["memberStatus"] = m.status
            else:
                info["member"] = None
    output(st, info)
