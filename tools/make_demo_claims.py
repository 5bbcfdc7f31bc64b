"""Write the bundled demo year (src/jiuzhu/data/demo_claims.jsonl), reproducibly.

Dates are in the template year 2001; ``jiuzhu demo`` moves them into each
policy's first full year in force. Costs are rough: inpatient admissions around
the national resident average (8,023 元 in 2021, 《2021年全国医疗保障事业发展统计公报》) with a long
tail, a few chronic and general outpatient visits. Issue 4 brings the
calibrated synthetic population; this file only has to exercise every tier.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "jiuzhu" / "data" / "demo_claims.jsonl"
CATEGORIES = [
    ("ordinary", 30), ("dibao", 14), ("extreme_poor", 6), ("near_dibao", 10), ("monitored", 8),
    ("returned_to_poverty", 4), ("orphan", 2), ("registered_poor", 6), ("low_income", 5),
    ("illness_impoverished", 4), ("severe_disability", 4), ("key_veteran", 2),
    ("other_special", 2), ("spending_hardship", 2), ("poverty_alleviated", 1),
]
DISEASES = ["C50.9", "C34.1", "I63.9", "N18.5", "E10.9", "K35.8", "J18.9", "S72.0", None, None]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _claim(rng: random.Random, pid: str, n: int, cats: object, month: int) -> dict[str, object]:
    visit = rng.choices(["inpatient", "outpatient_chronic", "outpatient_general", "special_drug"],
                        [60, 25, 12, 3])[0]
    if visit == "inpatient":
        total = int(rng.lognormvariate(9.0, 0.9) * 100)
    elif visit == "special_drug":
        total = int(rng.uniform(20_000, 120_000) * 100)
    else:
        total = int(rng.lognormvariate(6.5, 1.0) * 100)
    full = int(total * rng.uniform(0.0, 0.15))
    partial = int(total * rng.uniform(0.0, 0.05))
    day = rng.randint(1, 28)
    stay = rng.randint(2, 20) if visit == "inpatient" else 0
    adm_month, adm_day = month, max(1, day - stay)
    claim: dict[str, object] = {
        "claim_id": f"{pid}-{n}",
        "person_id": pid,
        "visit_type": visit,
        "settlement_date": f"2001-{month:02d}-{day:02d}",
        "admission_date": f"2001-{adm_month:02d}-{adm_day:02d}",
        "hospital_level": rng.choices([1, 2, 3], [25, 45, 30])[0],
        "referred": rng.random() > 0.05,
        "total": _yuan(total),
        "full_self_pay": _yuan(full),
        "partial_self_pay": _yuan(partial),
        "policy_scope": _yuan(total - full - partial),
    }
    if isinstance(cats, str):
        claim["category"] = cats
    else:
        claim["categories"] = cats
    disease = rng.choice(DISEASES)
    if disease:
        claim["disease"] = disease
        if visit == "inpatient" and rng.random() < 0.5:
            claim["quota_hospital"] = True
        if rng.random() < 0.1:
            claim["late_stage"] = True
    if rng.random() < 0.05:
        # Commercial and charity payments here cover the out-of-policy part, so they
        # never exceed what the insurances leave.
        claim["other_payments"] = _yuan(min(full + partial, rng.randint(100, 2000) * 100))
    if rng.random() < 0.03:
        claim["out_of_area"] = True
    return claim


def main() -> None:
    rng = random.Random(20260101)
    names = [c for c, _ in CATEGORIES]
    weights = [w for _, w in CATEGORIES]
    lines = []
    for i in range(400):
        pid = f"demo{i:04d}"
        cat = rng.choices(names, weights)[0]
        cats: object = cat
        if rng.random() < 0.1:
            change = rng.randint(3, 10)
            other = rng.choices(names, weights)[0]
            cats = [{"category": cat, "valid_to": f"2001-{change:02d}-15"},
                    {"category": other, "valid_from": f"2001-{change:02d}-16"}]
        elif rng.random() < 0.05:
            cats = [{"category": cat}, {"category": rng.choices(names, weights)[0]}]
        months = sorted(rng.sample(range(1, 13), rng.choice([1, 1, 2, 2, 3, 4])))
        for n, month in enumerate(months, start=1):
            lines.append(json.dumps(_claim(rng, pid, n, cats, month), ensure_ascii=False))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} claims -> {OUT}")


if __name__ == "__main__":
    main()
