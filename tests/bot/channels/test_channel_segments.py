"""Text-message segments: GSM-7 versus UCS-2, and replies planned into the fewest segments."""

from __future__ import annotations

import pytest

from channels.segments import (
    encoding,
    fits_one_segment,
    plan_sms,
    segment_count,
    split_text,
    to_gsm7_lookalikes,
    total_segments,
    units,
)


@pytest.mark.parametrize(
    "text, kind, size, segments",
    [
        ("", "gsm7", 0, 1),
        ("a" * 160, "gsm7", 160, 1),
        ("a" * 161, "gsm7", 161, 2),
        ("a" * 306, "gsm7", 306, 2),
        ("a" * 307, "gsm7", 307, 3),
        ("€" * 80, "gsm7", 160, 1),  # the extension table costs two septets a character
        ("{" * 81, "gsm7", 162, 2),
        ("é" * 160, "gsm7", 160, 1),  # in the basic set
        ("ç" * 70, "ucs2", 70, 1),  # not in GSM-7: the whole message goes as UCS-2
        ("ç" * 71, "ucs2", 71, 2),
        ("😀" * 35, "ucs2", 70, 1),  # outside the BMP: two UTF-16 units each
        ("a" * 150 + "’", "ucs2", 151, 3),
    ],
)
def test_segments_are_counted_as_the_network_counts_them(text, kind, size, segments):
    assert (encoding(text), units(text), segment_count(text)) == (kind, size, segments)


def test_typographic_punctuation_becomes_gsm7():
    assert to_gsm7_lookalikes("“We’ll fix it” – soon…") == '"We\'ll fix it" - soon...'
    assert encoding(to_gsm7_lookalikes("It’s done\u00a0today")) == "gsm7"


def test_split_packs_whole_sentences_in_order():
    sentences = ["One two three.", "Four five six!", "Seven eight nine?", "Ten."]
    parts = split_text(" ".join(sentences), lambda part: len(part) <= 32)
    assert parts == ["One two three. Four five six!", "Seven eight nine? Ten."]


def test_split_cuts_a_long_sentence_between_words_and_a_long_word_where_it_must():
    parts = split_text("alpha beta gamma delta " + "x" * 25, lambda part: len(part) <= 10)
    assert parts == ["alpha beta", "gamma", "delta", "xxxxxxxxxx", "xxxxxxxxxx", "xxxxx"]
    assert all(len(p) <= 10 for p in parts)


def test_split_of_a_huge_word_is_quick_and_complete():
    word = "y" * 20000
    parts = split_text(word, fits_one_segment)
    assert "".join(parts) == word and all(len(p) == 160 for p in parts[:-1])


@pytest.mark.parametrize(
    "text",
    [
        "Short answer.",
        "Thank you. " * 30,
        ("A fairly ordinary sentence that is long enough to matter here. " * 12).strip(),
        "Une phrase en français, ça coûte plus cher. " * 5,
        "x" * 3000,
    ],
    ids=["short", "repeated", "long", "ucs2", "one huge word"],
)
def test_plan_never_costs_more_than_one_message_and_keeps_every_word(text):
    plan = plan_sms(text)
    assert "".join("".join(plan).split()) == "".join(text.split())
    single = segment_count(text.strip()) if len(text) <= 1600 else None
    if single is not None:
        assert total_segments(plan) <= single
    assert all(len(message) <= 1600 for message in plan)


def test_plan_of_nothing_is_no_message():
    assert plan_sms("  \n ") == []
