"""The log formats: JSON lines with the standard fields and the request id, or terminal text."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest
from structlog.contextvars import bound_contextvars

from gateway.logs import formatter, resolve_format
from tests.conftest import JsonLogs

log = logging.getLogger("customer_gateway.tests")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_json_line_has_timestamp_level_logger_message_and_the_extra_fields(
    json_logs: JsonLogs,
) -> None:
    before = datetime.now(UTC)
    log.warning("retrying %s on %s", "GET /v1/customers", "stripe", extra={"attempt": 2})

    [line] = json_logs.lines("customer_gateway.tests")
    assert list(line)[:4] == ["timestamp", "level", "logger", "message"]
    assert line["timestamp"].endswith("Z")
    assert before <= datetime.fromisoformat(line["timestamp"]) <= datetime.now(UTC)
    assert line["level"] == "warning"
    assert line["message"] == "retrying GET /v1/customers on stripe"
    assert line["attempt"] == 2
    assert "request_id" not in line  # logged outside any request


def test_records_logged_while_a_request_id_is_bound_carry_it(json_logs: JsonLogs) -> None:
    with bound_contextvars(request_id="req-1"):
        log.info("inside")
    log.info("outside")

    inside, outside = json_logs.lines("customer_gateway.tests")
    assert inside["request_id"] == "req-1"
    assert "request_id" not in outside


def test_an_exception_is_one_json_line_with_its_traceback(json_logs: JsonLogs) -> None:
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        log.exception("unexpected")

    [line] = json_logs.lines("customer_gateway.tests")
    assert line["level"] == "error"
    assert line["exception"].startswith("Traceback")
    assert "ZeroDivisionError: division by zero" in line["exception"]


def test_what_other_formatters_leave_on_a_record_stays_out() -> None:
    """pytest's or uvicorn's formatters may run first and set ``message``, ``asctime`` and
    uvicorn's ``color_message`` on the record: none of them is data the caller passed."""
    record = logging.makeLogRecord(
        {"name": "uvicorn.error", "levelno": logging.INFO, "levelname": "INFO", "msg": "hello"}
    )
    record.color_message = "\x1b[1mhello\x1b[0m"
    logging.Formatter("%(asctime)s %(message)s").format(record)

    line = json.loads(formatter("json").format(record))

    assert line == {
        "timestamp": line["timestamp"],
        "level": "info",
        "logger": "uvicorn.error",
        "message": "hello",
    }


def test_the_text_format_puts_the_fields_after_the_message() -> None:
    record = logging.makeLogRecord(
        {
            "name": "customer_gateway.access",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "graphql request",
            "status": 200,
        }
    )
    with bound_contextvars(request_id="req-2"):
        text = formatter("text").format(record)

    assert "graphql request" in text and "[customer_gateway.access]" in text
    assert "status=200" in text and "request_id=req-2" in text
    assert "\x1b[" not in text  # no colours unless asked for


@pytest.mark.parametrize(
    ("name", "stream", "expected"),
    [
        ("auto", Terminal(), "text"),
        ("auto", io.StringIO(), "json"),
        ("json", Terminal(), "json"),
        ("text", io.StringIO(), "text"),
    ],
)
def test_auto_is_text_on_a_terminal_and_json_otherwise(
    name: str, stream: io.StringIO, expected: str
) -> None:
    assert resolve_format(name, stream) == expected


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, json, text"):
        resolve_format("xml", io.StringIO())
