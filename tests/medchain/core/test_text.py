"""medchain.text: digit tests, one-line messages, JSON depth without parsing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from medchain.errors import ConfigError, ContractRevert, InputError
from medchain.text import MAX_JSON_DEPTH, check_json_depth, is_digits, json_depth, one_line


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", True), ("0123456789", True), ("", False), ("²", False), ("١٢", False), ("1.0", False),
     (" 1", False), ("-1", False)],
)  # fmt: skip
def test_is_digits_accepts_only_ascii_digits(text: str, expected: bool) -> None:
    assert is_digits(text) is expected
    if expected:
        int(text)  # what the callers do next


def test_one_line_escapes_breaks_and_control_characters_and_keeps_the_rest() -> None:
    assert one_line("plain text, 中文 ok") == "plain text, 中文 ok"
    assert one_line("a\nb\r\x1b[31mred\u2028end\x00") == "a\\nb\\r\\x1b[31mred\\u2028end\\x00"
    assert len(one_line("x\ny").splitlines()) == 1


def test_every_medchain_error_is_one_line() -> None:
    assert str(InputError("bad key 'ops\nteam'")) == "bad key 'ops\\nteam'"
    assert str(ConfigError("a\u2029b")) == "a\\u2029b"
    assert str(ContractRevert("NotMember", {"account": "0xab"})) == "NotMember(account=0xab)"


@pytest.mark.parametrize(
    ("text", "depth"),
    [("1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ('["[[[[", "\\"]]]"]', 1), ('{"k": "\\\\"}', 1),
     ("[" * 500, 500)],
)  # fmt: skip
def test_json_depth_ignores_brackets_inside_strings(text: str, depth: int) -> None:
    assert json_depth(text) == depth == json_depth(text.encode())
    if depth < 100 and text.count("[") == text.count("]"):
        json.loads(text)  # well formed: the parser agrees it is a document


def test_check_json_depth_names_the_source_and_the_limit() -> None:
    check_json_depth("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, "ok.json")
    with pytest.raises(InputError, match=r"deep\.json: JSON nested 101 levels deep \(at most 100\)"):
        check_json_depth("[" * 101 + "]" * 101, "deep.json")


def test_deep_json_is_refused_before_the_parser_even_with_a_raised_recursion_limit(tmp_path: Path) -> None:
    """py_ecc (imported with py-evm) raises the recursion limit to 100,000: json.loads of a 200,000-deep
    document would then overflow the C stack. The depth check refuses it first."""
    from medchain.claimfile import load_file
    from medchain.hashing import hash_bytes

    deep = "[" * 200_000 + "]" * 200_000
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 100_000))
    try:
        (tmp_path / "deep.json").write_text(deep)
        result = load_file(tmp_path / "deep.json")
        assert not result.entries and "nested deeper than 100 levels" in str(result.problems[0])
        with pytest.raises(InputError, match="nested 200001 levels"):
            hash_bytes(b'{"resourceType": "Observation", "x": ' + deep.encode() + b"}", mode="fhir")
    finally:
        sys.setrecursionlimit(old)
