"""Interop (DESIGN 6.6): our FHIR canonical JSON equals RFC 8785 as ECMAScript computes it (node): key
order by UTF-16 code units, number formatting, string escaping."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from medchain.hashing import canonical_fhir, hash_bytes

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is needed")

TEXTS = [
    '{"resourceType": "Observation", "valueQuantity": {"value": 6.50, "unit": "mmol/L"}, "status": "final"}',
    '{"resourceType": "X", "n": [0, -0, 1e21, 1e-7, 0.1, 123.456e10, 5e-324, 1.7976931348623157e308, 1E3]}',
    '{"resourceType": "X", "\\u20ac": 1, "\\r": 2, "\\ud83d\\ude00": 3, "\\ufb33": 4, "A": 6, "\\u00e9": 7}',
    '{"resourceType": "X", "s": "tab\\t nl\\n quote\\" slash\\\\ ctl\\u0001 uni\\u00e9 \\ud83d\\ude00 /"}',
    '{"resourceType": "X", "nested": {"b": [true, false, null, {"z": 1, "y": [2.50, 3]}], "a": {}}}',
]


def test_canonical_json_matches_ecmascript_jcs() -> None:
    script = str(Path(__file__).with_name("jcs.js"))
    done = subprocess.run(["node", script], input=json.dumps(TEXTS), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout)
    for text, theirs in zip(TEXTS, expected, strict=True):
        assert canonical_fhir(json.loads(text)) == theirs.encode("utf-8"), text
        assert hash_bytes(text.encode()).method == "sha256+fhir-jcs-static"
