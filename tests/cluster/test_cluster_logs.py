"""The cluster's logs (nginx, PostgreSQL, Redis, Rasa, action servers, backend) hold no secret and no resident's words,
after a conversation that gives a phone number and an email address and ends with a reference told through Rasa's
token-protected API (the outbox's notice, while the backend was away)."""

from __future__ import annotations

from cluster_testing import Talk
from live import cases_of, get_case, wait_until
from test_logs_private import leaks

PHONE = "647-555-0142"
EMAIL = "zinnia.resident@example.org"


def test_the_logs_hold_no_secret_and_no_residents_details(cluster):
    talk = Talk(
        cluster,
        "cluster-logs-private",
        facts={
            "description": "The zinnia beds were trampled",
            "location": "5 Aubergine Crescent",
            "contact_method": "email",
            "email": EMAIL,
            "phone": PHONE,
            "outcome": "Replant the zinnia beds",
            "kind": "unhappy",
        },
    )
    talk.say(f"The parks crew trampled the zinnia beds at Aubergine park, call me at {PHONE}")
    cluster.stop_service("backend")
    try:
        for _ in range(20):
            if "shall i send it" in " ".join(talk.replies).lower():
                break
            talk.answer()
        talk.say("yes")  # the case goes to the outbox
    finally:
        cluster.start_service("backend")
    [case] = wait_until(lambda: cases_of(cluster, talk.sender), timeout=120)
    wait_until(
        lambda: any(
            case["reference"] in (turn["text"] or "") for turn in get_case(cluster, case["reference"])["transcript"]
        ),
        timeout=60,
    )

    env = cluster.environment()
    forbidden = {
        "phone": ["6475550142"],
        "email": [EMAIL],
        "words": ["zinnia", "aubergine"],
        "secret": [
            env[name]
            for name in (
                "INTAKE_STAFF_TOKEN",
                "INTAKE_ACTIONS_TOKEN",
                "INTAKE_RASA_TOKEN",
                "INTAKE_TELEGRAM_SECRET_TOKEN",
                "INTAKE_ACTIONS_SECRET",
                "INTAKE_TRACKER_DB_PASSWORD",
                "INTAKE_REDIS_PASSWORD",
            )
        ],
    }
    assert leaks(cluster.log_dir, forbidden) == []
