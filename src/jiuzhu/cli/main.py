"""The ``jiuzhu`` command."""

from __future__ import annotations

import typer

from jiuzhu.cli import (
    certificate_cmd,
    demo,
    policy_cmd,
    registry_cmd,
    service_cmd,
    settle_cmd,
    simulate_cmd,
    synth_cmd,
    template_cmd,
    user_cmd,
)
from jiuzhu.cli.chinese import ChineseGroup
from jiuzhu.cli.common import (
    EXIT_DATA,
    InputOpt,
    OverrideOpt,
    PolicyOpt,
    SetOpt,
    get_policy,
    read_input,
    report_errors,
    settle_input,
)
from jiuzhu.cli.enrolment_cmd import enrolment
from jiuzhu.cli.render import render_settlement

app = typer.Typer(
    cls=ChineseGroup,  # help pages and usage errors in Chinese, for every command below
    help="jiuzhu（救助）：医疗救助“一站式”结算、政策文件与解释。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(policy_cmd.app, name="policy")
app.command("demo")(demo.demo)
app.command("synth")(synth_cmd.synth)
app.command("settle")(settle_cmd.settle)
app.command("simulate")(simulate_cmd.simulate)
app.add_typer(registry_cmd.db_app, name="db")
app.add_typer(registry_cmd.roster_app, name="roster")
app.add_typer(registry_cmd.registry_app, name="registry")
app.add_typer(certificate_cmd.certificate_app, name="certificate")
app.command("serve")(service_cmd.serve)
app.add_typer(service_cmd.token_app, name="token")
app.add_typer(service_cmd.audit_app, name="audit")
app.add_typer(user_cmd.user_app, name="user")
app.command("enrolment")(enrolment)
app.command("template")(template_cmd.template)


@app.command()
def explain(
    policy: PolicyOpt,
    input: InputOpt = "-",
    override: OverrideOpt = None,
    set_: SetOpt = None,
) -> None:
    """以表格解释每笔结算：每项待遇的金额、基数、公式和政策条款。"""
    from rich.console import Console

    compiled = get_policy(policy, override, set_)
    settlements, errors = settle_input(compiled, read_input(input))
    console = Console()
    for s in settlements:
        render_settlement(console, s, compiled.policy)
    report_errors(errors)
    if errors:
        raise typer.Exit(EXIT_DATA)


if __name__ == "__main__":  # pragma: no cover
    app()
