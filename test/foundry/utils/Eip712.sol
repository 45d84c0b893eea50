// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Eip712
/// @notice DESIGN §6.4 typed data, computed here from the type strings (not from the registry's constants), so the
/// suites check that the registry agrees with what MetaMask / eth_account / viem sign.
library Eip712 {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant GRANT_TYPEHASH = keccak256(
        "ConsentGrant(address patient,address grantee,uint8 purpose,uint64 dataClasses,uint64 validFrom,uint64 validUntil,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant REVOKE_TYPEHASH =
        keccak256("ConsentRevoke(address patient,address grantee,uint8 purpose,uint256 nonce,uint256 deadline)");

    struct Grant {
        address patient;
        address grantee;
        uint8 purpose;
        uint64 dataClasses;
        uint64 validFrom;
        uint64 validUntil;
        uint256 nonce;
        uint256 deadline;
    }

    function domainSeparator(address registry) internal view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("MedChain ConsentRegistry"), keccak256("1"), block.chainid, registry)
        );
    }

    function grantDigest(address registry, Grant memory g) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                GRANT_TYPEHASH,
                g.patient,
                g.grantee,
                g.purpose,
                g.dataClasses,
                g.validFrom,
                g.validUntil,
                g.nonce,
                g.deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(registry), structHash));
    }

    function revokeDigest(
        address registry,
        address patient,
        address grantee,
        uint8 purpose,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(REVOKE_TYPEHASH, patient, grantee, purpose, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(registry), structHash));
    }
}
