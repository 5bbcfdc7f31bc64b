"""The national medical-security information platform's settlement (2207) and its reversal
(2208), as an adapter over the native use cases (docs/service.md has the field-by-field
mapping; the native API stays the reference).

A hospital's information system already speaks the platform's field names: it sends
what the platform settled (tiers 1–2 and the bill's split) as a 2207 message, and gets
back what this service pays in the same terms: ``maf_pay`` (医疗救助基金支出),
``psn_part_amt`` (个人负担总金额), ``hosp_part_amt`` and one ``setldetail`` entry per
fund paid here, whose ``setl_proc_info`` is the explanation as text. Money arrives as
JSON numbers or strings with at most two decimals and is converted to fen exactly.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import format_yuan, parse_yuan
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.usecases import reads, reverse, settle
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import GRANT, SettlementView, amounts_of

CERT_ID_CARD = "01"  # psn_cert_type 居民身份证
FUND_ASSISTANCE = "610100"  # fund_pay_type 医疗救助基金
ASSISTANCE = (
    Benefit.major_disease_quota,
    Benefit.medical_assistance,
    Benefit.re_assistance,
    Benefit.secondary_assistance,
    Benefit.special_assistance,
    Benefit.illness_poverty_assistance,
)
"""What this service pays out of the medical-assistance fund: together, ``maf_pay``."""

MED_TYPES = {
    "11": "outpatient_general",  # 普通门诊
    "13": "outpatient_general",  # 急诊
    "14": "outpatient_chronic",  # 门诊慢特病
    "21": "inpatient",  # 普通住院
    "22": "inpatient",  # 外伤住院
    "23": "inpatient",  # 转外诊治住院
    "24": "inpatient",  # 急诊转住院
}
HOSP_LV = {  # 医院等级 → hospital_level
    **dict.fromkeys(("01", "02", "03", "04"), 3),
    **dict.fromkeys(("05", "06", "07"), 2),
    **dict.fromkeys(("08", "09", "10"), 1),
}
MONEY_IN = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
)
REQUIRED_MONEY = ("medfee_sumamt", "fulamt_ownpay_amt", "inscp_scp_amt", "hifp_pay")
KNOWN_2207 = frozenset(
    {
        *MONEY_IN,
        "psn_no",
        "mdtrt_id",
        "setl_id",
        "psn_cert_type",
        "certno",
        "psn_name",
        "med_type",
        "insutype",
        "begntime",
        "setl_time",
        "hosp_lv",
        "refl_flag",
        "dise_codg",
        "dise_name",
        "medins_setl_id",
    }
)


def _fen(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise Refused(Kind.invalid, field, "金额须为数值或数值字符串（最多两位小数）")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Refused(Kind.invalid, field, "金额须为数值（最多两位小数）") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise Refused(Kind.invalid, field, "金额须为非负数，最多两位小数")
    return int(amount * 100)


def _text(data: dict[str, Any], field: str, *, required: bool = True, limit: int = 64) -> str:
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise Refused(Kind.invalid, field, "缺少此字段")
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise Refused(Kind.invalid, field, f"须为字符串（至多 {limit} 个字符）")
    return value


def _day(data: dict[str, Any], field: str) -> str:
    """``yyyy-MM-dd HH:mm:ss`` (or just the date) → ``yyyy-MM-dd``."""
    value = _text(data, field, limit=19)
    day = value[:10]
    if len(day) != 10 or day[4] != "-" or day[7] != "-":
        raise Refused(Kind.invalid, field, "须为 yyyy-MM-dd HH:mm:ss 格式的时间")
    return day


def _envelope(body: Any, infno: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(body, dict):
        raise Refused(Kind.invalid, "", '请求体须为 {"infno", "msgid", "input": {"data": {…}}}')
    if body.get("infno") != infno:
        raise Refused(Kind.invalid, "infno", f"交易编号须为 {infno}")
    msgid = body.get("msgid")
    if not isinstance(msgid, str) or not 1 <= len(msgid) <= 30:
        raise Refused(Kind.invalid, "msgid", "须给出报文ID（1–30 个字符）")
    data = (body.get("input") or {}).get("data") if isinstance(body.get("input"), dict) else None
    if not isinstance(data, dict):
        raise Refused(Kind.invalid, "input.data", "缺少 input.data")
    return msgid, data


def native_claim(data: dict[str, Any]) -> dict[str, Any]:
    """A 2207 ``input.data`` as the native claim body (errors name the 2207 field)."""
    unknown = sorted(set(data) - KNOWN_2207)
    if unknown:
        raise Refused.many(Kind.invalid, [(f"input.data.{k}", "未知字段") for k in unknown[:20]])
    if _text(data, "psn_cert_type", limit=6) != CERT_ID_CARD:
        raise Refused(
            Kind.invalid, "psn_cert_type", "本服务按居民身份证结算：psn_cert_type 须为 01"
        )
    fen = {k: _fen(data[k], k) for k in MONEY_IN if k in data}
    for k in REQUIRED_MONEY:
        if k not in fen:
            raise Refused(Kind.invalid, k, "缺少此字段")
    if fen.get("maf_pay", 0):
        raise Refused(Kind.invalid, "maf_pay", "医疗救助由本服务结算：maf_pay 须为 0 或不给")
    med_type = _text(data, "med_type", limit=6)
    if med_type not in MED_TYPES:
        raise Refused(Kind.invalid, "med_type", f"医疗类别须为 {'、'.join(MED_TYPES)} 之一")
    hosp_lv = _text(data, "hosp_lv", limit=3)
    if hosp_lv not in HOSP_LV:
        raise Refused(Kind.invalid, "hosp_lv", "医院等级须为 01–10（11 无等级不适用）")
    refl = _text(data, "refl_flag", limit=1)
    if refl not in ("0", "1"):
        raise Refused(Kind.invalid, "refl_flag", "转诊标志须为 0 或 1")
    partial = fen.get("overlmt_selfpay", 0) + fen.get("preselfpay_amt", 0)
    parts = fen["fulamt_ownpay_amt"] + partial + fen["inscp_scp_amt"]
    if parts != fen["medfee_sumamt"]:
        raise Refused(
            Kind.invalid,
            "medfee_sumamt",
            f"医疗费总额 {format_yuan(fen['medfee_sumamt'])} 不等于 fulamt_ownpay_amt +"
            f" overlmt_selfpay + preselfpay_amt + inscp_scp_amt = {format_yuan(parts)}",
        )
    other = fen.get("cvlserv_pay", 0) + fen.get("hifes_pay", 0) + fen.get("oth_pay", 0)
    claim: dict[str, Any] = {
        "claim_id": _text(data, "setl_id", limit=30),
        "person_id": _text(data, "certno", limit=50),
        "visit_type": MED_TYPES[med_type],
        "settlement_date": _day(data, "setl_time"),
        "admission_date": _day(data, "begntime"),
        "hospital_level": HOSP_LV[hosp_lv],
        "referred": refl == "1",
        "total": format_yuan(fen["medfee_sumamt"]),
        "full_self_pay": format_yuan(fen["fulamt_ownpay_amt"]),
        "partial_self_pay": format_yuan(partial),
        "policy_scope": format_yuan(fen["inscp_scp_amt"]),
        "insurance": {
            "basic_insurance": format_yuan(fen["hifp_pay"]),
            "critical_illness_insurance": format_yuan(
                fen.get("hifmi_pay", 0) + fen.get("hifob_pay", 0)
            ),
        },
        "other_payments": format_yuan(other),
    }
    if data.get("dise_codg"):
        claim["disease"] = _text(data, "dise_codg", limit=100)
    return claim


def _proc_info(result: dict[str, Any], benefit: str) -> str:
    lines = [ln for ln in result["lines"] if ln["benefit"] == benefit]
    text = "；".join(
        " ".join(
            p
            for p in (
                ln["text"],
                ln.get("formula") or "",
                f"（{ln['clause']}）" if ln.get("clause") else "",
            )
            if p
        )
        for ln in lines
    )
    return text[:4000]


def answer(
    view: SettlementView, data: dict[str, Any], msgid: str, *, sign: int = 1
) -> dict[str, Any]:
    """What this service paid, in the platform's terms (``sign`` −1: a 2208 reversal)."""
    result = view.result
    now = view.current_fen() if view.reversal is None else amounts_of(result)
    if view.reversal is not None:
        now = {
            k: int(Decimal(str(v)) * 100)
            for k, v in view.reversal.amounts.items()
            if k != "personal"
        } or now

    def y(fen: int) -> str:
        return format_yuan(sign * fen)

    maf = sum(now.get(b.value, 0) for b in ASSISTANCE)
    paid = sum(v for k, v in now.items() if k != GRANT)
    total = parse_yuan(str(result["total"]))
    detail = []
    for b in ASSISTANCE:
        amount = now.get(b.value, 0)
        if amount == 0 and b is not Benefit.medical_assistance:
            continue
        detail.append(
            {
                "fund_pay_type": FUND_ASSISTANCE,
                "fund_pay_type_name": f"医疗救助基金（{b.zh}）",
                "inscp_scp_amt": data.get("inscp_scp_amt"),
                "fund_payamt": y(amount),
                "setl_proc_info": _proc_info(result, b.value),
            }
        )
    setlinfo = {
        "mdtrt_id": data.get("mdtrt_id"),
        "setl_id": view.claim_ref,
        "psn_no": data.get("psn_no"),
        "certno": mask_id(view.id_number),
        "medfee_sumamt": y(total),
        "maf_pay": y(maf),
        "hosp_part_amt": y(now.get(Benefit.hospital_borne.value, 0)),
        "psn_part_amt": y(total - paid),
        "jz_settlement_id": view.public_id,
        "jz_person_id": view.person_public_id,
        "jz_critical_care_grant": y(now.get(GRANT, 0)),
    }
    return {
        "infcode": 0,
        "inf_refmsgid": msgid,
        "output": {"setlinfo": setlinfo, "setldetail": detail},
    }


def settle_2207(
    store: Store, caller: Caller, key: str | None, body: Any
) -> tuple[settle.Outcome, dict[str, Any]]:
    msgid, data = _envelope(body, "2207")
    if not isinstance(data.get("mdtrt_id"), str) or not data["mdtrt_id"]:
        raise Refused(Kind.invalid, "mdtrt_id", "缺少就诊ID")
    _text(data, "psn_no", limit=30)
    outcome = settle.settle(store, caller, key or msgid, native_claim(data))
    return outcome, answer(outcome.view, data, msgid)


def reverse_2208(
    store: Store, caller: Caller, body: Any
) -> tuple[reverse.Reversed, dict[str, Any]]:
    """2208: ``setl_id`` is the hospital's claim id (2207's), the reason is ``expContent``."""
    msgid, data = _envelope(body, "2208")
    setl_id = _text(data, "setl_id", limit=30)
    reason = data.get("expContent")
    if isinstance(reason, dict):
        reason = reason.get("reason")
    found = reads.by_claim(store, caller, setl_id)
    done = reverse.reverse(store, caller, found.public_id, reason)
    return done, answer(done.settlement, data, msgid, sign=-1)
