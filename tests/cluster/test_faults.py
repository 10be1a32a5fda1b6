"""Faults in the production profile lose nothing: a Rasa server killed, the backend stopped, PostgreSQL restarted,
the action servers restarted, each in the middle of residents' conversations.

Each test ends with every server running again, so the tests do not depend on one another's order.
"""

from __future__ import annotations

import signal
import threading
import time

from cluster_testing import Talk, access_log_length, rasa_servers_used
from live import cases_of, get_case, wait_until


def resident_turns(cluster, reference: str) -> list[str]:
    return [turn["text"] for turn in get_case(cluster, reference)["transcript"] if turn["role"] == "resident"]


def test_a_conversation_goes_on_at_the_other_rasa_server_when_its_own_is_killed(cluster):
    talk = Talk(cluster, "cluster-kill-rasa")
    mark = access_log_length(cluster)
    talk.say("big pothole on queen st near spadina")
    talk.answer()
    # nginx writes its log line just after the answer. Both messages went to the same server.
    [victim] = set(wait_until(lambda: len(used := rasa_servers_used(cluster, mark)) == 2 and used, timeout=10))
    mark = access_log_length(cluster)
    cluster.stop_service(victim, signal.SIGKILL)  # as a crash would: no goodbye, no cleanup
    try:
        reference = talk.answer_until_reference()
    finally:
        cluster.start_service(victim)

    after = wait_until(lambda: rasa_servers_used(cluster, mark), timeout=10)
    assert victim not in after, after
    assert talk.failures == []  # nginx passed every message on; the resident saw no error
    # Every turn is in the conversation once, in order, including the ones the killed server took.
    assert resident_turns(cluster, reference) == talk.sent
    assert len(cases_of(cluster, talk.sender)) == 1


def test_a_report_sent_while_the_backend_is_stopped_arrives_through_the_outbox(cluster):
    talk = Talk(cluster, "cluster-backend-down")
    first = "the streetlight in front of my house is out"
    talk.say(first)
    talk.say("300 Pape Ave")
    assert "public map" in " ".join(talk.replies).lower(), talk.replies
    talk.say("no")
    talk.say("none")
    assert "shall i send it" in " ".join(talk.replies).lower(), talk.replies

    cluster.stop_service("backend")
    try:
        talk.say("yes")
        assert talk.reference() is None
        assert "saved and nothing is lost" in " ".join(talk.replies).lower(), talk.replies
    finally:
        cluster.start_service("backend")

    [case] = wait_until(lambda: cases_of(cluster, talk.sender), timeout=120)
    detail = get_case(cluster, case["reference"])
    assert (detail["kind"], detail["description"], detail["location"]) == ("service_request", first, "300 Pape Ave")

    def told() -> bool:
        turns = get_case(cluster, case["reference"])["transcript"]
        return any(case["reference"] in (turn["text"] or "") for turn in turns if turn["role"] == "bot")

    wait_until(told, timeout=60)
    assert resident_turns(cluster, case["reference"]) == talk.sent
    bot_lines = [t["text"] for t in get_case(cluster, case["reference"])["transcript"] if t["role"] == "bot"]
    assert sum(case["reference"] in (line or "") for line in bot_lines) == 1  # told once, by one action server
    assert len(cases_of(cluster, talk.sender)) == 1


def test_postgresql_restarts_mid_run_and_nothing_is_lost_or_repeated(cluster):
    talks = [Talk(cluster, f"cluster-pg-{number}") for number in range(6)]
    firsts = [
        "big pothole on queen st near spadina",
        "the crew on Elm St was amazing today",
        "my green bin wasnt picked up this week",
    ]
    for number, talk in enumerate(talks):
        talk.say(firsts[number % len(firsts)])
    references = {}
    errors: list[BaseException] = []

    def converse(talk: Talk) -> None:
        # A resident whose message got an error sends it again, as people (and Telegram) do.
        try:
            references[talk.sender] = talk.answer_until_reference(retries=8)
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=converse, args=(talk,)) for talk in talks]
    for thread in threads:
        thread.start()
    cluster.stop_service("postgres")
    time.sleep(3)  # long enough that messages arrive while it is away
    cluster.start_service("postgres")
    for thread in threads:
        thread.join(timeout=600)
    assert errors == []

    for talk in talks:
        [case] = cases_of(cluster, talk.sender)  # one case each, none lost, none made twice
        assert case["reference"] == references[talk.sender]
        # Each message that was answered is in the conversation once; one that got an error and was sent again
        # is there once too.
        assert resident_turns(cluster, case["reference"]) == talk.sent
    assert len(set(references.values())) == len(talks)
    # Messages did arrive while PostgreSQL was away: the Rasa servers waited for it.
    logs = " ".join(path.read_text(errors="replace") for path in cluster.log_dir.glob("rasa-*.log"))
    assert "the tracker store could not" in logs


def test_restarting_the_action_servers_mid_form_keeps_the_answers_so_far(cluster):
    talk = Talk(cluster, "cluster-actions-restart")
    first = "The by-law officer who came to my door was incredibly rude and wouldn't listen to a word I said"
    talk.say(first)
    assert "where" in " ".join(talk.replies).lower(), talk.replies
    talk.say("45 Elm Street")
    assert "when did it happen" in " ".join(talk.replies).lower(), talk.replies
    talk.say("yesterday morning")

    for name in ("actions-1", "actions-2"):
        cluster.stop_service(name)
    for name in ("actions-1", "actions-2"):
        cluster.start_service(name)

    # The conversation picks up at the question it was on; nothing answered is asked again.
    asked = len(talk.topics)
    reference = talk.answer_until_reference()
    case = get_case(cluster, reference)
    assert (case["kind"], case["description"], case["location"]) == ("complaint", first, "45 Elm Street")
    assert case["details"]["when"] == "yesterday morning"
    assert "location" not in talk.topics[asked:] and "when" not in talk.topics[asked:], talk.topics
    assert resident_turns(cluster, reference) == talk.sent
