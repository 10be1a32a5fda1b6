"""What the public Open311 feed may show of a resident's words: personal details out, a home address its block."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.open311.redaction import public_address, public_position, public_text


@pytest.mark.parametrize(
    ("words", "published"),
    [
        # Phone numbers, however written.
        ("Call me at 416-555-0199 if needed", "Call me at [phone] if needed"),
        ("my number is (416) 555 0199.", "my number is [phone]."),
        ("text 4165550199 please", "text [phone] please"),
        ("+1 416 555 0199 is my cell", "[phone] is my cell"),
        ("reach me on 1-647-555-0123 ext. 22", "reach me on [phone]"),
        ("416.555.0199", "[phone]"),
        ("my UK number +44 20 7946 0958 works too", "my UK number [phone] works too"),
        ("call 555-0199 after 5", "call [phone] after 5"),
        # Email addresses and links.
        ("email jane.doe+311@example.org or JDOE@CITY.EXAMPLE", "email [email] or [email]"),
        ("photos at https://photos.example.com/abc?x=1 and www.example.com/me", "photos at [link] and [link]"),
        # Names, introduced by "my name is" or a title, or signing off.
        ("My name is John Smith and I pay my taxes", "My name is [name] and I pay my taxes"),
        ("hi my name is maria and the bin is broken", "hi my name is [name] and the bin is broken"),
        ("My name's Jean-Luc O'Neil.", "My name's [name]."),
        ("Name: Ann Lee", "Name: [name]"),
        ("you can call me Sam", "you can call me [name]"),
        ("Mrs. Jane Doe next door complained too", "[name] next door complained too"),
        ("mr smith from the corner store saw it", "[name] from the corner store saw it"),
        ("Ms O'Hara and Mr. J. R. Ewing", "[name] and [name]"),
        ("Dr. Patel's clinic entrance is blocked", "[name] clinic entrance is blocked"),
        ("Officer Jones was very helpful", "[name] was very helpful"),
        ("The tree fell on the road. Thanks, Ann Lee", "The tree fell on the road. Thanks, [name]"),
        ("Broken light.\nRegards,\nPriya Raman", "Broken light.\nRegards, [name]"),
        # Units, apartments, buzzer codes and postal codes are dropped.
        ("Leak in apt 4B since Monday", "Leak in since Monday"),
        ("the hallway of Apartment 1203 smells", "the hallway of smells"),
        ("Suite 200 has no heat", "has no heat"),
        ("buzz 1234 at the side door", "at the side door"),
        ("deliver to M5V 2T6 please", "deliver to please"),
        # A street address becomes its block, with any unit before or after it.
        ("Garbage not picked up at 45 Elm St", "Garbage not picked up at 0 block of Elm St"),
        ("pothole in front of 145 Queen St W, apt 3.", "pothole in front of 100 block of Queen St W."),
        ("302-1200 Bay Street has no water", "1200 block of Bay Street has no water"),
        ("at 12B Queen's Park Cres. since May", "at 0 block of Queen's Park Cres. since May"),
        ("45 St. Clair Ave W #12 is flooded", "0 block of St. Clair Ave W is flooded"),
        ("55 The Esplanade lobby", "0 block of The Esplanade lobby"),
        ("my house at 3401 dufferin street", "my house at 3400 block of dufferin street"),
        ("I live at 88 Queen West and the bus is loud", "I live on the 0 block of Queen West and the bus is loud"),
        ("my address is 17 Yonge", "my address is on the 0 block of Yonge"),
        # Coordinates are rounded to about a block.
        ("here: 43.65320, -79.38320", "here: 43.653, -79.383"),
        # Everything at once.
        (
            "My name is Ada Lovelace, I live at 12 Elm St, Unit 5, Toronto ON M5V 2T6. "
            "Phone 416-555-0199, email ada@example.org. The streetlight is out.",
            "My name is [name], I live at 0 block of Elm St, Toronto ON. Phone [phone], email [email]. "
            "The streetlight is out.",
        ),
    ],
)
def test_personal_details_are_removed_and_addresses_made_blocks(words: str, published: str) -> None:
    assert public_text(words) == published


@pytest.mark.parametrize(
    "words",
    [
        "The streetlight at Queen St W and Spadina Ave has been out for 3 weeks",
        "Overflowing bin at the corner of King & Bay",
        "Bus 504 was 20 minutes late on Tuesday",
        "it took 3 hours all the way",
        "about 20 trees along the park need trimming",
        "a 500 ms delay on the crossing signal",
        "I miss the old route 29 schedule",
        "Dr. Who would fix this faster",  # a title and a name: removed
        "Hwy 401 eastbound ramp near Keele has debris",
        "Reference S-4F7KQ2X, second report",
        "Water main break on Dufferin St, 2 lanes closed",
        "The 10 minute walk to the stop has no sidewalk",
    ],
)
def test_ordinary_words_stay_as_they_are(words: str) -> None:
    expected = words.replace("Dr. Who", "[name]")
    assert public_text(words) == expected


@pytest.mark.parametrize(
    ("location", "published"),
    [
        ("45 Elm St", "0 block of Elm St"),
        ("100 Queen St W", "100 block of Queen St W"),
        ("1200 Bay Street West, Toronto", "1200 block of Bay Street West"),
        ("302-45 Elm St", "0 block of Elm St"),
        ("Unit 5, 45 Elm St, Toronto ON M5V 2T6", "0 block of Elm St"),
        ("45 Elm St apt 3, buzz 1234", "0 block of Elm St"),
        ("#302 - 45 Elm St", "0 block of Elm St"),
        ("45 St. Clair Ave W near the park", "0 block of St. Clair Ave W"),
        ("123 Yonge", "100 block of Yonge"),
        ("behind 45 Queen West", "0 block of Queen West"),
        ("in front of 2250 bloor st w", "2200 block of bloor st w"),
        ("Queen St W and Spadina Ave", "Queen St W and Spadina Ave"),
        ("corner of Queen & Spadina", "corner of Queen & Spadina"),
        ("Dufferin/Bloor", "Dufferin/Bloor"),
        ("High Park, near the pond", "High Park, near the pond"),
        ("Hwy 401 near Keele", "Hwy 401 near Keele"),
        ("43.65320, -79.38320", "43.653, -79.383"),
        ("outside Mrs. Lee's house on Oak Ave", "outside [name] house on Oak Ave"),
        ("my house, call 416-555-0199", "my house, call [phone]"),
        ("Apt 4", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_a_location_is_published_as_its_block_or_intersection(location: str | None, published: str | None) -> None:
    assert public_address(location) == published


def test_a_position_is_rounded_to_about_a_block() -> None:
    assert public_position(43.653226, -79.383184) == (43.653, -79.383)
    assert public_position(None, -79.3) == (None, None)


_SEPARATORS = st.sampled_from(["-", ".", " ", ""])


@given(
    area=st.integers(200, 999),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    first=_SEPARATORS,
    second=_SEPARATORS,
    before=st.sampled_from(["call ", "my cell is ", "Phone: ", "(text) ", ""]),
    after=st.sampled_from([" anytime", ".", ", thanks", ""]),
)
def test_no_north_american_phone_number_survives(
    area: int, exchange: int, line: int, first: str, second: str, before: str, after: str
) -> None:
    number = f"{area}{first}{exchange}{second}{line:04d}"
    published = public_text(f"{before}{number}{after}")
    assert f"{line:04d}" not in published and "[phone]" in published


@given(
    user=st.from_regex(r"[a-z][a-z0-9._+-]{0,15}[a-z0-9]", fullmatch=True),
    domain=st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(org|com|ca|example)", fullmatch=True),
)
def test_no_email_address_survives(user: str, domain: str) -> None:
    published = public_text(f"write to {user}@{domain} about it")
    assert "@" not in published and published == "write to [email] about it"


@given(
    number=st.integers(1, 99999), street=st.sampled_from(["Elm St", "Queen St W", "Bathurst Street", "Lawrence Ave E"])
)
def test_no_house_number_survives(number: int, street: str) -> None:
    published = public_text(f"The bin at {number} {street} was missed")
    assert re.search(rf"\b{number}\b", published) is None or number == number // 100 * 100
    assert f"{number // 100 * 100} block of {street}" in published
