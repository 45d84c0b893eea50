"""The solc-js adapter behaves like a native solc for brownie, forge and slither."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "tools" / "solc-adapter.js"


def run(args: list[str], stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(ADAPTER), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=300
    )


def standard_input(sources: dict[str, str], outputs: list[str]) -> str:
    return json.dumps(
        {
            "language": "Solidity",
            "sources": {name: {"content": text} for name, text in sources.items()},
            "settings": {
                "evmVersion": "cancun",
                "optimizer": {"enabled": True, "runs": 200},
                "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
                "outputSelection": {"*": {"*": outputs, "": ["ast"]}},
            },
        }
    )


def test_version_names_the_pinned_compiler() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["solc"]
    result = run(["--version"])
    assert result.returncode == 0
    assert f"Version: {pinned}+commit." in result.stdout


def test_standard_json_output_over_one_megabyte_arrives_intact() -> None:
    source = (
        "pragma solidity ^0.8.20;"
        'import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";'
        'import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";'
        'import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";'
        'contract T is ERC20 { constructor() ERC20("t", "t") {} }'
        'contract N is ERC721 { constructor() ERC721("n", "n") {} }'
        'contract M is ERC1155 { constructor() ERC1155("m") {} }'
    )
    result = run(
        ["--standard-json", "--allow-paths", str(ROOT), "--base-path", str(ROOT)],
        standard_input({"T.sol": source}, ["*"]),
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) > 1_000_000  # far past the 64 KiB pipe truncation trap
    out = json.loads(result.stdout)  # raises if cut short
    assert not [e for e in out.get("errors", []) if e["severity"] == "error"]
    assert out["contracts"]["T.sol"]["T"]["evm"]["bytecode"]["object"]
    assert any(k.endswith("@openzeppelin/contracts/token/ERC20/ERC20.sol") for k in out["sources"])


def test_import_resolves_through_base_path(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "L.sol").write_text(
        "pragma solidity ^0.8.20; library L { function one() internal pure returns (uint) { return 1; } }"
    )
    source = (
        'pragma solidity ^0.8.20; import {L} from "lib/L.sol"; '
        "contract C { function f() external pure returns (uint) { return L.one(); } }"
    )
    result = run(
        ["--standard-json", "--base-path", str(tmp_path)],
        standard_input({"C.sol": source}, ["abi"]),
        cwd=ROOT,
    )
    out = json.loads(result.stdout)
    assert "lib/L.sol" in out["sources"]
    assert out["contracts"]["C.sol"]["C"]["abi"][0]["name"] == "f"


def test_missing_import_is_reported_as_a_compiler_error() -> None:
    source = 'pragma solidity ^0.8.20; import "does/not/Exist.sol"; contract C {}'
    result = run(["--standard-json", "--base-path", str(ROOT)], standard_input({"C.sol": source}, ["abi"]))
    out = json.loads(result.stdout)
    errors = [e for e in out["errors"] if e["severity"] == "error"]
    assert errors and "does/not/Exist.sol" in errors[0]["message"]


def test_syntax_error_passes_through() -> None:
    result = run(["--standard-json"], standard_input({"C.sol": "contract {"}, ["abi"]))
    errors = json.loads(result.stdout)["errors"]
    assert errors[0]["type"] == "ParserError"


def test_combined_json_like_crytic_compile(tmp_path: Path) -> None:
    src = tmp_path / "C.sol"
    src.write_text(
        "pragma solidity ^0.8.20; contract C { function f() external pure returns (uint) { return 7; } }"
    )
    result = run(
        ["--combined-json", "abi,ast,bin,bin-runtime,srcmap,srcmap-runtime,userdoc,devdoc,hashes", str(src),
         "--allow-paths", str(tmp_path)],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    entry = out["contracts"]["C.sol:C"]
    assert entry["hashes"] == {"f()": "26121ff0"}
    assert entry["bin"] and entry["bin-runtime"]
    assert out["sources"]["C.sol"]["AST"]["nodeType"] == "SourceUnit"
    assert out["sourceList"] == ["C.sol"]


def test_combined_json_compile_error_exits_nonzero(tmp_path: Path) -> None:
    src = tmp_path / "Bad.sol"
    src.write_text("contract {")
    result = run(["--combined-json", "abi,bin", str(src)], cwd=tmp_path)
    assert result.returncode == 1
    assert "ParserError" in result.stderr


@pytest.mark.parametrize("args", [["--frobnicate"], []])
def test_unsupported_usage_is_a_clear_error(args: list[str]) -> None:
    result = run(args)
    assert result.returncode == 2
    assert result.stderr.startswith("solc-adapter: ")


def test_installed_where_py_solc_x_looks() -> None:
    import solcx

    versions = [str(v) for v in solcx.get_installed_solc_versions()]
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["solc"]
    assert pinned in versions
