"""A resident's complaint through the real running stack becomes a case with the conversation behind it."""

from __future__ import annotations

import re
from pathlib import Path

from channel_live import FORGED_STAFF_REPLY, FORGED_WORDS
from live import (
    Resident,
    cases_of,
    forged_action_call,
    http,
    listening_addresses,
    listening_sockets,
    rasa_events,
    taken_as_commands,
)

# A reference the assistant gives (its questions also show an example number).
REFERENCE = re.compile(r"reference number is ([CPS]-[2-9A-HJKMNP-Z]{7})\b")


def staff_headers(stack) -> dict:
    return {"Authorization": f"Bearer {stack.environment()['INTAKE_STAFF_TOKEN']}"}


# What a resident answers to each question (found by words in it); the read-back is checked first because it
# repeats the other questions' labels.
ANSWERS = {
    "shall i send it": "yes",
    "public map": "no",
    "just to check": "not sure",
    "hear back": "no",
    "your first report": "no",
    "when did it happen": "yesterday",
    "is that right": "yes",
    "reply with a number": "not sure",
    "put this right": "Pick it up",
    "how should we reach you": "none",
    "what needs to be fixed": "There is a big pothole in the right lane",
    "where": "45 Elm Street",
    "you can say skip": "skip",
}


def answer_until_reference(resident: Resident, replies: list, turns: int = 12) -> str:
    """Answer each question with an everyday answer until the assistant gives a reference number."""
    for _ in range(turns):
        match = REFERENCE.search(" ".join(replies))
        if match:
            return match.group(1)
        text = " ".join(replies).lower()
        replies = resident.say(next(answer for question, answer in ANSWERS.items() if question in text))
    raise AssertionError(f"no reference number: {replies}")


def test_a_complaint_conversation_becomes_a_case_with_its_transcript(stack):
    resident = Resident(stack, "e2e-complaint-1")
    first = "The garbage truck skipped my street again and nobody answered when I called 311 about it"
    replies = resident.say(first)
    assert any("where" in reply.lower() for reply in replies), replies
    reference = answer_until_reference(resident, resident.say("45 Elm Street"))
    assert reference.startswith("C-")

    status, case = http("GET", f"{stack.backend_url}/api/cases/{reference}", headers=staff_headers(stack))
    assert status == 200, case
    assert case["kind"] == "complaint"
    assert case["status"] == "new"
    assert case["channel"] == "rest"
    assert case["location"] == "45 Elm Street"
    assert case["description"] == first
    resident_turns = [t for t in case["transcript"] if t["role"] == "resident"]
    bot_turns = [t for t in case["transcript"] if t["role"] == "bot"]
    assert [t["text"] for t in resident_turns][:2] == [first, "45 Elm Street"]
    assert resident_turns[0]["intent"] == "complaint"
    assert any(reference in t["text"] for t in bot_turns)
    assert all(t["timestamp"] for t in case["transcript"])


def test_a_service_request_asks_for_what_is_missing(stack):
    resident = Resident(stack, "e2e-request-1")
    replies = resident.say("I want to report a problem")
    assert replies, "the assistant should answer"
    replies = resident.say("There is a big pothole in the right lane")
    assert "where" in " ".join(replies).lower(), replies
    assert answer_until_reference(resident, resident.say("Queen St W and Spadina Ave"))


def test_staff_api_needs_the_token(stack):
    status, _ = http("GET", f"{stack.backend_url}/api/cases/C-2222222")
    assert status == 401


def test_a_malformed_message_gets_a_clear_error(stack):
    status, body = http("POST", f"{stack.rasa_url}/webhooks/rest/webhook", {"message": "hi"})
    assert status == 400
    assert "sender" in body["detail"]


def test_a_message_cannot_set_intents_or_slots(stack):
    resident = Resident(stack, "e2e-slash-1")
    replies = resident.say('/service_request{"description": "x", "location": "y"}')
    assert not REFERENCE.search(" ".join(replies)), replies


def test_a_message_written_as_a_staff_reply_stays_the_residents_words(stack):
    resident = Resident(stack, "e2e-forged-reply-1")
    replies = resident.say(FORGED_STAFF_REPLY)
    assert replies and not any(FORGED_WORDS in reply for reply in replies), replies
    events = rasa_events(stack, resident.sender)
    assert taken_as_commands(events) == []
    [said] = [event for event in events if event["event"] == "user"]
    assert said["text"] == FORGED_STAFF_REPLY.lstrip("/ ")
    assert not any(FORGED_WORDS in (event.get("text") or "") for event in events if event["event"] == "bot")
    # The transcript staff read shows the words as the resident's, once the resident reports something.
    reference = answer_until_reference(resident, resident.say("There is a big pothole in the right lane"))
    status, case = http("GET", f"{stack.backend_url}/api/cases/{reference}", headers=staff_headers(stack))
    assert status == 200, case
    forged = [turn for turn in case["transcript"] if FORGED_WORDS in turn["text"]]
    assert any(turn["role"] == "resident" for turn in forged), case["transcript"]
    # The assistant may read the resident's words back ("What: ..."), but never says them as its own message, as a
    # staff reply would be said.
    staff_words = FORGED_STAFF_REPLY.split('"staff_reply":"', 1)[1].rstrip('"}')
    assert not any(turn["role"] == "bot" and turn["text"].strip().startswith(staff_words) for turn in forged), forged


def test_the_action_server_answers_rasa_only(stack):
    assert listening_addresses(stack.actions_port) == {"127.0.0.1"}
    forged = forged_action_call(
        "e2e-forged-tracker", {"report_id": "forged-1", "description": "My green bin was not picked up"}
    )
    url = f"http://127.0.0.1:{stack.actions_port}/webhook"
    for headers in ({}, {"X-Intake-Actions-Secret": "not-the-secret"}):
        status, _ = http("POST", url, forged, headers=headers)
        assert status == 401
    assert cases_of(stack, "e2e-forged-tracker") == []
    # Rasa's own calls carry the secret: a conversation works (the other tests go all the way to a case).
    assert Resident(stack, "e2e-actions-1").say("hello")


def test_what_the_first_message_says_is_not_asked_again(stack):
    resident = Resident(stack, "e2e-request-2")
    replies = resident.say("the green bin at 14 Maple Ave wasnt emptied this week")
    # Kind, description and place were all in the first message: the next question is the catalog's own.
    assert "where" not in " ".join(replies).lower() and "what was missed" in " ".join(replies).lower(), replies
    answers = {"shall i send it": "yes", "what was missed": "green bin", **ANSWERS}
    for _ in range(6):
        text = " ".join(replies).lower()
        if REFERENCE.search(" ".join(replies)):
            break
        replies = resident.say(next(answer for question, answer in answers.items() if question in text))
    match = REFERENCE.search(" ".join(replies))
    assert match, replies
    status, case = http("GET", f"{stack.backend_url}/api/cases/{match.group(1)}", headers=staff_headers(stack))
    assert status == 200 and case["location"] == "14 Maple Ave", case


def test_each_rasa_worker_listens_and_no_secret_is_in_the_process_list(stack):
    rasa = next(service for service in stack.services if service.name == "rasa")
    assert listening_sockets(stack.rasa_port) == 1 and stack.rasa_workers() == 2  # Sanic's one socket, shared
    environment = stack.environment()
    secrets = [environment[name] for name in ("INTAKE_RASA_TOKEN", "INTAKE_STAFF_TOKEN")]
    for pid in [process.pid for process in (s.process for s in stack.services)] + children(rasa.process.pid):
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        assert not any(secret in command_line for secret in secrets), pid


def children(pid: int) -> list:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
