"""The ``jiuzhu`` command.

Start-up matters (``jiuzhu --help``, a one-claim ``settle`` at a hospital desk), so the
command modules import only Typer at the top; Polars, NumPy, Dask, matplotlib,
SQLAlchemy, FastAPI, pydantic and rich are imported inside the commands that use them
(docs/performance.md, "Start-up"; tests/test_startup.py checks it). Help is Click's plain
text (``rich_markup_mode=None``): Typer's rich help costs more than the rest of the
start-up together.
"""

from __future__ import annotations

import typer

from jiuzhu.cli import (
    application_cmd,
    certificate_cmd,
    demo,
    explain_cmd,
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
from jiuzhu.cli.enrolment_cmd import enrolment

app = typer.Typer(
    cls=ChineseGroup,  # help pages and usage errors in Chinese, for every command below
    help="jiuzhu（救助）：医疗救助“一站式”结算、政策文件与解释。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(policy_cmd.app, name="policy")
app.command("demo")(demo.demo)
app.command("synth")(synth_cmd.synth)
app.command("settle")(settle_cmd.settle)
app.command("explain")(explain_cmd.explain)
app.command("simulate")(simulate_cmd.simulate)
app.add_typer(registry_cmd.db_app, name="db")
app.add_typer(registry_cmd.roster_app, name="roster")
app.add_typer(registry_cmd.registry_app, name="registry")
app.add_typer(certificate_cmd.certificate_app, name="certificate")
app.command("serve")(service_cmd.serve)
app.add_typer(service_cmd.token_app, name="token")
app.add_typer(service_cmd.audit_app, name="audit")
app.add_typer(user_cmd.user_app, name="user")
app.add_typer(application_cmd.application_app, name="application")
app.command("enrolment")(enrolment)
app.command("template")(template_cmd.template)


if __name__ == "__main__":  # pragma: no cover
    app()
