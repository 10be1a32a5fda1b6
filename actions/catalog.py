"""The backend's division catalog as the conversation uses it: guess a service, offer a division, read a choice.

The catalog is configuration (backend/catalog.yml, served at GET /api/catalog), so onboarding a division changes
what the assistant offers and asks without any change here. It is fetched through `backend_client` and kept for
a few minutes; when the backend cannot be reached the conversation goes on without it.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from actions import backend_client
from actions.answers import is_unknown, named_choice, numbered_choice

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
RETRY_SECONDS = 15.0  # after a failed fetch, do not hold up every turn retrying
_WORD = re.compile(r"[a-z0-9']+")
UNSURE = "unsure"


@dataclass(frozen=True)
class Attribute:
    """An extra question a service asks (an Open311 attribute)."""

    code: str
    question: str
    required: bool
    datatype: str
    values: tuple[tuple[str, str], ...] = ()  # (key, name) for the list datatypes

    @property
    def is_list(self) -> bool:
        return self.datatype in ("singlevaluelist", "multivaluelist")


@dataclass(frozen=True)
class Service:
    """A service category and the division that owns it."""

    code: str
    name: str
    division: str
    keywords: tuple[str, ...]
    attributes: tuple[Attribute, ...]


@dataclass(frozen=True)
class Division:
    """A City division and its time limits in working days."""

    code: str
    name: str
    acknowledge_days: int
    respond_days: int
    owner: str | None = None
    triage: bool = False  # takes the reports no service or team was found for; never offered to residents


@dataclass
class Catalog:
    """Divisions and services, indexed for the questions the assistant asks."""

    divisions: list[Division] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    acknowledge_days: int = 5
    respond_days: int = 10

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        """Build the catalog from the body of GET /api/catalog."""
        limits = data.get("time_limits") or {}
        catalog = cls(
            acknowledge_days=int(limits.get("acknowledge", 5)),
            respond_days=int(limits.get("respond_stage_1", 10)),
        )
        for division in data.get("divisions") or []:
            own = division.get("time_limits") or {}
            catalog.divisions.append(
                Division(
                    code=division["code"],
                    name=division["name"],
                    acknowledge_days=int(own.get("acknowledge", catalog.acknowledge_days)),
                    respond_days=int(own.get("respond_stage_1", catalog.respond_days)),
                    owner=division.get("owner"),
                    triage=bool(division.get("triage")),
                )
            )
            for service in division.get("services") or []:
                attributes = tuple(
                    Attribute(
                        code=attribute["code"],
                        question=attribute["description"],
                        required=bool(attribute.get("required")),
                        datatype=attribute.get("datatype", "string"),
                        values=tuple((value["key"], value["name"]) for value in attribute.get("values") or []),
                    )
                    for attribute in sorted(service.get("attributes") or [], key=lambda a: a.get("order") or 0)
                    if attribute.get("variable", True)
                )
                catalog.services.append(
                    Service(
                        code=service["service_code"],
                        name=service["service_name"],
                        division=division["code"],
                        keywords=tuple(service.get("keywords") or ()),
                        attributes=attributes,
                    )
                )
        return catalog

    def division(self, code_or_name: str | None) -> Division | None:
        """Return the division with this code or name (any case), or None."""
        if not code_or_name:
            return None
        wanted = code_or_name.strip().casefold()
        return next((d for d in self.divisions if wanted in (d.code.casefold(), d.name.casefold())), None)

    def service(self, code: str | None) -> Service | None:
        """Return the service with this code (any case), or None."""
        if not code:
            return None
        return next((s for s in self.services if s.code.casefold() == code.strip().casefold()), None)

    def guess_service(self, text: str) -> Service | None:
        """Return the service whose keywords the text matches best, or None when none or a tie.

        Each keyword found scores its number of words; a keyword that only names where the problem is or what
        it is in ("sidewalk", "green bin") scores half, so that what is wrong decides: a branch about to fall onto
        a sidewalk is a tree, a green bin whose wheel broke is a repair.
        """
        words = _WORD.findall(text.lower().replace("\u2019", "'"))
        scores: dict[str, float] = {}
        for service in self.services:
            for keyword in service.keywords:
                needle = _WORD.findall(keyword.lower())
                if needle and _contains(words, needle):
                    weight = 0.5 if all(word in CONTEXT_WORDS for word in needle) else 1.0
                    scores[service.code] = scores.get(service.code, 0.0) + weight * len(needle)
        if not scores:
            return None
        best = max(scores.values())
        leaders = [code for code, score in scores.items() if score == best]
        return self.service(leaders[0]) if len(leaders) == 1 else None

    def triage_division(self) -> Division | None:
        """Return the division that takes reports no service or team was found for, or None."""
        return next((d for d in self.divisions if d.triage), None)

    @property
    def offered_divisions(self) -> list[Division]:
        """Return the divisions a resident may pick from (the triage queue is not one)."""
        return [d for d in self.divisions if not d.triage]

    def division_menu(self) -> str:
        """Return the numbered list of divisions, one a line."""
        return "\n".join(f"{number} {d.name}" for number, d in enumerate(self.offered_divisions, start=1))

    def chosen_division(self, text: str) -> str | None:
        """Return the code of the division the resident chose (number, name or code), UNSURE, or None."""
        if is_unknown(text):
            return UNSURE
        offered = self.offered_divisions
        index = numbered_choice(text, len(offered))
        if index is None:
            names = [(d.name, d.code) + tuple(_short_names(d.name)) for d in offered]
            index = named_choice(text, names)
        return offered[index].code if index is not None else None

    def time_limits(self, division_code: str | None) -> tuple[int, int]:
        """Return (acknowledge, respond) in working days for a division, or the catalog-wide ones."""
        division = self.division(division_code)
        if division is None:
            return self.acknowledge_days, self.respond_days
        return division.acknowledge_days, division.respond_days


# Words that say where a problem is or what it is in, not what is wrong: alone they only half point to a service.
CONTEXT_WORDS = frozenset(
    """sidewalk footpath road street curb park lane boulevard driveway front lawn yard ravine trail garbage
    recycling green blue bin yard waste water tree trees branch""".split()
)


def _word_matches(said: str, keyword: str) -> bool:
    """Say whether a word of the message is the keyword's word, or its plural ("potholes", "benches", "bodies")."""
    if said == keyword or said in (keyword + "s", keyword + "es"):
        return True
    return keyword.endswith("y") and said == keyword[:-1] + "ies"


def _contains(words: list[str], needle: list[str]) -> bool:
    """Say whether the keyword's words appear one after another in the message's words."""
    size = len(needle)
    return any(
        all(_word_matches(words[start + i], needle[i]) for i in range(size)) for start in range(len(words) - size + 1)
    )


def _short_names(name: str) -> list[str]:
    """Return the distinctive words of a division's name ("Toronto Water" -> "water"), for matching answers."""
    common = {"toronto", "services", "service", "and", "&", "municipal", "management", "city"}
    return [word for word in _WORD.findall(name.lower()) if word not in common and len(word) > 3]


_cache: dict[str, Any] = {"catalog": None, "fetched": 0.0, "failed": 0.0}


async def load(settings: backend_client.BackendSettings | None = None) -> Catalog:
    """Return the catalog, fetched at most every few minutes; an empty one when the backend cannot be reached."""
    now = time.monotonic()
    cached: Catalog | None = _cache["catalog"]
    if cached is not None and now - _cache["fetched"] < CACHE_SECONDS:
        return cached
    if now - _cache["failed"] < RETRY_SECONDS:
        return cached or Catalog()
    try:
        data = await backend_client.get_catalog(settings=settings)
        catalog = Catalog.from_json(data)
    except (backend_client.BackendUnavailable, KeyError, TypeError, ValueError) as error:
        logger.warning("catalog not available: %s", error)
        _cache["failed"] = now
        return cached or Catalog()
    _cache.update(catalog=catalog, fetched=now, failed=0.0)
    return catalog


def forget() -> None:
    """Drop the cached catalog (for tests, and after the backend's catalog changes)."""
    _cache.update(catalog=None, fetched=0.0, failed=0.0)
