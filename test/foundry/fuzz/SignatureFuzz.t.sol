// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "../utils/Base.sol";
import {Eip712} from "../utils/Eip712.sol";
import {IConsentRegistry} from "../../../interfaces/IConsentRegistry.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {ERC1271WalletMock} from "../../../contracts/test/ERC1271WalletMock.sol";

/// @title SignatureFuzz
/// @notice EIP-712 consent signatures (DESIGN §6.4) under random keys and fields: only the patient's own key (or
/// its active guardian's, or an ERC-1271 wallet's owner) is accepted; any change to a signed field, a replay, a
/// late use, or a malleated (high-s) copy is rejected; the domain and type hashes equal the spec's.
contract SignatureFuzz is Base {
    uint8 internal constant CLAIM = 2;
    uint64 internal constant ALL_CLASSES = (1 << 11) - 1;
    uint256 internal constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    ConsentRegistry internal registry;
    address internal hospital;

    function setUp() public {
        vm.warp(T0);
        _deployConsortium(1, 1);
        hospital = _admit("hospital", HOSPITAL);
        registry = new ConsentRegistry(consortium);
    }

    // ---- spec ----

    function test_domainAndTypeHashesMatchTheSpec() public view {
        vm.assertEq(registry.DOMAIN_SEPARATOR(), Eip712.domainSeparator(address(registry)), "domain separator");
        vm.assertEq(registry.CONSENT_GRANT_TYPEHASH(), Eip712.GRANT_TYPEHASH, "grant typehash");
        vm.assertEq(registry.CONSENT_REVOKE_TYPEHASH(), Eip712.REVOKE_TYPEHASH, "revoke typehash");
        (bytes1 fields, string memory name, string memory version, uint256 chainId, address verifying,,) =
            registry.eip712Domain();
        vm.assertTrue(fields == hex"0f", "domain fields: name, version, chainId, verifyingContract");
        vm.assertEq(keccak256(bytes(name)), keccak256("MedChain ConsentRegistry"), "domain name");
        vm.assertEq(keccak256(bytes(version)), keccak256("1"), "domain version");
        vm.assertEq(chainId, block.chainid, "chain id");
        vm.assertEq(verifying, address(registry), "verifying contract");
    }

    // ---- who may sign ----

    /// @notice A grant signed by any key is accepted iff that key is the patient's.
    function testFuzz_grantBySig_onlyThePatientsKey(
        uint256 patientKey,
        uint256 signerKey,
        bool patientSigns,
        uint64 classes,
        uint8 purpose
    ) public {
        patientKey = _bound(patientKey, 1, SECP256K1_N - 1);
        signerKey = patientSigns ? patientKey : _bound(signerKey, 1, SECP256K1_N - 1);
        Eip712.Grant memory g = _grant(vm.addr(patientKey), purpose, classes);
        bytes memory sig = _signGrant(signerKey, g);
        if (signerKey != patientKey) {
            vm.expectRevert(
                abi.encodeWithSelector(IConsentRegistry.ConsentInvalidSignature.selector, g.patient, vm.addr(signerKey))
            );
        }
        _submit(g, sig);
        if (signerKey == patientKey) {
            vm.assertTrue(registry.isPermitted(g.patient, hospital, g.purpose, g.dataClasses), "grant not applied");
            vm.assertEq(registry.nonces(g.patient), 1, "nonce not consumed");
        }
    }

    /// @notice Changing any one signed field after signing makes the signature invalid.
    function testFuzz_grantBySig_anyChangedFieldIsRejected(uint256 key, uint8 field, uint64 classes, uint8 purpose)
        public
    {
        key = _bound(key, 1, SECP256K1_N - 1);
        Eip712.Grant memory g = _grant(vm.addr(key), purpose, classes);
        bytes memory sig = _signGrant(key, g);
        field = field % 7;
        if (field == 0) g.patient = address(uint160(g.patient) ^ 1);
        else if (field == 1) g.grantee = address(uint160(g.grantee) ^ 1);
        else if (field == 2) g.purpose = g.purpose % 5 + 1; // another valid purpose
        else if (field == 3) g.dataClasses = g.dataClasses == 1 ? 2 : 1;
        else if (field == 4) g.validFrom += 1;
        else if (field == 5) g.validUntil += 1;
        else g.deadline += 1;
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentInvalidSignature.selector, g.patient, _recover(g, sig))
        );
        _submit(g, sig);
    }

    /// @notice A signature works once: the nonce it names is consumed (and `invalidateNonce` voids it beforehand).
    function testFuzz_grantBySig_noReplayAndInvalidation(uint256 key, bool invalidateFirst) public {
        key = _bound(key, 1, SECP256K1_N - 1);
        Eip712.Grant memory g = _grant(vm.addr(key), CLAIM, ALL_CLASSES);
        bytes memory sig = _signGrant(key, g);
        if (invalidateFirst) {
            vm.prank(g.patient);
            registry.invalidateNonce(g.patient);
        } else {
            _submit(g, sig);
        }
        vm.expectRevert(); // the digest now names a used nonce: recovery yields another address
        _submit(g, sig);
    }

    /// @notice The deadline is inclusive and checked first.
    function testFuzz_grantBySig_deadline(uint256 key, uint32 late) public {
        key = _bound(key, 1, SECP256K1_N - 1);
        Eip712.Grant memory g = _grant(vm.addr(key), CLAIM, ALL_CLASSES);
        bytes memory sig = _signGrant(key, g);
        uint256 at = g.deadline + (late % 2 == 0 ? 0 : 1 + uint256(late));
        vm.warp(at);
        if (at > g.deadline) {
            vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentSignatureExpired.selector, g.deadline, at));
        }
        _submit(g, sig);
    }

    /// @notice The high-s twin of a valid signature (same signer for ecrecover) is rejected.
    function testFuzz_grantBySig_highSRejected(uint256 key) public {
        key = _bound(key, 1, SECP256K1_N - 1);
        Eip712.Grant memory g = _grant(vm.addr(key), CLAIM, ALL_CLASSES);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, Eip712.grantDigest(address(registry), g));
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        vm.assertTrue(uint256(highS) > HALF_N, "twin is high-s");
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentInvalidSignature.selector, g.patient, address(0))
        );
        _submit(g, abi.encodePacked(r, highS, v == 27 ? uint8(28) : uint8(27)));
    }

    /// @notice Malformed signatures (wrong length, garbage) are rejected, never accepted.
    function testFuzz_grantBySig_garbageRejected(uint256 key, bytes memory garbage) public {
        key = _bound(key, 1, SECP256K1_N - 1);
        Eip712.Grant memory g = _grant(vm.addr(key), CLAIM, ALL_CLASSES);
        vm.expectRevert();
        _submit(g, garbage);
    }

    /// @notice An active guardian's key is accepted for the patient, until the guardianship ends.
    function testFuzz_grantBySig_guardian(uint256 patientKey, uint256 guardianKey, uint32 after_) public {
        patientKey = _bound(patientKey, 1, SECP256K1_N - 1);
        guardianKey = _bound(guardianKey, 1, SECP256K1_N - 1);
        vm.assume(patientKey != guardianKey);
        address patient = vm.addr(patientKey);
        address guardian = vm.addr(guardianKey);
        uint64 until = uint64(block.timestamp + 1 days);
        vm.prank(patient);
        registry.setGuardian(guardian, until);
        vm.warp(block.timestamp + after_ % 2 days);
        Eip712.Grant memory g = _grant(patient, CLAIM, ALL_CLASSES);
        bytes memory sig = _signGrant(guardianKey, g);
        bool active = block.timestamp <= until;
        if (!active) {
            vm.expectRevert(
                abi.encodeWithSelector(IConsentRegistry.ConsentGuardianExpired.selector, patient, guardian, until)
            );
        }
        _submit(g, sig);
        vm.assertEq(registry.isPermitted(patient, hospital, g.purpose, g.dataClasses), active, "guardian-signed grant");
    }

    /// @notice An ERC-1271 wallet patient: its owner's signature is accepted, any other key's is not.
    function testFuzz_grantBySig_erc1271Wallet(uint256 ownerKey, uint256 signerKey, bool ownerSigns) public {
        ownerKey = _bound(ownerKey, 1, SECP256K1_N - 1);
        signerKey = ownerSigns ? ownerKey : _bound(signerKey, 1, SECP256K1_N - 1);
        ERC1271WalletMock wallet = new ERC1271WalletMock(vm.addr(ownerKey));
        Eip712.Grant memory g = _grant(address(wallet), CLAIM, ALL_CLASSES);
        bytes memory sig = _signGrant(signerKey, g);
        if (signerKey != ownerKey) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IConsentRegistry.ConsentInvalidSignature.selector, address(wallet), vm.addr(signerKey)
                )
            );
        }
        _submit(g, sig);
    }

    /// @notice Revocation by signature: only the patient's key, only for the signed (grantee, purpose).
    function testFuzz_revokeBySig(uint256 patientKey, uint256 signerKey, bool patientSigns, bool changePurpose) public {
        patientKey = _bound(patientKey, 1, SECP256K1_N - 1);
        signerKey = patientSigns ? patientKey : _bound(signerKey, 1, SECP256K1_N - 1);
        address patient = vm.addr(patientKey);
        vm.prank(patient);
        registry.grant(hospital, CLAIM, ALL_CLASSES, 0, 0);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = Eip712.revokeDigest(address(registry), patient, hospital, CLAIM, 0, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, digest);
        uint8 purpose = changePurpose ? 1 : CLAIM;
        bool ok = signerKey == patientKey && !changePurpose;
        if (!ok) vm.expectRevert();
        registry.revokeBySig(patient, hospital, purpose, deadline, abi.encodePacked(r, s, v));
        vm.assertEq(registry.isPermitted(patient, hospital, CLAIM, ALL_CLASSES), !ok, "permission after revokeBySig");
    }

    // ---- helpers ----

    /// @dev A valid grant of `patient` to the hospital; purpose and classes derived from fuzz seeds.
    function _grant(address patient, uint8 purposeSeed, uint64 classesSeed)
        internal
        view
        returns (Eip712.Grant memory g)
    {
        g.patient = patient;
        g.grantee = hospital;
        g.purpose = uint8(1 + purposeSeed % 5);
        g.dataClasses = 1 + classesSeed % ALL_CLASSES;
        g.validFrom = uint64(block.timestamp);
        g.validUntil = uint64(block.timestamp + 30 days);
        g.nonce = registry.nonces(patient);
        g.deadline = block.timestamp + 1 hours;
    }

    function _signGrant(uint256 key, Eip712.Grant memory g) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, Eip712.grantDigest(address(registry), g));
        return abi.encodePacked(r, s, v);
    }

    /// @dev The address `sig` recovers to over the digest of `g` (what the registry reports as `recovered`).
    function _recover(Eip712.Grant memory g, bytes memory sig) internal view returns (address) {
        (bytes32 r, bytes32 s) = (bytes32(0), bytes32(0));
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
        return ecrecover(Eip712.grantDigest(address(registry), g), v, r, s);
    }

    function _submit(Eip712.Grant memory g, bytes memory sig) internal {
        registry.grantBySig(g.patient, g.grantee, g.purpose, g.dataClasses, g.validFrom, g.validUntil, g.deadline, sig);
    }
}
