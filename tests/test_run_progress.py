"""Progress of ``kgqa run`` (issue 24, item 6): per note, never silent for long, rates with sane precision."""

from __future__ import annotations

import logging
import time

import pytest

from kgqa.commands.run import Progress, format_rate, format_seconds


@pytest.mark.parametrize(
    "rate, text",
    [(0.13412345678901234, "0.134"), (1.0, "1"), (12.3456, "12.3"), (0.000123456, "0.000123"), (123456.7, "123457")],
)
def test_rates_print_with_three_significant_figures(rate, text):
    assert format_rate(rate) == text


@pytest.mark.parametrize("seconds, text", [(5.4, "5s"), (75, "1m15s"), (3725, "1h02m"), (-1, "0s")])
def test_durations_read_like_durations(seconds, text):
    assert format_seconds(seconds) == text


def test_off_a_terminal_a_long_note_is_never_silent(caplog):
    caplog.set_level(logging.INFO, logger="kgqa.run")
    progress = Progress(total=3, enabled=True, every_s=0.2, tty=False)
    try:
        progress.update(1)
        time.sleep(0.9)  # one long note: the heartbeat speaks for it
        progress.update(1)
        progress.update(1)
    finally:
        progress.close()
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("still on note 2/3") for m in messages), messages
    assert messages[-1].startswith("notes 3/3 done,") and "notes/s" in messages[-1]


def test_on_a_terminal_a_bar_counts_notes(capsys):
    progress = Progress(total=2, enabled=True, every_s=0.2, tty=True)
    progress.update(1)
    progress.update(1)
    progress.close()
    assert "2/2" in capsys.readouterr().err


def test_disabled_progress_says_nothing(caplog):
    caplog.set_level(logging.INFO, logger="kgqa.run")
    progress = Progress(total=2, enabled=False, every_s=0.1, tty=False)
    progress.update(2)
    time.sleep(0.3)
    progress.close()
    assert not caplog.records
