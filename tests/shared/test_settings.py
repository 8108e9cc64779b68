"""``CUSTOMER_GATEWAY_REDIS_URL``: read, checked, and its password never shown."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, load_settings
from gateway.config.check import describe
from gateway.server import create_app
from gateway.shared.link import RedisLink

SECRET = "s3cret-pass"
URL = f"redis://default:{SECRET}@redis.internal:6379/0"


def test_the_url_is_read_and_its_password_never_shown() -> None:
    settings = load_settings({"CUSTOMER_GATEWAY_REDIS_URL": URL})
    assert settings.redis_url == URL
    assert SECRET not in repr(settings)
    shown = "\n".join(describe(settings))
    assert "redis_url = redis://default:***@redis.internal:6379/0" in shown
    assert SECRET not in shown
    link = RedisLink(URL)
    assert SECRET not in repr(link) and SECRET not in str(link.snapshot())
    assert SECRET not in repr(create_app(settings).state.shared)


def test_a_bad_url_is_refused_without_repeating_it() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"CUSTOMER_GATEWAY_REDIS_URL": f"http://u:{SECRET}@h"})
    assert "CUSTOMER_GATEWAY_REDIS_URL" in str(refused.value)
    assert SECRET not in str(refused.value)


def test_without_a_url_nothing_is_shared() -> None:
    app = create_app(load_settings({}))
    assert app.state.shared is None
    assert type(app.state.idempotency).__name__ == "IdempotencyStore"
    assert app.state.record_cache.second is None
