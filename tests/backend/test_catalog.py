"""The division catalog: the shipped file, its lookups and how a broken file is reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.catalog.loader import CatalogError, load_catalog
from backend.config import DEFAULT_CATALOG_PATH, Settings
from backend.main import create_app

REQUIRED_DIVISIONS = {
    "Toronto Water",
    "Transportation Services",
    "Urban Forestry",
    "Municipal Licensing & Standards",
    "Solid Waste Management Services",
    "Parks, Forestry & Recreation",
    "311 Toronto",
}

VALID = """\
time_limits:
  acknowledge: 5
divisions:
  - code: TW
    name: Toronto Water
    services:
      - service_code: TW-1
        service_name: Water main break
        description: Water coming up from the road.
        group: Water
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalog_loads_with_every_required_division() -> None:
    catalog = load_catalog(DEFAULT_CATALOG_PATH)
    assert REQUIRED_DIVISIONS <= {division.name for division in catalog.divisions}
    for division in catalog.divisions:
        assert division.services, division.code
        assert division.time_limits.acknowledge == 5


def test_default_time_limits_and_a_division_override() -> None:
    catalog = load_catalog(DEFAULT_CATALOG_PATH)
    water = catalog.find_division("TW")
    waste = catalog.find_division("solid waste management services")
    assert water is not None and waste is not None
    assert (water.time_limits.acknowledge, water.time_limits.respond_stage_1, water.time_limits.respond_stage_2) == (
        5,
        10,
        20,
    )
    assert waste.time_limits.respond_stage_1 == 7
    assert waste.time_limits.respond_stage_2 == 20


def test_services_are_found_by_code_with_their_division() -> None:
    catalog = load_catalog(DEFAULT_CATALOG_PATH)
    found = catalog.find_service("swms-missed-pickup")
    assert found is not None
    service, division = found
    assert service.service_code == "SWMS-MISSED-PICKUP"
    assert division.code == "SWMS"
    assert {attribute.datatype.value for attribute in service.attributes} == {"multivaluelist", "datetime"}
    assert catalog.find_service("NOPE") is None
    assert catalog.find_division("Nowhere") is None


def test_a_valid_small_catalog_loads(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, VALID))
    assert catalog.divisions[0].services[0].keywords == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # A missing field is reported at the service's first line.
        (VALID.replace("        service_name: Water main break\n", ""), 7, "service_name"),
        # A wrong type is reported at its own line.
        (VALID.replace("acknowledge: 5", "acknowledge: soon"), 2, "acknowledge"),
        # A typo in a key is an unknown field.
        (VALID.replace("group: Water", "gruop: Water"), 10, "gruop"),
        # A list attribute without values.
        (
            VALID + "        attributes:\n          - code: a\n            datatype: singlevaluelist\n"
            "            description: Which?\n",
            12,
            "needs values",
        ),
        # YAML syntax.
        (VALID.replace("name: Toronto Water", "name: [Toronto Water"), 5, "invalid YAML"),
        # A key given twice.
        (VALID.replace("    name: Toronto Water\n", "    name: Toronto Water\n    name: Water\n"), 6, "duplicate key"),
        # A key that is a list.
        (VALID.replace("  acknowledge: 5", "  ? [a, b]\n  : 5"), 2, "unhashable key"),
        # A service code used twice.
        (
            VALID + "      - service_code: tw-1\n        service_name: Again\n        description: Again.\n"
            "        group: Water\n",
            11,
            "already used",
        ),
    ],
)
def test_a_broken_catalog_is_refused_with_the_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as raised:
        load_catalog(path)
    message = str(raised.value)
    assert str(path) in message
    assert f"line {line}" in message
    assert words in message


def test_an_empty_or_missing_catalog_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="empty"):
        load_catalog(write(tmp_path, "# nothing\n"))
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "missing.yml")


def test_the_app_does_not_start_with_a_broken_catalog(tmp_path: Path, settings: Settings) -> None:
    path = write(tmp_path, VALID.replace("code: TW", "code: [TW"))
    with pytest.raises(CatalogError, match=r"line 4"):
        create_app(replace(settings, catalog_path=path))


def test_catalog_endpoint_is_public(client: TestClient) -> None:
    response = client.get("/api/catalog")
    assert response.status_code == 200
    body = response.json()
    names = {division["name"] for division in body["divisions"]}
    assert REQUIRED_DIVISIONS <= names
    water = next(division for division in body["divisions"] if division["code"] == "TW")
    assert water["time_limits"] == {"acknowledge": 5, "respond_stage_1": 10, "respond_stage_2": 20}
    service = water["services"][0]
    assert {"service_code", "service_name", "description", "keywords", "group", "attributes"} <= set(service)
