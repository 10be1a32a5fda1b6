"""What the channels answer by themselves is as plain as the assistant's own responses."""

from __future__ import annotations

import pytest
from bot_testing import GSM7, grade_level

from channels import replies
from channels.segments import fits_one_segment

TEXTS = {name: value for name, value in vars(replies).items() if name.isupper() and isinstance(value, str)}
TEXTS["ask_for_words(photo)"] = replies.ask_for_words([{"content_type": "image/jpeg"}])
TEXTS["ask_for_words(file)"] = replies.ask_for_words([{"content_type": "application/pdf"}])


def test_there_are_texts_to_check():
    assert len(TEXTS) >= 10


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_fits_one_text_message_in_gsm7(name):
    text = TEXTS[name]
    assert set(text) <= GSM7, set(text) - GSM7
    assert fits_one_segment(text), len(text)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_reads_at_grade_eight_or_below_and_asks_at_most_one_question(name):
    assert grade_level(TEXTS[name]) <= 8.0
    assert TEXTS[name].count("?") <= 1


@pytest.mark.parametrize("keyword", ["STOP", "CANCEL REPORT"])
def test_the_sms_help_says_how_to_stop_a_report_and_the_texts(keyword):
    assert keyword in replies.SMS_HELP
