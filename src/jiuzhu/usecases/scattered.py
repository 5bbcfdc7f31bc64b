"""零星报销 (茂民规〔2018〕3号 二(四)): a bill that could not be settled at a desk (a hospital
not on the network, a technical failure), settled as the desk would and paid to the
person's account.

The bill is the claim contract (``io/claims.ClaimIn``) without categories, with the
issuer (开票医疗机构) and the bill number (发票号). It is checked as the desk checks a claim
(the same messages, under ``bill.``), and refused when the same issuer's bill number was
already used by another application that is open or paid, or when the visit (the same
admission and discharge days) was already settled at a desk. On approval it becomes a
stored claim and a settlement like any other, under the person's lock, so caps stay exact
and later re-settlements see it; the settling client is the approving bureau's.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.engine.reference import ASSISTANCE, ClaimRejected
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.engine.state import PersonState
from jiuzhu.io.claims import FIELD_ZH
from jiuzhu.io.rosters import memberships_of
from jiuzhu.storage.models import (
    Accumulator,
    ApiClient,
    Application,
    Person,
    PersonLedger,
    Reversal,
    SettlementRecord,
    StoredClaim,
)
from jiuzhu.storage.statements import SETTLED
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.settle import (
    amounts,
    lock,
    parse_claim,
    request_hash,
    settlement_json,
    store_pools,
)
from jiuzhu.usecases.staff import NO_CLIENT
from jiuzhu.usecases.unit import (
    Store,
    context_into,
    context_to_json,
    pools_from_json,
)

BILL_OWN = ("issuer", "bill_number")
CLAIM_FIELDS = tuple(
    k
    for k in FIELD_ZH
    if k
    not in (
        "claim_id",
        "person_id",
        "category",
        "categories",
        "valid_from",
        "valid_to",
        "applied_on",
        "reviewed",
        "accepted",
        "basic_insurance",
        "critical_illness_insurance",
    )
)
"""The claim contract's top-level fields a bill may carry."""


def _key(issuer: str, number: str) -> str:
    def norm(s: str) -> str:
        return unicodedata.normalize("NFKC", s).strip().upper()

    return f"{norm(issuer)}|{norm(number)}"[:200]


def claim_body(bill: dict[str, Any], app_number: str, id_number: str) -> dict[str, Any]:
    """The bill as a claim of the contract (what is stored and re-settled)."""
    body = {k: v for k, v in bill.items() if k not in BILL_OWN}
    return {"claim_id": f"LX{app_number}"[:64], "person_id": id_number, **body}


def parse_bill(
    store: Store, session: Session, person: Person, bill: dict[str, Any], app_number: str
) -> tuple[Claim, dict[str, Any], dict[str, Any]]:
    """The bill as a claim with the registry's categories: (claim, body, category source)."""
    held = memberships_of(session, person.id_number) or []
    body = claim_body(bill, app_number, person.id_number)
    try:
        claim, source = parse_claim(store, body, person.id_number, held)
    except Refused as err:
        err.errors = [{"field": f"bill.{e['field']}", "message": e["message"]} for e in err.errors]
        raise
    return claim, body, source


def check_bill(
    store: Store, session: Session, person: Person, raw: Any
) -> tuple[dict[str, Any], str]:
    """The bill as stored, and its key; refused as the module says."""
    from jiuzhu.usecases.inputs import Fields

    f = Fields(raw, (*BILL_OWN, *CLAIM_FIELDS), "bill")
    issuer = f.text("issuer", required=True, max_length=100, what="开票医疗机构")
    number = f.text("bill_number", required=True, max_length=64, what="发票号", mask=False)
    f.done()
    bill = dict(raw)
    bill["issuer"], bill["bill_number"] = issuer, number
    claim, _body, _source = parse_bill(store, session, person, bill, "check")
    key = _key(issuer, number)
    used = session.scalar(select(Application).where(Application.bill_key == key))
    if used is not None:
        raise Refused(
            Kind.conflict,
            "bill.bill_number",
            f"{issuer} 的发票号 {number} 已用于申请 {used.number}：同一票据不能重复报销",
        )
    refuse_desk_settled(session, person, claim)
    return bill, key


def refuse_desk_settled(session: Session, person: Person, claim: Claim) -> None:
    """A visit already settled at a desk (same admission and discharge days) is not
    reimbursed again."""
    rows = session.execute(
        select(SettlementRecord.public_id, StoredClaim.body, Reversal.id)
        .join(StoredClaim, StoredClaim.id == SettlementRecord.claim_id)
        .outerjoin(Reversal, Reversal.settlement_seq == SettlementRecord.seq)
        .where(
            SettlementRecord.person_id == person.id,
            StoredClaim.settlement_date == claim.settlement_date,
        )
    )
    for public_id, body, reversal in rows:
        if reversal is None and body.get("admission_date") == claim.admission_date.isoformat():
            raise Refused(
                Kind.conflict,
                "bill.settlement_date",
                f"该次就医（{claim.admission_date} 入院，{claim.settlement_date} 结算）已一站式结算"
                f"（结算 {public_id}）：不能再零星报销",
            )


def paid_by_assistance(result: dict[str, Any]) -> int:
    """What the assistance fund pays of a settlement, in fen (the insurance tiers are the
    insurance's own)."""
    from jiuzhu.domain.money import parse_yuan

    keys = [b.value for b in ASSISTANCE] + ["critical_care_grant"]
    return sum(parse_yuan(str(result.get(k, "0.00"))) for k in keys)


@dataclass(frozen=True, slots=True)
class BillSettled:
    claim: Claim
    body: dict[str, Any]
    source: dict[str, Any]
    result: Settlement
    context: dict[str, Any]
    state: PersonState


def settle_bill(store: Store, session: Session, app: Application) -> BillSettled:
    """Settle the bill on the person's accumulators as they stand, under their lock;
    nothing written (``store_bill`` writes it)."""
    person = session.get(Person, app.person_id)
    assert person is not None and app.bill is not None
    claim, body, source = parse_bill(store, session, person, app.bill, app.number)
    refuse_desk_settled(session, person, claim)
    conn = session.connection()
    context = lock(store, conn, person.id)
    state = PersonState()
    context_into(state, context)
    for year in store.ref.years_touched(claim):
        acc = session.get(Accumulator, (person.id, year))
        if acc is not None:
            session.refresh(acc)
            state.years[year] = pools_from_json(acc.pools)
    try:
        result = store.ref.settle(claim, state)
    except ClaimRejected as err:
        raise Refused(Kind.invalid, f"bill.{err.field}", err.message) from None
    return BillSettled(claim, body, source, result, context, state)


def settling_client(session: Session, caller: Caller) -> int:
    """The client a 零星报销's settlement is stored under: the approver's own API client,
    or, for a member of staff (who has none: ``staff.NO_CLIENT``), a client of the same
    role and jurisdiction named ``user:USERNAME`` (``caller.name``), made on their first
    such approval. It has no token, so nobody can call the API as it; it only says, as
    the settlements of the desk do, whose settlement this is."""
    if caller.client_id != NO_CLIENT:
        return caller.client_id
    row = session.scalar(select(ApiClient).where(ApiClient.name == caller.name))
    if row is None:
        row = ApiClient(name=caller.name, role=caller.role.value, jurisdiction=caller.jurisdiction)
        session.add(row)
        session.flush()
    elif (row.role, row.jurisdiction) != (caller.role.value, caller.jurisdiction):
        raise Refused(
            Kind.conflict,
            "Authorization",
            f"已有名为 {caller.name} 的接口客户端，角色或辖区与此账户不同：请管理员核查",
        )
    return row.id


def store_bill(
    store: Store, session: Session, app: Application, done: BillSettled, client_id: int
) -> SettlementRecord:
    """The bill as a stored claim and its settlement (the desk's records), with the
    accumulators and context it leaves."""
    now = dt.datetime.now(dt.UTC)
    stored = StoredClaim(
        person_id=app.person_id,
        client_id=client_id,
        claim_ref=done.claim.claim_id,
        settlement_date=done.claim.settlement_date,
        body=done.body,
        received_at=now,
    )
    session.add(stored)
    session.flush()
    money = amounts(done.result)
    rec = SettlementRecord(
        public_id=uuid.uuid4().hex,
        client_id=client_id,
        idempotency_key=f"application:{app.public_id}",
        request_sha256=request_hash(done.body),
        claim_id=stored.id,
        person_id=app.person_id,
        year=done.claim.year,
        policy_id=store.policy_id,
        status=SETTLED,
        category_source=done.source,
        context_before=done.context,
        revision=1,
        created_at=now,
        reversed_at=None,
        total_fen=money["total_fen"],
        paid_fen=money["paid_fen"],
        personal_fen=money["personal_fen"],
        medical_assistance_fen=money["medical_assistance_fen"],
        result=settlement_json(done.result),
    )
    session.add(rec)
    session.flush()
    conn = session.connection()
    for year in sorted(store.ref.years_touched(done.claim) & set(done.state.years)):
        store_pools(store, conn, app.person_id, year, done.state.years[year])
    after = context_to_json(done.state)
    if after != done.context:
        ledger = session.get(PersonLedger, app.person_id)
        assert ledger is not None
        ledger.context = after
    session.flush()
    return rec
