"""Every contract the project deploys runs on shanghai rules (DESIGN §4): Ganache 7.9.2 stops there, so one
MCOPY/TLOAD/TSTORE/BLOBHASH/BLOBBASEFEE (cancun) or CLZ (osaka) in a runtime bytecode fails the build.

The runtime bytecode is walked as the EVM decodes it: PUSH1..PUSH32 data is skipped, the CBOR metadata at the
end is cut off, and every other byte must be a shanghai opcode.
"""

from __future__ import annotations

import json

import pytest

from medchain.artifacts import build_dir, project_root

#: opcodes defined by the shanghai hardfork (PUSH1..PUSH32 are 0x60..0x7f; 0xfe is the designated INVALID)
SHANGHAI = frozenset(
    [*range(0x00, 0x0C), *range(0x10, 0x1E), 0x20, *range(0x30, 0x49), *range(0x50, 0x5C), 0x5F,
     *range(0x60, 0xA5), *range(0xF0, 0xF6), 0xFA, 0xFD, 0xFE, 0xFF]
)  # fmt: skip
NEWER = {0x1E: "CLZ", 0x49: "BLOBHASH", 0x4A: "BLOBBASEFEE", 0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY"}


def strip_metadata(code: bytes) -> bytes:
    """The code without solc's CBOR metadata (its length is the last two bytes)."""
    if len(code) < 2:
        return code
    length = int.from_bytes(code[-2:], "big")
    return code[: -(length + 2)] if length + 2 <= len(code) else code


def newer_opcodes(code: bytes) -> list[tuple[int, str]]:
    """(offset, name) of every opcode that is not shanghai, PUSH data skipped."""
    found: list[tuple[int, str]] = []
    pc = 0
    while pc < len(code):
        op = code[pc]
        if op not in SHANGHAI:
            found.append((pc, NEWER.get(op, f"0x{op:02x}")))
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return found


def deployed_contracts() -> list[str]:
    """Every contract compiled from contracts/ (the suite, its libraries and the test contracts the demo and
    the tests deploy), by brownie artifact name."""
    root = project_root()
    names = []
    for path in sorted(build_dir().glob("*.json")):
        artifact = json.loads(path.read_text())
        source = artifact.get("sourcePath", "")
        if source.startswith("contracts/") and artifact.get("deployedBytecode"):
            names.append(path.stem)
    assert (root / "contracts").is_dir()
    return names


def test_the_suite_is_built_for_shanghai() -> None:
    names = deployed_contracts()
    for core in ("Consortium", "ConsentRegistry", "RecordRegistry", "ClaimsManager", "DrugTrace"):
        assert core in names, f"{core} not built: run `make compile`"
    for name in names:
        compiler = json.loads((build_dir() / f"{name}.json").read_text())["compiler"]
        assert compiler["evm_version"] == "shanghai", f"{name} built for {compiler['evm_version']}"


@pytest.mark.parametrize("name", deployed_contracts() if build_dir().is_dir() else [])
def test_runtime_bytecode_has_no_opcode_newer_than_shanghai(name: str) -> None:
    artifact = json.loads((build_dir() / f"{name}.json").read_text())
    code = bytes.fromhex(artifact["deployedBytecode"].removeprefix("0x"))
    assert newer_opcodes(strip_metadata(code)) == [], f"{name} uses opcodes newer than shanghai"


def test_the_walker_finds_mcopy_and_skips_push_data() -> None:
    # PUSH2 0x5e5e (data, not code), PUSH1 0, DUP1, DUP1, MCOPY, TSTORE, STOP
    code = bytes([0x61, 0x5E, 0x5E, 0x60, 0x00, 0x80, 0x80, 0x5E, 0x5D, 0x00])
    assert newer_opcodes(code) == [(7, "MCOPY"), (8, "TSTORE")]
    assert newer_opcodes(bytes([0x7F, *([0x5C] * 32), 0x5F, 0x00])) == []  # PUSH32 data, then PUSH0
    metadata = bytes.fromhex("a264697066735822") + bytes(34) + bytes.fromhex("0033")
    assert strip_metadata(bytes([0x00]) + metadata[:-2] + bytes([0x00, len(metadata) - 2])) == bytes([0x00])
