"""Open311 GeoReport v2: services, service definitions, creating and reading requests in JSON and XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from backend_testing import ACTIONS, OPEN311_API_KEY, STAFF, both_databases, case_body
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update
from staff_testing import (  # noqa: F401  (the underscored names are autouse fixtures)
    _empty_staff_tables,
    _quick_password_hashing,
    new_case,
    post_form,
    signed_in,
)

from backend.cases.deadlines import Limit, ServiceLevels
from backend.cases.enums import CaseKind, CaseStatus
from backend.cases.models import Case
from backend.catalog.loader import load_catalog
from backend.config import DEFAULT_CATALOG_PATH, DEFAULT_SERVICE_LEVELS_PATH
from backend.database import migrate
from backend.database.core import create_db_engine
from backend.open311.service import STATUS_NOTES
from backend.staff.permissions import Role

BASE = "/open311/v2"
PERSONAL = ("first_name", "last_name", "phone", "email", "sender_id", "transcript", "details", "contact")
CONTACT = {"email": "resident@example.org", "first_name": "Ada", "last_name": "Lovelace", "phone": "416-555-0199"}


def request_form(**changes: Any) -> dict[str, Any]:
    """Return valid form fields for POST requests.json with `changes` applied (a value of ... removes the field)."""
    form: dict[str, Any] = {
        "api_key": OPEN311_API_KEY,
        "service_code": "TS-POTHOLE",
        "address_string": "100 Queen St W",
        "description": "Deep pothole in the curb lane.",
        "attribute[lane_position]": "curb_lane",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not ...}


def post(client: TestClient, fmt: str = "json", **changes: Any) -> Any:
    """POST a request and return the response."""
    return client.post(f"{BASE}/requests.{fmt}", data=request_form(**changes))


def assert_no_personal_data(text: str) -> None:
    """Fail when a contact detail or a personal field name shows in a public answer."""
    for value in (*CONTACT.values(), "conversation-1"):
        assert value not in text
    for name in PERSONAL:
        assert f'"{name}"' not in text and f"<{name}>" not in text


def xml_errors(response: Any) -> list[tuple[str, str]]:
    """Return the (code, description) pairs of an XML error answer."""
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    return [(error.findtext("code") or "", error.findtext("description") or "") for error in root]


# Services


def test_services_json_lists_the_catalog(client: TestClient) -> None:
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    services = {service["service_code"]: service for service in response.json()}
    pothole = services["TS-POTHOLE"]
    assert pothole == {
        "service_code": "TS-POTHOLE",
        "service_name": "Pothole",
        "description": "A pothole on a road, lane or bike lane.",
        "metadata": True,
        "type": "realtime",
        "keywords": "pothole,hole in the road,road damage,crater,asphalt,sunken,sinkhole,broken up road",
        "group": "Roads",
    }
    assert services["TS-STREETLIGHT"]["metadata"] is False


def test_services_xml_lists_the_catalog(client: TestClient) -> None:
    response = client.get(f"{BASE}/services.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "services"
    pothole = next(item for item in root.findall("service") if item.findtext("service_code") == "TS-POTHOLE")
    assert pothole.findtext("metadata") == "true"
    assert pothole.findtext("type") == "realtime"
    assert pothole.findtext("group") == "Roads"


def test_service_definition_json_and_xml(client: TestClient) -> None:
    response = client.get(f"{BASE}/services/TW-WATER-MAIN-BREAK.json")
    assert response.status_code == 200
    definition = response.json()
    assert definition["service_code"] == "TW-WATER-MAIN-BREAK"
    (attribute,) = definition["attributes"]
    assert attribute == {
        "variable": True,
        "code": "water_running",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "Is water still running now?",
        "values": [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}],
    }
    root = ET.fromstring(client.get(f"{BASE}/services/TW-WATER-MAIN-BREAK.xml").content)
    assert root.tag == "service_definition"
    xml_attribute = root.find("attributes/attribute")
    assert xml_attribute is not None
    assert xml_attribute.findtext("required") == "true"
    assert [value.findtext("key") for value in xml_attribute.findall("values/value")] == ["yes", "no"]


def test_unknown_service_and_unknown_format_are_404(client: TestClient) -> None:
    response = client.get(f"{BASE}/services/NOPE.json")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404
    response = client.get(f"{BASE}/services/NOPE.xml")
    assert response.status_code == 404
    assert xml_errors(response)[0][0] == "404"
    for path in ("services.csv", "services", "requests.html", "services/TS-POTHOLE.yaml", "requests/S-2222222.txt"):
        assert client.get(f"{BASE}/{path}").status_code == 404, path
    assert client.post(f"{BASE}/requests.csv", data=request_form()).status_code == 404


# Creating requests


@both_databases
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_creates_a_case_visible_to_staff(client: TestClient, fmt: str) -> None:
    response = post(client, fmt, **CONTACT)
    assert response.status_code == 201
    if fmt == "json":
        (answer,) = response.json()
        assert answer["account_id"] is None and answer["service_notice"]
        reference = answer["service_request_id"]
    else:
        root = ET.fromstring(response.content)
        assert root.tag == "service_requests"
        reference = root.findtext("request/service_request_id")
        assert root.findtext("request/account_id") == ""
    case = client.get(f"/api/cases/{reference}", headers=STAFF).json()
    assert case["kind"] == "service_request"
    assert case["channel"] == "open311"
    assert case["division"] == "TS"
    assert case["service_code"] == "TS-POTHOLE"
    assert case["location"] == "100 Queen St W"
    assert case["details"]["contact"] == CONTACT
    assert case["details"]["open311"]["attributes"] == {"lane_position": "curb_lane"}


def test_post_with_lat_long_only(client: TestClient) -> None:
    response = post(client, address_string=..., lat="43.6532", long="-79.3832")
    assert response.status_code == 201
    reference = response.json()[0]["service_request_id"]
    (public,) = client.get(f"{BASE}/requests/{reference}.json").json()
    # Published to about a block (3 decimals, some 100 m), like an address.
    assert (public["lat"], public["long"], public["address"]) == (43.653, -79.383, None)


@pytest.mark.parametrize("api_key", [..., "", "wrong-key", OPEN311_API_KEY + "x", "é"])
def test_a_missing_or_wrong_api_key_is_403(client: TestClient, count_cases: Callable[[], int], api_key: Any) -> None:
    response = post(client, api_key=api_key)
    assert response.status_code == 403
    assert response.json()[0]["code"] == 403
    response = post(client, "xml", api_key=api_key)
    assert response.status_code == 403
    assert xml_errors(response)[0][0] == "403"
    assert count_cases() == 0


def test_no_configured_key_refuses_every_post(make_app: Callable[..., FastAPI], count_cases: Callable[[], int]) -> None:
    client = TestClient(make_app(open311_api_keys=()))
    assert post(client).status_code == 403
    assert post(client, api_key="").status_code == 403
    assert count_cases() == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"address_string": ...}, "location is required"),
        ({"address_string": ..., "lat": "91", "long": "0"}, "lat must be between"),
        ({"address_string": ..., "lat": "north", "long": "0"}, "lat must be a number"),
        ({"address_string": ..., "lat": "45"}, "together"),
        ({"lat": "45", "long": "-181"}, "long must be between"),
        ({"lat": "nan", "long": "0"}, "finite"),
        ({"description": "x" * 4001}, "at most 4000"),
        ({"service_code": ...}, "service_code is required"),
        ({"service_code": "NOPE"}, "Unknown service_code"),
        ({"service_code": "TW-WATER-MAIN-BREAK", "attribute[lane_position]": ...}, "attribute[water_running]"),
        ({"attribute[lane_position]": "sky"}, "must be one of"),
        ({"attribute[colour]": "red"}, "no attribute"),
        ({"address_string": "x" * 501}, "address_string must be at most"),
        ({"phone": "1" * 51}, "phone must be at most"),
        ({"description": "nul \x00 here"}, "NUL"),
    ],
)
def test_invalid_requests_are_400_and_create_nothing(
    client: TestClient, count_cases: Callable[[], int], changes: dict[str, Any], message: str
) -> None:
    response = post(client, **changes)
    assert response.status_code == 400, response.text
    (error,) = response.json()
    assert error["code"] == 400 and message in error["description"]
    xml_response = post(client, "xml", **changes)
    assert xml_response.status_code == 400
    ((code, description),) = xml_errors(xml_response)
    assert code == "400" and message in description
    assert count_cases() == 0


def test_a_description_of_4000_characters_is_accepted(client: TestClient) -> None:
    assert post(client, description="x" * 4000).status_code == 201


def test_missing_description_uses_the_service_name(client: TestClient) -> None:
    response = post(client, description=...)
    assert response.status_code == 201
    (public,) = client.get(f"{BASE}/requests/{response.json()[0]['service_request_id']}.json").json()
    assert public["description"] == "Pothole"


# Reading requests


@both_databases
def test_requests_json_shows_public_fields_only(client: TestClient) -> None:
    reference = post(client, **CONTACT).json()[0]["service_request_id"]
    response = client.get(f"{BASE}/requests.json")
    assert response.status_code == 200
    (public,) = response.json()
    assert set(public) == {
        "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
        "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
        "address", "lat", "long", "media_url",
    }  # fmt: skip
    assert public["service_request_id"] == reference
    assert public["status"] == "open"
    assert public["status_notes"] == "Received. Staff have not reviewed it yet."
    assert public["service_name"] == "Pothole"
    assert public["agency_responsible"] == "Transportation Services"
    assert public["description"] == "Deep pothole in the curb lane."
    assert public["address"] == "100 block of Queen St W"
    requested = datetime.fromisoformat(public["requested_datetime"])
    assert requested.tzinfo is not None
    assert datetime.fromisoformat(public["expected_datetime"]) == respond_due(requested, division="TS")
    assert_no_personal_data(response.text)
    single = client.get(f"{BASE}/requests/{reference}.json")
    assert single.json() == [public]
    assert_no_personal_data(single.text)


def test_requests_xml_shows_public_fields_only(client: TestClient) -> None:
    reference = post(client, **CONTACT, description="Pipes & <valves> \x01 here").json()[0]["service_request_id"]
    for path in ("requests.xml", f"requests/{reference}.xml"):
        response = client.get(f"{BASE}/{path}")
        assert response.status_code == 200
        assert_no_personal_data(response.text)
        root = ET.fromstring(response.content)
        assert root.tag == "service_requests"
        (item,) = root.findall("request")
        assert item.findtext("service_request_id") == reference
        assert item.findtext("description") == "Pipes & <valves>  here"
        assert item.findtext("agency_responsible") == "Transportation Services"


@both_databases
def test_an_assistant_case_appears_in_requests(client: TestClient) -> None:
    body = case_body(service_code="SWMS-MISSED-PICKUP", details={"phone": "416-555-0199"}, public_consent=True)
    created = client.post("/api/cases", json=body, headers=ACTIONS)
    assert created.status_code == 201
    reference = created.json()["reference"]
    response = client.get(f"{BASE}/requests.json")
    (public,) = response.json()
    assert public["service_request_id"] == reference
    assert public["description"] == "The garbage wasn't picked up on my street this morning."
    assert public["address"] == "0 block of Elm St"
    assert public["agency_responsible"] == "Solid Waste Management Services"
    assert_no_personal_data(response.text)
    # Complaints and compliments are not service requests.
    client.post("/api/cases", json=case_body(kind="complaint", public_consent=True), headers=ACTIONS)
    assert len(client.get(f"{BASE}/requests.json").json()) == 1


# What a resident's report publishes

RESIDENT_WORDS = (
    "My name is Ada Lovelace, I live at 12 Elm St apt 3. Call 416-555-0199 or ada@example.org: "
    "the garbage wasn't picked up."
)
RESIDENT_PLACE = "12 Elm St, Apt 3, M5V 2T6"
# Nothing of these may reach the public feed.
RESIDENT_DETAILS = ("Ada", "Lovelace", "12 Elm", "apt 3", "Apt 3", "416-555-0199", "ada@example.org", "M5V 2T6")


def read_everywhere(client: TestClient, reference: str) -> list[tuple[str, dict[str, Any]]]:
    """Return the request as every public read shows it: in the list and alone, in JSON and XML (as text)."""
    shown = []
    for path in ("requests.json", f"requests/{reference}.json"):
        response = client.get(f"{BASE}/{path}")
        assert response.status_code == 200
        (item,) = [item for item in response.json() if item["service_request_id"] == reference]
        shown.append((response.text, item))
    for path in ("requests.xml", f"requests/{reference}.xml"):
        response = client.get(f"{BASE}/{path}")
        assert response.status_code == 200
        element = next(e for e in ET.fromstring(response.content) if e.findtext("service_request_id") == reference)
        shown.append((response.text, {child.tag: child.text for child in element}))
    return shown


@both_databases
@pytest.mark.parametrize("channel", ["web", "sms", "telegram", "rest"])
def test_without_consent_a_report_shows_only_its_service_status_and_dates(client: TestClient, channel: str) -> None:
    body = case_body(
        description=RESIDENT_WORDS,
        location=RESIDENT_PLACE,
        channel=channel,
        sender_id="+14165550199",
        service_code="SWMS-MISSED-PICKUP",
        details={"phone": "416-555-0199"},
    )
    reference = client.post("/api/cases", json=body, headers=ACTIONS).json()["reference"]
    assert client.get(f"/api/cases/{reference}", headers=STAFF).json()["public_consent"] is False
    for shown, item in read_everywhere(client, reference):
        for detail in (*RESIDENT_DETAILS, "garbage", "+14165550199"):
            assert detail not in shown
        assert_no_personal_data(shown)
        assert item["service_code"] == "SWMS-MISSED-PICKUP"
        assert item["service_name"] == "Missed collection"
        assert item["status"] == "open" and item["status_notes"] == STATUS_NOTES[CaseStatus.NEW]
        for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert datetime.fromisoformat(str(item[field])).tzinfo is not None, field
        for field in ("description", "address", "lat", "long"):
            assert item[field] in (None, ""), field  # XML shows an empty element


@both_databases
def test_with_consent_a_report_is_published_without_personal_details(client: TestClient) -> None:
    body = case_body(
        description=RESIDENT_WORDS,
        location=RESIDENT_PLACE,
        channel="sms",
        public_consent=True,
        service_code="SWMS-MISSED-PICKUP",
    )
    reference = client.post("/api/cases", json=body, headers=ACTIONS).json()["reference"]
    assert client.get(f"/api/cases/{reference}", headers=STAFF).json()["public_consent"] is True
    for shown, item in read_everywhere(client, reference):
        for detail in RESIDENT_DETAILS:
            assert detail not in shown
        assert item["description"] == (
            "My name is [name], I live at 0 block of Elm St. Call [phone] or [email]: the garbage wasn't picked up."
        )
        assert item["address"] == "0 block of Elm St"


@both_databases
def test_status_notes_never_carry_what_staff_wrote(app: FastAPI, client: TestClient) -> None:
    staff, _ = signed_in(app, Role.AGENT)
    reference = new_case(staff, service_code="TS-POTHOLE", public_consent=True)
    assert "and place with personal details removed" in staff.get(f"/staff/cases/{reference}").text
    seen = {STATUS_NOTES[CaseStatus.NEW]}
    private = "Called Ada Lovelace on 416-555-0199"
    for action, data in (
        ("acknowledge", {"text": private}),
        ("note", {"text": private}),
        ("resolve", {"summary": private}),
        ("close", {"text": private}),
    ):
        assert post_form(staff, f"/staff/cases/{reference}/{action}", data).status_code == 303, action
        for shown, item in read_everywhere(client, reference):
            assert "Ada" not in shown and "416-555-0199" not in shown
            assert item["status_notes"] in STATUS_NOTES.values()
            seen.add(str(item["status_notes"]))
    assert seen == {
        STATUS_NOTES[status]
        for status in (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED, CaseStatus.CLOSED)
    }


def test_public_consent_is_optional_false_by_default_and_a_boolean(client: TestClient) -> None:
    for given, stored in ((..., False), (False, False), (True, True)):
        created = client.post("/api/cases", json=case_body(public_consent=given), headers=ACTIONS)
        assert created.status_code == 201
        assert client.get(f"/api/cases/{created.json()['reference']}", headers=STAFF).json()["public_consent"] is stored
    refused = client.post("/api/cases", json=case_body(public_consent="perhaps"), headers=ACTIONS)
    assert refused.status_code == 422


def test_a_retry_without_the_consent_field_is_still_a_replay(client: TestClient) -> None:
    key = {"Idempotency-Key": "retry-across-the-upgrade", **ACTIONS}
    first = client.post("/api/cases", json=case_body(), headers=key)
    assert first.status_code == 201
    again = client.post("/api/cases", json=case_body(public_consent=False), headers=key)
    assert again.status_code == 200 and again.json()["reference"] == first.json()["reference"]
    assert client.post("/api/cases", json=case_body(public_consent=True), headers=key).status_code == 409


def test_an_open311_client_publishes_by_design(client: TestClient) -> None:
    reference = post(client, description="Pothole outside 45 Elm St, call 416-555-0199").json()[0]["service_request_id"]
    assert client.get(f"/api/cases/{reference}", headers=STAFF).json()["public_consent"] is True
    (public,) = client.get(f"{BASE}/requests/{reference}.json").json()
    assert public["description"] == "Pothole outside 0 block of Elm St, call [phone]"


def test_the_migration_publishes_only_what_open311_clients_sent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    migrate.upgrade(url, "0003")
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            for reference, channel in (("S-2222222", "open311"), ("S-3333333", "sms"), ("S-4444444", "web")):
                connection.execute(
                    text(
                        "INSERT INTO cases (reference, kind, status, description, channel, sender_id, details, "
                        "created_at, updated_at, stage, phone_guesses) VALUES (:reference, 'service_request', "
                        "'new', 'words', :channel, 'someone', '{}', :now, :now, 1, 0)"
                    ),
                    {"reference": reference, "channel": channel, "now": datetime.now(timezone.utc)},
                )
        migrate.upgrade(url)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT channel, public_consent FROM cases ORDER BY reference"))
            assert [(channel, bool(consent)) for channel, consent in rows] == [
                ("open311", True),
                ("sms", False),
                ("web", False),
            ]
    finally:
        engine.dispose()


@both_databases
def test_request_filters(client: TestClient, engine: Engine) -> None:
    first = post(client).json()[0]["service_request_id"]
    second = post(client, service_code="TS-STREETLIGHT", **{"attribute[lane_position]": ...}).json()[0][
        "service_request_id"
    ]
    old = post(client).json()[0]["service_request_id"]
    long_ago = datetime.now(timezone.utc) - timedelta(days=200)
    with engine.begin() as connection:
        connection.execute(update(Case).where(Case.reference == old).values(created_at=long_ago))
        connection.execute(update(Case).where(Case.reference == second).values(status=CaseStatus.RESOLVED))

    def ids(**params: str) -> list[str]:
        response = client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [item["service_request_id"] for item in response.json()]

    assert ids() == [second, first]
    assert ids(service_code="TS-STREETLIGHT") == [second]
    assert ids(status="closed") == [second]
    assert ids(status="open") == [first]
    assert ids(service_request_id=f"{old},{first}, nonsense") == [first, old]
    start = (long_ago - timedelta(days=1)).isoformat()
    assert ids(start_date=start) == [old]
    assert ids(end_date=(long_ago + timedelta(days=1)).isoformat().replace("+00:00", "Z")) == [old]
    (closed,) = client.get(f"{BASE}/requests.json", params={"status": "closed"}).json()
    assert closed["status"] == "closed"


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
        {"start_date": "yesterday"},
        {"status": "pending"},
    ],
)
def test_bad_request_filters_are_400(client: TestClient, params: dict[str, str]) -> None:
    response = client.get(f"{BASE}/requests.json", params=params)
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400
    response = client.get(f"{BASE}/requests.xml", params=params)
    assert response.status_code == 400
    assert xml_errors(response)[0][0] == "400"


def test_an_unknown_request_is_404(client: TestClient) -> None:
    complaint = client.post("/api/cases", json=case_body(kind="complaint"), headers=ACTIONS).json()["reference"]
    for request_id in ("S-2222222", "nonsense", complaint):
        assert client.get(f"{BASE}/requests/{request_id}.json").status_code == 404
        response = client.get(f"{BASE}/requests/{request_id}.xml")
        assert response.status_code == 404
        assert xml_errors(response)[0][0] == "404"


def respond_due(requested: datetime, *, division: str, catalog: Any = None) -> datetime:
    """Return when a service request made at `requested` is due for its first response, holidays counted."""
    catalog = catalog or load_catalog(DEFAULT_CATALOG_PATH)
    levels = ServiceLevels.load(DEFAULT_SERVICE_LEVELS_PATH, catalog)
    return levels.due(Limit.RESPOND_STAGE_1, kind=CaseKind.SERVICE_REQUEST, division=division, start=requested)


# Onboarding by configuration


@both_databases
def test_a_division_added_to_the_catalog_file_is_served_everywhere(
    tmp_path: Path, make_app: Callable[..., FastAPI]
) -> None:
    catalog = (
        DEFAULT_CATALOG_PATH.read_text(encoding="utf-8")
        + """
  - code: LIB
    name: Toronto Public Library
    time_limits: {respond_stage_1: 3}
    services:
      - service_code: LIB-BOOK-DROP
        service_name: Book drop full
        description: An outdoor book drop that is full or jammed.
        keywords: [book drop, library return]
        group: Libraries
        attributes:
          - code: branch
            datatype: string
            required: true
            description: Which branch?
"""
    )
    path = tmp_path / "catalog.yml"
    path.write_text(catalog, encoding="utf-8")
    client = TestClient(make_app(catalog_path=path))

    divisions = client.get("/api/catalog").json()["divisions"]
    assert "LIB-BOOK-DROP" in {service["service_code"] for division in divisions for service in division["services"]}
    services = {service["service_code"]: service for service in client.get(f"{BASE}/services.json").json()}
    assert services["LIB-BOOK-DROP"]["metadata"] is True
    definition = client.get(f"{BASE}/services/LIB-BOOK-DROP.json").json()
    assert definition["attributes"][0]["code"] == "branch"

    form = request_form(service_code="LIB-BOOK-DROP", **{"attribute[lane_position]": ..., "attribute[branch]": ""})
    assert client.post(f"{BASE}/requests.json", data=form).status_code == 400
    form["attribute[branch]"] = "Lillian H. Smith"
    response = client.post(f"{BASE}/requests.json", data=form)
    assert response.status_code == 201, response.text
    reference = response.json()[0]["service_request_id"]
    (public,) = client.get(f"{BASE}/requests/{reference}.json").json()
    assert public["agency_responsible"] == "Toronto Public Library"
    requested = datetime.fromisoformat(public["requested_datetime"])
    assert datetime.fromisoformat(public["expected_datetime"]) == respond_due(
        requested, division="LIB", catalog=load_catalog(path)
    )
    assert client.get(f"/api/cases/{reference}", headers=STAFF).json()["division"] == "LIB"
