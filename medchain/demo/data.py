"""Synthetic demo data: FHIR records full of (fake) personal data, so the privacy scan has something to miss.

Every value here is invented. The planted values are returned so the privacy scan can look for them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛"]
#: (ICD-10 code, display) — diagnosis codes that must never reach the chain
DIAGNOSES = [("J18.9", "Pneumonia, unspecified"), ("E11.9", "Type 2 diabetes"), ("I10", "Hypertension"),
             ("K35.80", "Acute appendicitis"), ("F32.9", "Depressive episode"),
             ("B20", "HIV disease")]  # fmt: skip
LAB_CODES = [("2345-7", "Glucose"), ("718-7", "Hemoglobin"), ("2160-0", "Creatinine")]


@dataclass
class Planted:
    """Personal data the generated records contain; none of it may appear on chain in any form."""

    names: set[str] = field(default_factory=set)
    national_ids: set[str] = field(default_factory=set)
    diagnosis_codes: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)

    def needles(self) -> list[str]:
        return sorted(self.names | self.national_ids | self.diagnosis_codes | self.texts)


def national_id(rng: random.Random) -> str:
    """An 18-character resident identity number of the right shape (region, birth date, order, check)."""
    body = (
        f"36{rng.randint(1000, 9999)}{rng.randint(1950, 2010)}"
        f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    )
    body += f"{rng.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def fhir_record(rng: random.Random, index: int, planted: Planted) -> dict[str, object]:
    """One FHIR R5 resource (Observation or Condition) naming a patient, an ID number and a diagnosis."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    pid = national_id(rng)
    code, display = rng.choice(DIAGNOSES)
    note = f"{name} 主诉发热三天 record {index}"
    planted.names.add(name)
    planted.national_ids.add(pid)
    planted.diagnosis_codes.add(code)
    planted.texts.add(note)
    subject = {"display": name, "identifier": {"system": "urn:oid:2.16.156.10011.1.1", "value": pid}}
    if index % 2:
        lab, lab_name = rng.choice(LAB_CODES)
        return {
            "resourceType": "Observation",
            "id": f"obs-{index}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": lab, "display": lab_name}]},
            "subject": subject,
            "valueQuantity": {"value": round(rng.uniform(3, 12), 2), "unit": "mmol/L"},
            "note": [{"text": note}],
            "meta": {"lastUpdated": "2026-11-20T08:00:00+08:00"},
        }
    return {
        "resourceType": "Condition",
        "id": f"cond-{index}",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},  # fmt: skip
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": code, "display": display}]},
        "subject": subject,
        "note": [{"text": note}],
    }


def write_records(folder: Path, count: int, seed: int = 7) -> Planted:
    """Write `count` FHIR JSON records into `folder`; returns what was planted in them."""
    rng = random.Random(seed)
    planted = Planted()
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        record = fhir_record(rng, i, planted)
        (folder / f"record-{i:05d}.json").write_text(json.dumps(record, ensure_ascii=False))
    return planted
