"""The ``jiuzhu`` command.

Start-up matters (``jiuzhu --help``, a one-claim ``settle`` at a hospital desk), so the
commands are loaded when called (``jiuzhu.cli.lazy``, ADR 19): this module names each
command's module and the line ``jiuzhu --help`` lists for it, and imports none of them.
The command modules in turn import only Typer at the top; Polars, NumPy, Dask,
matplotlib, SQLAlchemy, FastAPI, pydantic and rich are imported inside the commands that
use them (docs/performance.md, "Start-up"; tests/test_startup.py checks it), and
converting their parameters' values needs no pydantic (``jiuzhu.cli.plain_conversion``,
ADR 20). Help is Click's plain text (``rich_markup_mode=None``): Typer's rich help costs
more than the rest of the start-up together.
"""

from __future__ import annotations

import typer

from jiuzhu.cli.lazy import Lazy, LazyGroup

COMMANDS = (
    Lazy(
        "demo",
        "jiuzhu.cli.demo:demo",
        "用随软件提供的样例年度单据，按五个政策分别结算，并汇总各项支付和保障率；"
        "加 --web：建立演示数据库和演示账户，启动服务，在浏览器中查看工作人员网页。",
    ),
    Lazy(
        "synth",
        "jiuzhu.cli.synth_cmd:synth",
        "生成合成人口（户、地区、救助类别及有效期）和一年的单据，写为 Parquet。",
    ),
    Lazy(
        "settle",
        "jiuzhu.cli.settle_cmd:settle",
        "结算单据：结果按输入顺序写出（默认每行一个 JSON 到标准输出），错误写到标准错误。",
    ),
    Lazy(
        "explain",
        "jiuzhu.cli.explain_cmd:explain",
        "解释每笔结算：每项待遇的金额、基数、公式和政策条款；"
        "可写为可打印的结算单（PDF、HTML、XLSX）。",
    ),
    Lazy(
        "simulate",
        "jiuzhu.cli.simulate_cmd:simulate",
        "政策模拟：同一年的单据按现行政策和改革方案各结算一次，"
        "比较支出、受益人数、保障水平和个人负担（按救助身份、按区县）。",
    ),
    Lazy(
        "serve",
        "jiuzhu.cli.service_cmd:serve",
        "启动一站式结算 HTTP 服务（OpenAPI 文档在 /docs）。",
    ),
    Lazy(
        "enrolment",
        "jiuzhu.cli.enrolment_cmd:enrolment",
        "资助参保：按登记的救助对象类别计算某年度谁获资助、资助多少、各方分担，以及资助参保率。",
    ),
    Lazy(
        "template",
        "jiuzhu.cli.template_cmd:template",
        "写出空白模板：表头与一行填好的示例（可照样读回），填写后即可导入。",
    ),
    Lazy("policy", "jiuzhu.cli.policy_cmd:app", "政策文件：列出、查看、校验、比较。"),
    Lazy("db", "jiuzhu.cli.registry_cmd:db_app", "数据库：迁移到最新结构。"),
    Lazy(
        "roster",
        "jiuzhu.cli.registry_cmd:roster_app",
        "名单（附件2）与动态调整名单（附件3）的导入。",
    ),
    Lazy(
        "registry", "jiuzhu.cli.registry_cmd:registry_app", "救助对象登记：某日适用的类别及依据。"
    ),
    Lazy(
        "certificate",
        "jiuzhu.cli.certificate_cmd:certificate_app",
        "证书（特困供养证、低保证、低边证、残疾人证等）的导入。",
    ),
    Lazy("token", "jiuzhu.cli.service_cmd:token_app", "服务的访问令牌（按客户端签发）。"),
    Lazy("audit", "jiuzhu.cli.service_cmd:audit_app", "审计日志。"),
    Lazy(
        "user",
        "jiuzhu.cli.user_cmd:user_app",
        "网页的工作人员账户：新建、列出、停用、重设密码。",
    ),
    Lazy(
        "application",
        "jiuzhu.cli.application_cmd:application_app",
        "依申请医疗救助：登记、受理、入户调查、审核公示、核定金额、审批、支付与告知书。"
        "每条命令以工作人员账户办理（--as），按其角色与辖区授权，并记入审计日志。",
    ),
)
"""Every command, in the order ``jiuzhu --help`` lists them, with the first paragraph
of its help (tests/test_lazy_cli.py checks each against the command itself)."""


class JiuzhuGroup(LazyGroup):
    """The ``jiuzhu`` group: Chinese help and errors, commands loaded when called."""

    lazy = COMMANDS


def _root() -> None:
    """The group's own callback: nothing to do before a command (Typer builds a group,
    rather than a single command, only for an app with a callback or several commands)."""


app = typer.Typer(
    cls=JiuzhuGroup,  # help pages and usage errors in Chinese, for every command below
    help="jiuzhu（救助）：医疗救助“一站式”结算、政策文件与解释。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.callback()(_root)


if __name__ == "__main__":  # pragma: no cover
    app()
