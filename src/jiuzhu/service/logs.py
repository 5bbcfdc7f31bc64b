"""Logging for ``jiuzhu serve``: uvicorn's own configuration with a filter that masks ID
numbers in every record (access lines carry request paths and query strings; an error's
traceback may carry a value), formatted text and traceback alike."""

from __future__ import annotations

import copy
import logging
from typing import Any

from jiuzhu.service.guard import mask_all


class MaskIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            # uvicorn's access formatter unpacks the arguments (client, method, path, …):
            # mask each one and keep the tuple.
            record.args = tuple(mask_all(a) if isinstance(a, str) else a for a in record.args)
            record.msg = mask_all(str(record.msg))
        else:
            record.msg = mask_all(record.getMessage())
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_all(record.exc_text)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's ``LOGGING_CONFIG`` with ``MaskIds`` on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_ids"] = {"()": "jiuzhu.service.logs.MaskIds"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("mask_ids")
    return config
