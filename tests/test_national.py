"""The national platform's 2207 (settlement) and 2208 (reversal) through the adapter,
round-tripped against the native route on the same claims: the same money, the same
explanation, and a reversal that adjusts the person's later claims as the native one
does. On SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jiuzhu.domain.money import format_yuan, parse_yuan
from jiuzhu.usecases.national import ASSISTANCE
from tests.db_fixtures import db_url, make_id
from tests.service_api import Api, api
from tests.service_helpers import inpatient_claim, register

__all__ = ["api", "db_url"]

NATIVE, NATIONAL = make_id(41), make_id(42)  # two people with the same registry entry


def claims(person: str) -> list[dict[str, Any]]:
    out = []
    for n, (scope, own, over, basic, crit) in enumerate(
        [
            ("20000.00", "1000.00", "300.00", "8000.00", "1500.00"),
            ("45000.50", "0.00", "120.25", "20000.00", "6000.10"),
            ("9000.00", "500.00", "0.00", "4000.00", "0.00"),
        ],
        start=1,
    ):
        total = format_yuan(parse_yuan(scope) + parse_yuan(own) + parse_yuan(over))
        out.append(
            inpatient_claim(
                n,
                person,
                scope,
                total=total,
                full_self_pay=own,
                partial_self_pay=over,
                insurance={"basic_insurance": basic, "critical_illness_insurance": crit},
                other_payments="100.00",
            )
        )
    return out


def as_2207(c: dict[str, Any], n: int) -> dict[str, Any]:
    """The same claim as a 2207 message; money as JSON numbers, as the platform sends."""
    return {
        "infno": "2207",
        "msgid": f"H37150200001202301010000{n}",
        "input": {
            "data": {
                "psn_no": f"37000000000{n}",
                "mdtrt_id": f"MD{n}",
                "setl_id": c["claim_id"],
                "psn_cert_type": "01",
                "certno": c["person_id"],
                "med_type": "21",
                "hosp_lv": "06",  # 二级乙等
                "refl_flag": "1",
                "begntime": f"{c['admission_date']} 08:00:00",
                "setl_time": f"{c['settlement_date']} 10:30:00",
                "medfee_sumamt": Decimal(c["total"]),
                "fulamt_ownpay_amt": Decimal(c["full_self_pay"]),
                "overlmt_selfpay": Decimal(c["partial_self_pay"]),
                "preselfpay_amt": 0,
                "inscp_scp_amt": Decimal(c["policy_scope"]),
                "hifp_pay": Decimal(c["insurance"]["basic_insurance"]),
                "hifmi_pay": Decimal(c["insurance"]["critical_illness_insurance"]),
                "hifob_pay": 0,
                "cvlserv_pay": 0,
                "oth_pay": Decimal(c["other_payments"]),
                "maf_pay": 0,
            }
        },
    }


def send(api: Api, message: dict[str, Any], path: str = "/national/2207") -> Any:
    text = __import__("json").dumps(message, default=str)  # Decimals as exact numbers
    for key in ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "inscp_scp_amt",
                "hifp_pay", "hifmi_pay", "oth_pay"):  # fmt: skip
        value = message["input"]["data"].get(key)
        if isinstance(value, Decimal):
            text = text.replace(f'"{key}": "{value}"', f'"{key}": {value}')
    return api.client.post(
        path, content=text.encode(), headers={**api.h(), "Content-Type": "application/json"}
    )


def test_2207_and_2208_round_trip_against_the_native_route(api: Api) -> None:
    register(api.app, NATIVE)
    register(api.app, NATIONAL)
    # the native claims from another hospital: claim ids are unique per hospital
    native = [api.settle(c, f"n{i}", who="hospital_b").json() for i, c in enumerate(claims(NATIVE))]
    national = []
    for n, c in enumerate(claims(NATIONAL), start=1):
        r = send(api, as_2207(c, n))
        assert r.status_code == 201, r.json()
        national.append(r.json())
    for ours, theirs in zip(native, national, strict=True):
        info, detail = theirs["output"]["setlinfo"], theirs["output"]["setldetail"]
        s = ours["settlement"]
        maf = sum(parse_yuan(s[b.value]) for b in ASSISTANCE)
        assert info["maf_pay"] == format_yuan(maf) and maf > 0
        assert info["psn_part_amt"] == s["personal"]
        assert info["medfee_sumamt"] == s["total"]
        assert info["setl_id"] == s["claim_id"]
        paid = {d["fund_pay_type_name"]: d["fund_payamt"] for d in detail}
        assert paid["医疗救助基金（医疗救助）"] == s["medical_assistance"]
        assert all(d["fund_pay_type"] == "610100" for d in detail)
        ma_lines = [ln["text"] for ln in s["lines"] if ln["benefit"] == "medical_assistance"]
        proc = next(d for d in detail if d["fund_pay_type_name"].endswith("（医疗救助）"))
        assert all(text in proc["setl_proc_info"] for text in ma_lines)
        # the stored settlement is the native one, readable by the native route
        got = api.client.get(f"/settlements/by-claim/{s['claim_id']}", headers=api.h())
        assert got.status_code == 200
    retry = send(api, as_2207(claims(NATIONAL)[0], 1))
    assert retry.status_code == 200 and retry.json() == national[0]

    native_rev = api.reverse(native[0]["id"], who="hospital_b", reason="冲正").json()
    r = send(
        api,
        {"infno": "2208", "msgid": "H3715020000120230101R1",
         "input": {"data": {"setl_id": "c1", "mdtrt_id": "MD1", "psn_no": "370000000001",
                            "expContent": "冲正"}}},
        "/national/2208",
    )  # fmt: skip
    assert r.status_code == 200, r.json()
    info = r.json()["output"]["setlinfo"]
    assert info["maf_pay"] == "-" + national[0]["output"]["setlinfo"]["maf_pay"]
    after_native = {
        x["claim_id"]: x["current"]
        for x in api.client.get(
            f"/settlements?person={native[0]['person']['id']}", headers=api.h("hospital_b")
        ).json()["items"]
    }
    after_national = {
        x["claim_id"]: x["current"]
        for x in api.client.get(
            f"/settlements?person={national[0]['output']['setlinfo']['jz_person_id']}",
            headers=api.h(),
        ).json()["items"]
    }
    assert len(after_native) == 3 and after_native == after_national
    assert native_rev["adjusted_claims"] >= 1


def test_2207_refuses_what_it_cannot_map(api: Api) -> None:
    good = as_2207(claims(NATIONAL)[0], 1)
    wrong = [("psn_cert_type", "02"), ("med_type", "99"), ("maf_pay", 5),
             ("medfee_sumamt", 1), ("hifp_pay", "1.234"), ("colour", "red")]  # fmt: skip
    for field, value in wrong:
        bad = {**good, "input": {"data": {**good["input"]["data"], field: value}}}
        r = send(api, bad)
        assert r.status_code == 422, field
        assert field in r.json()["errors"][0]["field"], (field, r.json())
