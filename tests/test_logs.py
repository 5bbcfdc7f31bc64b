"""The service's log filter masks ID numbers and leaves uvicorn's access lines whole."""

from __future__ import annotations

import logging

from uvicorn.logging import AccessFormatter

from jiuzhu.service.logs import MaskIds
from tests.db_fixtures import make_id


def test_an_access_line_is_formatted_and_masked() -> None:
    pid = make_id(7)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/web/x?id={pid}", "1.1", 200),
        None,
    )
    assert MaskIds().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert pid not in line and pid[:4] in line and '"GET /web/x?id=' in line and "200" in line


def test_a_plain_line_is_masked() -> None:
    pid = make_id(8)
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "bad %s", (pid,), None)
    assert MaskIds().filter(record)
    assert pid not in logging.Formatter().format(record)
