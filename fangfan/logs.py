"""Logging for every fangfan process, and the one filter that keeps personal data out of it.

`MaskPersonalData` masks resident ID numbers and mobile phones in a record's message, its
arguments, its traceback and stack, the way the pages mask them for roles without full access
(approvals.record.identity). `install` runs it on every record as the record is made (a record
factory), so no logger or handler, ours or a library's (werkzeug, gunicorn, SQLAlchemy,
Prefect), ever sees the unmasked text. `configure` is what each entry point calls: the CLI's
main (so `serve`, `worker` and `make run`'s children) and the WSGI module under gunicorn.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from approvals.record.identity import mask_id, mask_phone

# digits not part of a longer number: an 18-digit resident ID (last may be X), a mainland
# mobile (1[3-9] + 9 digits), with or without +86
ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
PHONE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9][0-9]{9})(?![0-9])")
NOISY = ("alembic", "apscheduler", "httpx", "werkzeug")


def mask(text: str) -> str:
    text = ID_NUMBER.sub(lambda m: mask_id(m.group(0)), text)
    return PHONE.sub(lambda m: mask_phone(m.group(1)), text)


class MaskPersonalData(logging.Filter):
    """Masks the record in place; never drops one. The message is rendered with its args
    first, because an ID number may sit in either."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = mask(str(message)), None
        if record.exc_info:
            record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None  # a handler would format it again, unmasked
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def install() -> None:
    """Mask every record this process makes from now on (idempotent)."""
    base = logging.getLogRecordFactory()
    if getattr(base, "masks_personal_data", False):
        return
    masking = MaskPersonalData()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        masking.filter(record)
        return record

    # a mark on the function itself, so a second install sees it (functions take attributes)
    factory.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def quiet_prefect(record: logging.LogRecord) -> bool:
    """Prefect's own INFO lines ("Finished in state Completed()", "Pausing all
    deployments...") stay off the console: the flow runs' logs are in the Prefect UI, where
    they are sent by Prefect's own handler; the console keeps fangfan's sentences and
    everyone's warnings."""
    return record.levelno >= logging.WARNING or not record.name.startswith("prefect")


def configure(level: int = logging.INFO) -> None:
    """A process's logging: one line a record on stderr, libraries' chatter at WARNING, and
    personal data masked."""
    install()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet_prefect)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
