"""Logging set-up: one JSON object per line for log shippers, or readable text for a terminal.

Every module logs through the standard library (``logging.getLogger("customer_gateway...")``),
and so do uvicorn and httpx. structlog's :class:`~structlog.stdlib.ProcessorFormatter` renders
each record: ISO 8601 UTC timestamp, level, logger name, message, the fields passed as
``extra=``, and whatever is bound to structlog's context variables. The gateway binds the
request id there (:mod:`gateway.request_id`), so a retry logged deep inside an adapter carries
the id of the request that caused it without any code passing the id around.
"""

from __future__ import annotations

import logging
import sys
from typing import Final, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "QUIET_LOGGERS",
    "configure_logging",
    "formatter",
    "resolve_format",
]

LOG_FORMATS: Final = ("auto", "json", "text")
"""``auto`` is text when the log stream is a terminal, JSON otherwise."""
LOG_LEVELS: Final = ("debug", "info", "warning", "error", "critical")
QUIET_LOGGERS: Final = {"httpx": logging.WARNING}
"""Loggers held above the chosen level: httpx logs every request's URL (query included) at
INFO, which is noise and may carry personal data; failures surface through our own logs."""

# Attributes that a formatter (another handler's, or uvicorn's) may have set on a record: not
# data the caller passed, so never copied into the event.
_NOT_EXTRA: Final = frozenset({"message", "asctime", "taskName", "color_message"})


def _drop_record_residue(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    for key in _NOT_EXTRA:
        event.pop(key, None)
    return event


_LEADING: Final = ("timestamp", "level", "logger", "message")


def _leading_keys_first(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    """The keys every line has first, then the line's own fields: easier on a human reader."""
    lead = {key: event.pop(key) for key in _LEADING if key in event}
    return {**lead, **event}


def _shared_processors() -> list[Processor]:
    """What every record gets, in either format."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_record_residue,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def resolve_format(name: str, stream: TextIO) -> Literal["json", "text"]:
    """``json`` or ``text``; ``auto`` picks by whether ``stream`` is a terminal."""
    if name == "auto":
        return "text" if stream.isatty() else "json"
    if name not in ("json", "text"):
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {name!r}")
    return "json" if name == "json" else "text"


def formatter(name: Literal["json", "text"], *, colors: bool = False) -> logging.Formatter:
    """A formatter for stdlib handlers: JSON lines (``message`` holds the text, tracebacks in
    ``exception``) or structlog's console lines (``key=value`` after the message)."""
    final: list[Processor]
    if name == "json":
        final = [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            _leading_keys_first,
            structlog.processors.JSONRenderer(),
        ]
    else:
        final = [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.dev.ConsoleRenderer(colors=colors),
        ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(), processors=final
    )


def configure_logging(
    level: str = "info", log_format: str = "auto", stream: TextIO | None = None
) -> None:
    """Send every log record to ``stream`` (default stderr) at ``level`` and above, replacing
    any handlers the root logger had."""
    stream = sys.stderr if stream is None else stream
    chosen = resolve_format(log_format, stream)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(chosen, colors=chosen == "text" and stream.isatty()))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
