"""The backend stops in the middle of a conversation: the resident is told honestly, nothing is lost, and the
case and its reference arrive once the backend is back (the action server's durable outbox)."""

from __future__ import annotations

from live import Resident, cases_of, get_case, reference_given, start_service, stop_service, wait_until


def test_a_report_made_while_the_backend_is_down_is_delivered_when_it_returns(stack):
    resident = Resident(stack, "e2e-outbox-1")
    first = "the streetlight in front of my house is out"
    resident.say(first)
    assert "public map" in " ".join(resident.say("300 Pape Ave")).lower()
    resident.say("no")
    summary = resident.say("none")
    assert "shall i send it" in " ".join(summary).lower(), summary

    stop_service(stack, "backend")
    try:
        replies = resident.say("yes")
        assert reference_given(replies) is None
        text = " ".join(replies).lower()
        assert "saved and nothing is lost" in text, replies
        # Asking for it while the backend is still down gets an honest answer too.
        assert "not recorded it yet" in " ".join(resident.say("what's the status of my report")).lower()
        resident.say("yes")  # a second yes (or a retry) must not make a second case later
    finally:
        start_service(stack, "backend")

    [case] = wait_until(lambda: cases_of(stack, resident.sender), timeout=120)
    reference = case["reference"]
    detail = get_case(stack, reference)
    assert (detail["kind"], detail["description"], detail["location"]) == ("service_request", first, "300 Pape Ave")
    assert detail["service_code"] == "TS-STREETLIGHT"

    # The resident is told the reference through Rasa, and it is part of the conversation staff read.
    def told() -> bool:
        turns = get_case(stack, reference)["transcript"]
        return any(reference in (turn["text"] or "") for turn in turns if turn["role"] == "bot")

    wait_until(told, timeout=60)
    resident_turns = [t["text"] for t in get_case(stack, reference)["transcript"] if t["role"] == "resident"]
    assert resident_turns[:5] == [first, "300 Pape Ave", "no", "none", "yes"]
    assert len(cases_of(stack, resident.sender)) == 1
