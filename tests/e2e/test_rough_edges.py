"""Rough edges residents hit (issue 20), through the real running stack: REST channel, the trained model, the
action server and the backend. Each test is one resident; the assertions are on what they read and the case filed."""

from __future__ import annotations

from live import Resident, get_case, reference_given


def joined(replies: list[str]) -> str:
    return " ".join(replies).lower()


# What a resident answers to each question, looked for in this order: the read-back holds "Where:" too, so the
# confirmation comes first; "just to check" is the kind question, asked when the classifier hesitates.
EVERYDAY: dict[str, str] = {
    "shall i send it": "yes",
    "public map": "no",
    "just to check": "fix it",
    "you can say skip": "skip",
    "make this a complaint": "yes",
    "reference number of your first report": "no",
    "please send the reference number": "no",
    "what happened": "It has been like this for a week",
    "what needs to be fixed": "Please fix it",
    "where": "45 Elm Street",
    "when did it happen": "yesterday",
    "is that right": "yes",
    "which city team": "not sure",
    "reply with a number": "not sure",
    "reply with one or more numbers": "1",
    "is it blocking": "no",
    "put this right": "Please fix it",
    "what would you like the city to do": "Please fix it",
    "hear back": "no",
    "how should we reach you": "none",
}


def converse(
    resident: Resident, replies: list[str], answers: dict[str, str], turns: int = 16
) -> tuple[str | None, list[list[str]]]:
    """Answer each question from `answers` until a reference is given; return it and every turn's replies."""
    seen = [replies]
    for _ in range(turns):
        reference = reference_given(replies)
        if reference:
            return reference, seen
        text = joined(replies)
        answer = next((a for q, a in answers.items() if q in text), None)
        assert answer is not None, f"no answer for {replies}"
        replies = resident.say(answer)
        seen.append(replies)
    return None, seen


def said(seen: list[list[str]]) -> str:
    return " ".join(joined(replies) for replies in seen)


def test_the_street_again_to_the_pothole_question_moves_on_and_the_cross_street_is_kept(stack):
    resident = Resident(stack, "e2e-rough-pothole")
    replies = resident.say("big pothole on queen st near spadina")
    if "just to check" in joined(replies):
        replies = resident.say("fix it")
    assert "which part of the road is it in" in joined(replies), replies
    assert "reply with a number" not in joined(replies)
    replies = resident.say("queen st near spadina")  # the place again, as residents did
    assert "move on" in joined(replies) and "public map" in joined(replies), replies
    reference, seen = converse(resident, replies, EVERYDAY)
    assert reference, seen
    assert "didn't get that" not in said(seen) and "a person at 311 can help" not in said(seen)
    assert "where: queen st near spadina" in said(seen)  # the read-back keeps the cross street
    case = get_case(stack, reference)
    assert (case["service_code"], case["location"]) == ("TS-POTHOLE", "queen st near spadina")
    assert case["details"]["service_attributes"] == {"lane_position": ""}


def test_yes_is_not_taken_as_the_outcome_or_as_the_reference(stack):
    resident = Resident(stack, "e2e-rough-yes")
    replies = resident.say("I reported the broken streetlight at 12 Coxwell Ave twice and nobody came to fix it")
    asked_reference = asked_outcome = False
    answers = dict(EVERYDAY)
    for _ in range(16):
        text = joined(replies)
        if reference_given(replies) or "shall i send it" in text:
            break
        if "reference number of your first report" in text and not asked_reference:
            asked_reference = True
            replies = resident.say("yes")
            assert "please send the reference number" in joined(replies), replies
            assert "a person at 311 can help" not in joined(replies)
            replies = resident.say("no")  # they don't have it after all
            continue
        if "put this right" in text and not asked_outcome:
            asked_outcome = True
            replies = resident.say("yes")
            assert "in a few words what you would like the city to do" in joined(replies), replies
            replies = resident.say("Fix the light for good")
            continue
        replies = resident.say(next(a for q, a in answers.items() if q in text))
    assert asked_reference and asked_outcome, replies
    assert "You want: Fix the light for good" in " ".join(replies), replies
    reference, _ = converse(resident, resident.say("yes"), answers)
    case = get_case(stack, reference)
    assert case["kind"] == "complaint" and case["details"]["outcome_wanted"] == "Fix the light for good"
    assert not case["details"].get("linked_reference")


def test_a_correction_at_the_contact_question_changes_the_address(stack):
    resident = Resident(stack, "e2e-rough-correction")
    replies = resident.say("the streetlight at 10 Elm St is out")
    for _ in range(6):
        if "how should we reach you" in joined(replies):
            break
        replies = resident.say(next(a for q, a in EVERYDAY.items() if q in joined(replies)))
    assert "how should we reach you" in joined(replies), replies
    replies = resident.say("oops, I meant number 12, not 10")
    assert "changed the place to 12 elm st" in joined(replies), replies
    assert "how should we reach you" in joined(replies) and "didn't get that" not in joined(replies), replies
    replies = resident.say("none")
    assert "Where: 12 Elm St" in " ".join(replies), replies
    reference, _ = converse(resident, replies, EVERYDAY)
    assert get_case(stack, reference)["location"] == "12 Elm St"


def test_a_bin_not_collected_goes_to_solid_waste_and_an_unknown_problem_to_triage(stack):
    resident = Resident(stack, "e2e-rough-bin")
    replies = resident.say("my bin was not collected at 5 Elm St")
    reference, seen = converse(resident, replies, EVERYDAY)
    assert "solid waste management services will look at it" in said(seen), seen
    case = get_case(stack, reference)
    assert (case["service_code"], case["division"]) == ("SWMS-MISSED-PICKUP", "SWMS")

    other = Resident(stack, "e2e-rough-triage")
    reference, seen = converse(
        other, other.say("a strange smell is coming from the vacant lot at 40 Oak Ave"), EVERYDAY
    )
    assert "city staff will look at it" not in said(seen)
    assert "our 311 team will look" in said(seen), seen
    assert get_case(stack, reference)["division"] == "TRIAGE"


def test_a_limb_about_to_fall_onto_a_footpath_goes_to_urban_forestry(stack):
    resident = Resident(stack, "e2e-rough-tree")
    replies = resident.say("a tree limb is about to fall onto the footpath on Oak Ave")
    reference, seen = converse(resident, replies, EVERYDAY)
    assert "is it blocking a road or sidewalk" in said(seen), seen
    case = get_case(stack, reference)
    assert (case["service_code"], case["division"]) == ("UF-FALLEN-TREE", "UF")
    assert "urban forestry will look at it" in said(seen)
