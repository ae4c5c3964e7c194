"""``config.log_filters.RepeatedMessageFilter``: repeated log lines are rate-limited."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings

from config.log_filters import RepeatedMessageFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def record(name: str, msg: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def passed(flt: RepeatedMessageFilter, records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if flt.filter(r)]


def test_a_message_passes_limit_times_per_window_then_says_how_many_were_held(clock):
    flt = RepeatedMessageFilter(limit=3, seconds=60, clock=clock)
    lines = passed(
        flt, [record("jobs.api.stream", "Stream of user %s refused", n) for n in range(10)]
    )
    assert lines[:2] == ["Stream of user 0 refused", "Stream of user 1 refused"]
    assert lines[2].startswith("Stream of user 2 refused [3 times in 0.0 s: more like this")
    assert len(lines) == 3
    clock.now += 59
    assert passed(flt, [record("jobs.api.stream", "Stream of user %s refused", 10)]) == []
    clock.now += 1
    (line,) = passed(flt, [record("jobs.api.stream", "Stream of user %s refused", 11)])
    assert line == (
        "Stream of user 11 refused [8 more like this were held back in the previous 60 s]"
    )


def test_other_messages_loggers_and_levels_are_counted_apart(clock):
    flt = RepeatedMessageFilter(limit=1, seconds=60, clock=clock)
    records = [
        record("a", "one %s", 1),
        record("a", "one %s", 2),
        record("a", "two %s", 1),
        record("b", "one %s", 1),
        record("a", "one %s", 1, level=logging.ERROR),
    ]
    assert [r.name + ":" + r.msg[:5] for r in records if flt.filter(r)] == [
        "a:one 1",
        "a:two 1",
        "b:one 1",
        "a:one 1",
    ]


def test_a_note_with_percent_signs_in_the_arguments_formats_safely(clock):
    flt = RepeatedMessageFilter(limit=1, seconds=60, clock=clock)
    (line,) = passed(flt, [record("a", "path %s", "100%d"), record("a", "path %s", "x")])
    assert line.startswith("path 100%d [1 times in")


def test_the_floodable_loggers_carry_the_filter_and_drop_repeats(caplog):
    """As configured in settings: 50 refusals of the request logger log LOG_REPEAT_LIMIT lines."""
    for name in settings.FLOODABLE_LOGGERS:
        assert any(isinstance(f, RepeatedMessageFilter) for f in logging.getLogger(name).filters)
    logger = logging.getLogger("django.request")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        for n in range(50):
            logger.warning("Too Many Requests (test %s): %s", id(caplog), n)
    assert len(caplog.records) == settings.LOG_REPEAT_LIMIT


def test_debug_lines_are_never_held_back(clock):
    flt = RepeatedMessageFilter(limit=1, seconds=60, clock=clock)
    lines = passed(flt, [record("a", "read %s", n, level=logging.DEBUG) for n in range(5)])
    assert lines == [f"read {n}" for n in range(5)]


def test_share_tokens_are_cut_from_every_log_line_that_passes_the_console():
    """Django's "Not Found" and CSRF warnings log a request's path; under a share link that
    path holds the token. The console handler's filter keeps only its first six characters."""
    import io

    from config.log_filters import ShareTokenFilter

    token = "pnRSylsoi1ZVw2qRxPPb4hYU1uJwobeSuM2rPqc9NLM"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ShareTokenFilter())
    # A logger of its own: django.request's repeat filter may hold identical lines back.
    logger = logging.getLogger("tests.share_tokens")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("Not Found: %s", f"/s/{token}/i/x")
        logger.warning("Forbidden (CSRF cookie not set.): /s/%s/api/picks", token)
        logger.warning("Not Found: /api/photos/12345678901234567890/")  # no token: unchanged
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "Not Found: /s/pnRSyl…/i/x",
        "Forbidden (CSRF cookie not set.): /s/pnRSyl…/api/picks",
        "Not Found: /api/photos/12345678901234567890/",
    ]
    # The product's console handler carries the filter (settings.LOGGING).
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["share_tokens"]
