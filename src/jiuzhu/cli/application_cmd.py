"""``jiuzhu application …``: every step of an application (依申请救助) from the command line.

Each command calls the same use case as its HTTP route (``service/applications_route``)
with the same fields, so the errors, the guards of the transition table, the version
check, the money (the engine's) and the audit are the ones of the API and the pages;
this module only reads options and files and prints. Who acts, and how the password is
given: ``cli/application_desk.py`` (docs/applications.md, "Command line").

A step names the version it was made on (``--version``, shown by ``show``): if somebody
changed the application since, nothing is changed and the command says who did what.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jiuzhu.cli.application_desk import desk, given, read_bytes, read_record, run, to_json
from jiuzhu.cli.common import EXIT_DATA, EXIT_USAGE, fail, writable, written
from jiuzhu.cli.registry_cmd import DbOpt

if TYPE_CHECKING:
    from jiuzhu.cli.application_desk import Desk

application_app = typer.Typer(
    help="依申请医疗救助：登记、受理、入户调查、审核公示、核定金额、审批、支付与告知书。"
    "每条命令以工作人员账户办理（--as），按其角色与辖区授权，并记入审计日志。",
    no_args_is_help=True,
)

AsOpt = Annotated[
    str,
    typer.Option(
        "--as",
        envvar="JIUZHU_USER",
        metavar="用户名",
        help="办理人：工作人员账户的用户名（jiuzhu user create）；"
        "密码取自环境变量 JIUZHU_PASSWORD、--password-stdin 或终端输入，不在命令行上给出",
    ),
]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="从标准输入的第一行读取密码（其后为输入文件 -）")
]
PolicyOpt = Annotated[
    str,
    typer.Option(
        "--policy", "-p", envvar="JIUZHU_POLICY", help="政策 ID（如 liaocheng-2023）或政策文件路径"
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON（与接口的应答相同）")]
RefArg = Annotated[
    str,
    typer.Argument(metavar="申请", help="申请编号（如 371502-2024-00001）或申请 ID"),
]
VersionOpt = Annotated[
    int,
    typer.Option(
        "--version",
        min=1,
        metavar="版本号",
        help="所依据的申请版本（show 显示）：他人已改动时不作任何更改",
    ),
]
OpinionOpt = Annotated[str | None, typer.Option("--opinion", help="意见")]
ReasonOpt = Annotated[str, typer.Option("--opinion", help="理由（写入告知书）")]
ClauseOpt = Annotated[
    str, typer.Option("--clause", help="不符合的规定及条款（写入告知书，如 三(十一)）")
]
DateOpt = Annotated[str | None, typer.Option(metavar="YYYY-MM-DD")]
OutputOpt = Annotated[
    Path, typer.Option("--output", "-o", metavar="文件", help="输出文件：.pdf（或 .xlsx）")
]


class Queue(StrEnum):
    todo = "todo"
    done = "done"
    closed = "closed"


class Stage(StrEnum):
    township = "township"
    result = "result"


# -- running a step --------------------------------------------------------------------


def _public_id(d: Desk, ref: str) -> str:
    from jiuzhu.usecases import application_reads

    return run(lambda: application_reads.resolve(d.store, d.caller, ref), writes=False)


def _after_step(d: Desk, public_id: str, as_json: bool) -> None:
    """What the step left: the application as ``show`` prints it (one line, or JSON)."""
    from jiuzhu.cli.application_text import step_line
    from jiuzhu.service.application_json import detail_out
    from jiuzhu.usecases import application_reads

    detail = run(lambda: application_reads.get(d.store, d.caller, public_id), writes=False)
    if as_json:
        typer.echo(to_json(detail_out(detail)))
    else:
        typer.echo(step_line(detail.summary.number, detail))


def _step(
    step: str,
    ref: str,
    data: dict[str, Any],
    who: str,
    password_stdin: bool,
    policy: str,
    db: str | None,
    as_json: bool,
) -> None:
    """Take ``step`` (a key of the route's ``STEPS``) with ``data`` and print the result."""
    from jiuzhu.usecases.application_steps import STEPS

    use = STEPS[step]
    with desk(who, password_stdin, policy, db) as d:
        public_id = _public_id(d, ref)
        run(lambda: use(d.store, d.caller, public_id, data))
        _after_step(d, public_id, as_json)


def _simple(name: str, step: str, help_text: str) -> None:
    """A command for a step that takes an opinion and nothing else."""

    def command(
        ref: RefArg,
        version: VersionOpt,
        who: AsOpt,
        policy: PolicyOpt,
        opinion: OpinionOpt = None,
        password_stdin: PasswordStdinOpt = False,
        db: DbOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        _step(step, ref, given(version=version, opinion=opinion), who, password_stdin, policy,
              db, as_json)  # fmt: skip

    application_app.command(name, help=help_text)(command)


def _refusal(name: str, step: str, help_text: str) -> None:
    """A command for a refusal: the reason and the clause not met, for the written notice."""

    def command(
        ref: RefArg,
        version: VersionOpt,
        opinion: ReasonOpt,
        clause: ClauseOpt,
        who: AsOpt,
        policy: PolicyOpt,
        password_stdin: PasswordStdinOpt = False,
        db: DbOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        data = given(version=version, opinion=opinion, clause=clause)
        _step(step, ref, data, who, password_stdin, policy, db, as_json)

    application_app.command(name, help=help_text)(command)


# -- submit, list, show ----------------------------------------------------------------


@application_app.command("submit")
def submit(
    file: Annotated[
        str,
        typer.Argument(
            metavar="文件",
            help="申请（JSON 或 YAML，字段同接口 POST /applications，见 docs/applications.md）；"
            "- 为标准输入",
        ),
    ],
    who: AsOpt,
    policy: PolicyOpt,
    kind: Annotated[
        str | None, typer.Option("--kind", help="申请类别：标识或名称（覆盖文件中的）")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="申请人姓名")] = None,
    township: Annotated[str | None, typer.Option("--township", help="受理的乡镇（街道）")] = None,
    received_on: Annotated[
        str | None, typer.Option("--received-on", metavar="YYYY-MM-DD", help="申请日期")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="申请事由")] = None,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """登记申请：身份证号只从文件或标准输入读取（不在命令行上），输出中脱敏。"""
    from jiuzhu.usecases import applications

    with desk(who, password_stdin, policy, db) as d:
        body = read_record(file, d.stdin, "申请文件")
        body.update(
            given(kind=kind, applicant_name=name, township=township, received_on=received_on,
                  reason=reason)
        )  # fmt: skip
        public_id = run(lambda: applications.submit(d.store, d.caller, body))
        _after_step(d, public_id, as_json)


@application_app.command("list")
def list_(
    who: AsOpt,
    policy: PolicyOpt,
    queue: Annotated[
        Queue | None,
        typer.Option("--queue", help="todo 待办（轮到本角色办理）、done 已办、closed 办结"),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="申请类别标识")] = None,
    township: Annotated[str | None, typer.Option("--township", help="乡镇（街道）")] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="状态标识（如 county_review）")
    ] = None,
    received_from: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="申请日期起")
    ] = None,
    received_to: Annotated[
        str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="申请日期止")
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="只列逾期的")] = False,
    after: Annotated[str | None, typer.Option("--after", help="游标：接着上一页列出")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="每页条数")] = 50,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """申请工作台：待办、已办、办结，可按类别、乡镇、状态、申请日期、逾期筛选。"""
    from jiuzhu.cli.application_text import summary_line
    from jiuzhu.service.application_json import summary_out
    from jiuzhu.usecases import application_reads

    query = given(
        queue=None if queue is None else queue.value, kind=kind, township=township, state=state,
        received_from=received_from, received_to=received_to, overdue=overdue or None,
        after=after, limit=limit,
    )  # fmt: skip
    with desk(who, password_stdin, policy, db) as d:
        page = run(
            lambda: application_reads.list_applications(d.store, d.caller, query), writes=False
        )
    if as_json:
        items = [summary_out(s) for s in page.items]
        typer.echo(to_json({"items": items, "next_after": page.next_after}))
        return
    if not page.items:
        typer.echo("没有符合条件的申请")
    for s in page.items:
        typer.echo(summary_line(s))
    if page.next_after:
        typer.echo(f"（还有更多：--after {page.next_after}）", err=True)


@application_app.command("show")
def show(
    ref: RefArg,
    who: AsOpt,
    policy: PolicyOpt,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """一件申请：办理经过、材料清单、入户调查、公示、核定金额及其计算、支付、告知书、可办理的步骤。"""
    from jiuzhu.cli.application_text import detail_lines
    from jiuzhu.service.application_json import detail_out
    from jiuzhu.usecases import application_reads

    with desk(who, password_stdin, policy, db) as d:
        public_id = _public_id(d, ref)
        detail = run(lambda: application_reads.get(d.store, d.caller, public_id), writes=False)
    if as_json:
        typer.echo(to_json(detail_out(detail)))
        return
    for line in detail_lines(detail):
        typer.echo(line)


# -- papers ------------------------------------------------------------------------------


@application_app.command("attach")
def attach(
    ref: RefArg,
    key: Annotated[str, typer.Argument(metavar="材料", help="材料清单中的项目标识（show 显示）")],
    file: Annotated[str, typer.Argument(metavar="文件", help="PDF、JPEG 或 PNG 文件，至多 10 MB")],
    version: VersionOpt,
    who: AsOpt,
    policy: PolicyOpt,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """上传申请材料：按文件内容识别类型，原样保存并记下校验值；同一项目再传则以最新的为准。"""
    from jiuzhu.usecases import application_documents

    with desk(who, password_stdin, policy, db) as d:
        content = read_bytes(file, d.stdin, "材料文件")
        public_id = _public_id(d, ref)
        run(
            lambda: application_documents.attach(
                d.store, d.caller, public_id, {"key": key, "version": version}, content,
                file_name=Path(file).name if file != "-" else "",
            )
        )  # fmt: skip
        _after_step(d, public_id, as_json)


@application_app.command("document")
def document(
    ref: RefArg,
    document_id: Annotated[str, typer.Argument(metavar="材料ID", help="材料 ID（show 显示）")],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="文件", help="写入此文件")],
    who: AsOpt,
    policy: PolicyOpt,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
) -> None:
    """取出一份申请材料的原件（查阅记入审计日志）。"""
    from jiuzhu.usecases import application_documents

    target = writable(output, "材料文件")
    with desk(who, password_stdin, policy, db) as d:
        public_id = _public_id(d, ref)
        doc = run(
            lambda: application_documents.view_document(d.store, d.caller, public_id, document_id),
            writes=False,
        )
    with written(target, "材料文件") as tmp:
        tmp.write_bytes(doc.content)
    typer.echo(f"已写入 {target}（{doc.view.media_type}，{doc.view.size} 字节）")


# -- the township's desk ---------------------------------------------------------------

_simple("accept", "accept", "受理：材料齐全时受理，进入入户调查（或直接报县级审核，依申请类别）。")
_simple("request-documents", "request_supplement", "退回补正：材料不全，退回申请人补正。")
_simple("resubmit", "resubmit", "补正后重新提交。")
_simple("withdraw", "withdraw", "撤回：申请人撤回申请。")
_refusal("not-accept", "not_accept", "不予受理，并出具不符合医疗救助条件书面告知书（附件5）。")


@application_app.command("visit")
def visit(
    ref: RefArg,
    file: Annotated[
        str,
        typer.Argument(
            metavar="文件",
            help="入户调查记录（JSON 或 YAML，字段同接口的 record_visit，"
            "见 docs/applications.md）；- 为标准输入",
        ),
    ],
    version: VersionOpt,
    who: AsOpt,
    policy: PolicyOpt,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """提交入户调查记录（家庭成员及收入、财产、患病情况、调查意见、村（居）委会见证），转乡镇审核。"""
    from jiuzhu.usecases import home_visits

    with desk(who, password_stdin, policy, db) as d:
        body = read_record(file, d.stdin, "入户调查记录")
        body["version"] = version
        public_id = _public_id(d, ref)
        run(lambda: home_visits.record_visit(d.store, d.caller, public_id, body))
        _after_step(d, public_id, as_json)


def _publicity_options(
    start: str | None, end: str | None, place: str | None
) -> dict[str, str | None]:
    return {"publicity_start": start, "publicity_end": end, "publicity_place": place}


StartOpt = Annotated[
    str | None, typer.Option("--publicity-start", metavar="YYYY-MM-DD", help="公示开始日期")
]
EndOpt = Annotated[
    str | None, typer.Option("--publicity-end", metavar="YYYY-MM-DD", help="公示截止日期")
]
PlaceOpt = Annotated[str | None, typer.Option("--publicity-place", help="公示地点")]


@application_app.command("township-approve")
def township_approve(
    ref: RefArg,
    version: VersionOpt,
    who: AsOpt,
    policy: PolicyOpt,
    opinion: OpinionOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    place: PlaceOpt = None,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """乡镇审核通过并公示（审核公示的起止日期须给出；地点默认村（居）务公开栏）。"""
    data = given(version=version, opinion=opinion, **_publicity_options(start, end, place))
    _step("township_approve", ref, data, who, password_stdin, policy, db, as_json)


_refusal("township-refuse", "township_refuse", "乡镇审核不予救助，并出具书面告知书（附件5）。")


# -- 公示 -----------------------------------------------------------------------------------


@application_app.command("objection")
def objection(
    ref: RefArg,
    version: VersionOpt,
    text: Annotated[str, typer.Option("--text", help="异议内容")],
    who: AsOpt,
    policy: PolicyOpt,
    received_on: Annotated[
        str | None, typer.Option("--received-on", metavar="YYYY-MM-DD", help="收到日期（默认今天）")
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """登记公示期间收到的异议（审核公示或结果公示）。"""
    data = given(version=version, text=text, received_on=received_on)
    _step("record_objection", ref, data, who, password_stdin, policy, db, as_json)


@application_app.command("resolve-objection")
def resolve_objection(
    ref: RefArg,
    version: VersionOpt,
    objection_id: Annotated[str, typer.Option("--objection", help="异议编号（show 显示）")],
    upheld: Annotated[bool, typer.Option("--upheld/--not-upheld", help="异议是否成立")],
    resolution: Annotated[str, typer.Option("--resolution", help="核查结论")],
    who: AsOpt,
    policy: PolicyOpt,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """处理公示异议：成立或不成立，并写明核查结论（每条异议只处理一次）。"""
    data = given(version=version, objection=objection_id, upheld=upheld, resolution=resolution)
    _step("resolve_objection", ref, data, who, password_stdin, policy, db, as_json)


_simple(
    "close-publicity",
    "close_publicity",
    "公示期满：审核公示期满报县级审核，结果公示期满转待支付（异议须已处理且均不成立）。",
)
_refusal(
    "refuse-on-objection",
    "refuse_on_objection",
    "公示异议成立，不予救助，并出具书面告知书（附件5）。",
)


# -- the county ------------------------------------------------------------------------


@application_app.command("assess")
def assess(
    ref: RefArg,
    version: VersionOpt,
    who: AsOpt,
    policy: PolicyOpt,
    opinion: OpinionOpt = None,
    identified_on: Annotated[
        str | None,
        typer.Option(
            "--identified-on", metavar="YYYY-MM-DD", help="认定日期（认定类申请；默认今天）"
        ),
    ] = None,
    claims: Annotated[
        list[str] | None,
        typer.Option(
            "--claim",
            metavar="结算ID[=金额]",
            help="待遇类申请所选的结算，可附审核认定的合理医疗费用（元，如 =12000.00；可多次）",
        ),
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """核定救助金额：由结算引擎计算（认定后追溯重算的差额、特殊救助或一次性救助、零星报销），并留存计算过程。"""
    items = []
    for raw in claims or []:
        sid, sep, accepted = raw.partition("=")
        items.append(
            {"settlement_id": sid.strip(), **({"accepted": accepted.strip()} if sep else {})}
        )
    data = given(
        version=version, opinion=opinion, identified_on=identified_on, claims=items or None
    )
    _step("assess", ref, data, who, password_stdin, policy, db, as_json)


_simple("review", "review", "县级审核通过，报县级审批（须已核定救助金额）。")
_simple("return-to-township", "return_to_township", "县级审核退回乡镇重新调查。")


@application_app.command("approve")
def approve(
    ref: RefArg,
    version: VersionOpt,
    who: AsOpt,
    policy: PolicyOpt,
    opinion: OpinionOpt = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--publicity-start", metavar="YYYY-MM-DD", help="结果公示开始日期（默认今天）"
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--publicity-end", metavar="YYYY-MM-DD", help="结果公示截止日期（默认按期限）"
        ),
    ] = None,
    place: PlaceOpt = None,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """县级审批通过：按核定的金额重算核对后支付（补付调整、支付指令、审批结果通知书、结果公示）。"""
    data = given(version=version, opinion=opinion, **_publicity_options(start, end, place))
    _step("approve", ref, data, who, password_stdin, policy, db, as_json)


_simple("return-to-review", "return_to_review", "县级审批退回县级审核重新核定。")
_refusal("refuse", "refuse", "县级审批不予救助，并由乡镇出具书面告知书（附件5）。")


@application_app.command("pay")
def pay(
    ref: RefArg,
    version: VersionOpt,
    voucher: Annotated[str, typer.Option("--voucher", help="支付凭证号")],
    who: AsOpt,
    policy: PolicyOpt,
    opinion: OpinionOpt = None,
    paid_on: Annotated[
        str | None, typer.Option("--paid-on", metavar="YYYY-MM-DD", help="支付日期（默认今天）")
    ] = None,
    holder: Annotated[str | None, typer.Option("--account-holder", help="收款户名")] = None,
    bank: Annotated[str | None, typer.Option("--account-bank", help="开户行")] = None,
    number: Annotated[str | None, typer.Option("--account-number", help="账号")] = None,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """支付：记下支付指令的执行（凭证号、日期；收款账户默认为申请时登记的）。"""
    account = given(holder=holder, bank=bank, number=number) or None
    data = given(version=version, opinion=opinion, voucher=voucher, paid_on=paid_on,
                 account=account)  # fmt: skip
    _step("pay", ref, data, who, password_stdin, policy, db, as_json)


# -- the papers people receive -----------------------------------------------------------


@application_app.command("notice")
def notice(
    ref: RefArg,
    output: OutputOpt,
    who: AsOpt,
    policy: PolicyOpt,
    notice_id: Annotated[
        str | None,
        typer.Option("--notice", help="告知书 ID（show 显示；默认为此申请最近出具的一份）"),
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
) -> None:
    """告知书写成 PDF（A4）：不符合医疗救助条件书面告知书（附件5）或审批结果通知书。"""
    from jiuzhu.io.notices import notice_pdf
    from jiuzhu.usecases import application_reads, notices

    if output.suffix.lower() != ".pdf":
        fail("告知书的输出文件须以 .pdf 结尾", EXIT_USAGE)
    target = writable(output, "告知书")
    with desk(who, password_stdin, policy, db) as d:
        public_id = _public_id(d, ref)
        chosen = notice_id
        if chosen is None:
            detail = run(lambda: application_reads.get(d.store, d.caller, public_id), writes=False)
            if not detail.notices:
                fail(f"申请 {detail.summary.number} 还没有告知书", EXIT_DATA)
            chosen = detail.notices[-1].public_id
        wanted = chosen
        n = run(lambda: notices.get_notice(d.store, d.caller, public_id, wanted), writes=False)
    with written(target, "告知书") as tmp:
        tmp.write_bytes(notice_pdf(n.kind, n.values))
    typer.echo(f"已写入 {target}：{n.values.get('title', '')} {n.number_text}")


@application_app.command("publicity-list")
def publicity_list(
    output: OutputOpt,
    who: AsOpt,
    policy: PolicyOpt,
    stage: Annotated[
        Stage, typer.Option("--stage", help="township 审核公示，result 结果公示")
    ] = Stage.result,
    on: Annotated[
        str | None, typer.Option("--on", metavar="YYYY-MM-DD", help="公示中的日期（默认今天）")
    ] = None,
    township: Annotated[str | None, typer.Option("--township", help="只列此乡镇（街道）")] = None,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
) -> None:
    """公示名单写成 PDF 或 XLSX：某日公示中的申请，姓名、身份证号部分隐藏，结果公示附核定金额。"""
    from jiuzhu.io.notices import publicity_pdf, publicity_xlsx
    from jiuzhu.usecases import notices

    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        fail("公示名单的输出文件须以 .pdf 或 .xlsx 结尾", EXIT_USAGE)
    target = writable(output, "公示名单")
    query = given(stage=stage.value, on=on, township=township)
    with desk(who, password_stdin, policy, db) as d:
        listed = run(lambda: notices.publicity_list(d.store, d.caller, query), writes=False)
    render = publicity_pdf if suffix == ".pdf" else publicity_xlsx
    with written(target, "公示名单") as tmp:
        tmp.write_bytes(render(listed.values()))
    typer.echo(f"已写入 {target}：{listed.title}，共 {len(listed.rows)} 件")
