"""Helpers for the upload-side tests: settings environ, logger isolation, log capture.

``configure_logging`` (called by every handler run) switches the project loggers to their own
stdout handler with propagate=False; ``isolated_project_loggers`` puts them back afterwards so
other test modules (e.g. caplog-based transport tests) see the default logging setup.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from shared.decision_log import PROJECT_LOGGERS

CALLBACK_SECRET = "cb-secret-0123456789-abcdefghijklmnop"
CALLBACK_BASE = "https://1250000000-abcdefgh.ap-guangzhou.tencentscf.com/"
SECRET_ID = "AKIDuploadEXAMPLE0123456789abcdef"
SECRET_KEY = "UploadSecretKeyExample0123456789"
SESSION_TOKEN = "UploadSessionTokenExample+/=0123456789abcdef"

BASE_ENVIRON = {
    "TENCENTCLOUD_SECRETID": SECRET_ID,
    "TENCENTCLOUD_SECRETKEY": SECRET_KEY,
    "TENCENTCLOUD_SESSIONTOKEN": SESSION_TOKEN,
    "MEDIA_TAGGER_CALLBACK_URL": CALLBACK_BASE,
    "MEDIA_TAGGER_CALLBACK_SECRET": CALLBACK_SECRET,
    # These tests exercise the duplicate check; it is off by default (docs "Costs").
    "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "true",
}


class ListHandler(logging.Handler):
    """Keeps every formatted message it sees."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def isolated_project_loggers() -> Iterator[None]:
    saved = {}
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
