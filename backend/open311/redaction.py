"""Make a resident's words fit for the public Open311 feed: personal details out, a home address made a block.

Phone numbers, email addresses, links and names introduced by a title ("Mrs. Lee") or by "my name is" become
``[phone]``, ``[email]``, ``[link]`` and ``[name]``; unit and apartment numbers, buzzer codes and postal codes are
dropped; a street address becomes its block ("45 Elm St" -> "0 block of Elm St") and coordinates are rounded to
about a block. An intersection ("Queen St W and Spadina Ave") has no house number and stays as it is.

This is a best effort over free text, for words a resident agreed to publish: it removes the usual ways people
write these details, not every way. (Staff analytics have their own, simpler redaction: backend.analytics.)
"""

from __future__ import annotations

import re

_STREET_TYPES = (
    r"street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|crescent|cres|cr|court|crt|ct|lane|ln|place|pl|way|"
    r"square|sq|parkway|pkwy|terrace|terr|circle|cir|circuit|trail|trl|gardens|gdns|heights|hts|highway|hwy|grove|"
    r"grv|gate|row|path|close|mews|quay|wharf|esplanade|promenade"
)
_DIRECTION = r"(?:north|south|east|west|n|s|e|w|ne|nw|se|sw)\b\.?"
# Words that end a street's name rather than belong to it ("45 Elm St and Oak Ave", "12 Main St near the park"),
# or show that a number is no house number ("3 hours all the way"; but "45 The Esplanade" is an address).
_NOT_NAME = (
    r"(?:and|at|near|by|or|on|in|to|from|off|of|between|across|beside|behind|outside|opposite|is|was|has|had|"
    r"with|for|(?-i:the|a|an|all|my|your|our|their|his|her|this|that|these|those|every))\b"
)
_UNIT_WORDS = r"(?:apt|apartment|unit|suite|ste|flat|bsmt|basement|penthouse|ph|room|rm)"
_UNIT_NUMBER = r"(?:\#|no\.?|number)?\s*[A-Za-z]?\d{1,5}[A-Za-z]?\b"

# A house number and a street: "45 Elm St", "12B Queen's Park Cres", "1200 Bay Street West", "302-45 Elm St"
# (Toronto writes a unit before the house number), with any unit that follows ("45 Elm St, Apt 3", "45 Elm St #3").
_STREET_ADDRESS = re.compile(
    rf"(?<![\w.#-])(?:[A-Za-z]?\d{{1,5}}[A-Za-z]?\s*-\s*)?(?P<number>\d{{1,6}})(?:[A-Za-z]\b|\s+1/2\b)?"
    rf"\s+(?P<street>(?:(?!{_NOT_NAME})[\w'’.-]+\s+){{1,4}}(?:{_STREET_TYPES})\b\.?(?:\s+{_DIRECTION})?)"
    rf"(?:\s*,?\s*(?:{_UNIT_WORDS}\b\.?|\#)\s*{_UNIT_NUMBER})?",
    re.IGNORECASE,
)
# A house number without a street type ("45 Queen West", "123 Yonge"): at the start of the address field or after
# a word that places it ("behind 45 Queen West"), or in any text after words that say it is a home.
_NUMBER_AND_NAME = (
    rf"(?:[A-Za-z]?\d{{1,5}}[A-Za-z]?\s*-\s*)?(?P<number>\d{{1,6}})[A-Za-z]?\s+"
    rf"(?P<street>(?!{_NOT_NAME}|block\s+of\b)[A-Za-z][\w'’.-]*(?:\s+(?!{_NOT_NAME})[A-Za-z][\w'’.-]*){{0,3}})"
)
_PLACED_NUMBER = re.compile(
    rf"(?:^|[,;:(]|\b(?:at|near|by|behind|beside|outside|opposite|of|from|on|to)\b)\s*{_NUMBER_AND_NAME}",
    re.IGNORECASE,
)
_HOME_NUMBER = re.compile(
    rf"\b(?P<cue>(?:i|we)\s+live|living|lives|my\s+(?:home|house|address|place|building)(?:\s+is)?)"
    rf"(?:\s+(?:at|on))?\s+{_NUMBER_AND_NAME}",
    re.IGNORECASE,
)
_UNIT = re.compile(rf"(?:,\s*)?\b{_UNIT_WORDS}\b\.?\s*{_UNIT_NUMBER}", re.IGNORECASE)
_BUZZER = re.compile(
    r"(?:,\s*)?\b(?:buzz(?:er)?|entry)(?:\s+code)?\s*(?:#|no\.?|number)?\s*:?\s*\d{1,6}\b", re.IGNORECASE
)
_POSTAL_CODE = re.compile(
    r"(?:,\s*)?\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ -]?\d[ABCEGHJ-NPRSTV-Z]\d\b", re.IGNORECASE
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_COORDINATES = re.compile(r"(?<![\d.])(-?\d{1,2}\.\d{4,})\s*,\s*(-?\d{1,3}\.\d{4,})(?![\d.])")
# North American numbers (with a country code, brackets, separators, an extension), and other countries' with +.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}"
    r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?(?!\w)"
    r"|(?<!\w)\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?!\w)",
    re.IGNORECASE,
)
_LOCAL_PHONE = re.compile(r"(?<![\w-])\d{3}[\s.-]\d{4}(?![\w-])")
_NAME = r"(?:[A-Z]\.\s*)*[A-Z][\w'’-]*(?:\s+(?:[A-Z]\.\s*)*[A-Z][\w'’-]*){0,2}"
_LOWER_NAME_STOP = (
    r"(?:and|i|i'm|im|from|at|in|on|the|but|my|we|live|living|here|calling|writing|this|it|is|to|a|about|with|"
    r"who|please|thanks|thank|you|because|so|not|if|was|have|had|just|also|again|really)\b"
)
_INTRODUCED = re.compile(
    rf"\b(?P<intro>my\s+name\s+is|my\s+name['’]s|name\s*:|i\s+am\s+called|call\s+me)\s+"
    rf"(?P<name>(?!{_LOWER_NAME_STOP})[A-Za-z][\w'’-]*(?:\s+(?!{_LOWER_NAME_STOP})[A-Za-z][\w'’-]*){{0,2}})",
    re.IGNORECASE,
)
# "mr smith" is a name in any case; "ms" and "dr" need a capital ("a 500 ms delay", "turn onto Parkside Dr").
_TITLED = re.compile(
    rf"(?<![\w.])(?:(?i:mr|mrs|mister)\.?\s+(?:{_NAME}|(?!(?i:{_LOWER_NAME_STOP}))[a-z][\w'’-]+)"
    rf"|(?:Ms|Mx|Miss|Dr|Doctor|Prof|Professor|Rev|Officer|Constable|Sgt|Sergeant)\.?\s+{_NAME})"
)
_SIGN_OFF = re.compile(
    rf"\b(?P<words>regards|sincerely|thanks|thank\s+you|cheers|best)\s*,?\s*(?:-\s*)?(?-i:{_NAME})\s*[.!]?\s*$",
    re.IGNORECASE,
)
_CAPITALISED_WORD_BEFORE = re.compile(r"[A-Z][\w'’.-]*\s+$")
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?)])")
_REPEATED_COMMAS = re.compile(r",(?:\s*,)+")


def public_text(text: str) -> str:
    """Return a resident's words without personal details, any street address made its block."""
    text = _remove_contact_details(text)
    text = _STREET_ADDRESS.sub(lambda match: _block(match["number"], match["street"]), text)
    text = _HOME_NUMBER.sub(lambda match: f"{match['cue']} on the {_block(match['number'], match['street'])}", text)
    return _tidy(_remove_names(_remove_units(text)))


def public_address(location: str | None) -> str | None:
    """Return where a report is, fit to publish: the block of a street address, else the place without
    personal details (an intersection, a park, a landmark), or None when nothing is left."""
    if not location:
        return None
    text = _remove_units(_remove_contact_details(location))
    match = _STREET_ADDRESS.search(text) or _PLACED_NUMBER.search(text)
    if match is not None:
        return _block(match["number"], match["street"])
    place = _tidy(_remove_names(text)).strip(" ,;:-")
    return place or None


def public_position(lat: float | None, long: float | None) -> tuple[float | None, float | None]:
    """Return a position rounded to 3 decimals, about 100 m: the block, not the house."""
    if lat is None or long is None:
        return None, None
    return round(lat, 3), round(long, 3)


def _remove_contact_details(text: str) -> str:
    """Replace email addresses, links and phone numbers; round coordinates; drop postal codes."""
    text = _EMAIL.sub("[email]", text)
    text = _LINK.sub("[link]", text)
    text = _COORDINATES.sub(lambda match: f"{float(match[1]):.3f}, {float(match[2]):.3f}", text)
    text = _PHONE.sub("[phone]", text)
    return _POSTAL_CODE.sub("", text)


def _remove_units(text: str) -> str:
    """Drop unit and apartment numbers and buzzer codes, then local 7-digit phone numbers.

    Local numbers go last: "302-1200 Bay St" is unit 302 at 1200 Bay St, not a phone number.
    """
    text = _BUZZER.sub("", _UNIT.sub("", text))
    return _LOCAL_PHONE.sub("[phone]", text)


def _remove_names(text: str) -> str:
    """Replace names introduced by "my name is", by a title, or signing off the message."""
    text = _INTRODUCED.sub(lambda match: f"{match['intro']} [name]", text)
    text = _TITLED.sub(_titled_name, text)
    return _SIGN_OFF.sub(lambda match: f"{match['words']}, [name]", text)


def _titled_name(match: re.Match[str]) -> str:
    """Return ``[name]``, unless "Dr" ends a street's name ("Parkside Dr Toronto")."""
    before = match.string[: match.start()]
    if match[0][:2] == "Dr" and _CAPITALISED_WORD_BEFORE.search(before):
        return match[0]
    return "[name]"


def _block(number: str, street: str) -> str:
    """Return "100 block of Elm St" for house number 145 on Elm St."""
    return f"{int(number) // 100 * 100} block of {' '.join(street.split())}"


def _tidy(text: str) -> str:
    """Close the gaps left by removed details."""
    text = _REPEATED_COMMAS.sub(",", text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()
