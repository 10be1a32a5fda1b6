"""Rate limits on the public Open311 reads, per client address, and which address a request counts against."""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from backend.clients import client_address, parse_networks
from backend.config import Settings
from backend.ratelimit import RateLimiter

BASE = "/open311/v2"
READS = ("services.json", "requests.json", "requests.xml", "services/TS-POTHOLE.json", "requests/S-2222222.json")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=3, clock=clock)  # a request every 10 s
    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire("a") == 10
    assert limiter.acquire("b") == 0  # another client has its own bucket
    clock.now += 4
    assert limiter.acquire("a") == 6
    clock.now += 6
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 10
    clock.now += 3600
    assert [limiter.acquire("a") for _ in range(4)] == [0, 0, 0, 10]  # never more than the burst


def test_a_bucket_at_zero_a_minute_lets_everything_through() -> None:
    limiter = RateLimiter(per_minute=0, burst=1)
    assert {limiter.acquire("a") for _ in range(100)} == {0}


def test_the_buckets_kept_are_bounded() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, max_addresses=100)
    for number in range(1000):
        limiter.acquire(f"10.0.{number // 256}.{number % 256}")
    assert len(limiter._buckets) == 100


def request_from(peer: str, forwarded: list[str] | None = None) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded or []]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 4000)})


PROXY = parse_networks(["10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "address"),
    [
        ("203.0.113.9", [], (), "203.0.113.9"),
        # Not configured to trust anyone: the header is the client's own words.
        ("203.0.113.9", ["198.51.100.1"], (), "203.0.113.9"),
        ("10.0.0.5", ["198.51.100.1"], (), "10.0.0.5"),
        # From a trusted proxy: the address the proxy added, not what the client wrote before it.
        ("10.0.0.5", ["198.51.100.1"], PROXY, "198.51.100.1"),
        ("10.0.0.5", ["1.2.3.4, 198.51.100.1"], PROXY, "198.51.100.1"),
        ("10.0.0.5", ["1.2.3.4", "198.51.100.1, 10.1.1.1"], PROXY, "198.51.100.1"),  # through two proxies
        ("10.0.0.5", ["1.2.3.4, not-an-address"], PROXY, "10.0.0.5"),
        ("10.0.0.5", [], PROXY, "10.0.0.5"),
        # A proxy's header from a peer that is no proxy proves nothing.
        ("203.0.113.9", ["198.51.100.1"], PROXY, "203.0.113.9"),
        # IPv6 clients count by their /64; IPv4 in IPv6 as IPv4.
        ("2001:db8:1:2:aaaa::1", [], (), "2001:db8:1:2::/64"),
        ("fd00::5", ["2001:db8:1:2:bbbb::7"], PROXY, "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", [], (), "203.0.113.9"),
        ("testclient", [], PROXY, "testclient"),
    ],
)
def test_the_client_address(
    peer: str, forwarded: list[str], trusted: tuple[ipaddress.IPv4Network, ...], address: str
) -> None:
    assert client_address(request_from(peer, forwarded), trusted) == address


def test_trusted_proxies_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "INTAKE_TRUSTED_PROXIES": " 10.0.0.5, fd00::/8 ,",
            "INTAKE_OPEN311_READS_PER_MINUTE": "30",
            "INTAKE_OPEN311_READ_BURST": "5",
        }
    )
    assert settings.trusted_proxies == (ipaddress.ip_network("10.0.0.5/32"), ipaddress.ip_network("fd00::/8"))
    assert (settings.open311_reads_per_minute, settings.open311_read_burst) == (30, 5)
    defaults = Settings.from_env({})
    assert (defaults.trusted_proxies, defaults.open311_reads_per_minute, defaults.open311_read_burst) == ((), 60, 20)
    with pytest.raises(ValueError, match="'proxy.internal' is not an IP address"):
        Settings.from_env({"INTAKE_TRUSTED_PROXIES": "proxy.internal"})


def test_public_reads_get_429_with_retry_after_past_the_limit(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(open311_reads_per_minute=2, open311_read_burst=len(READS))
    # The app's limiter, on a clock that stands still while the test runs.
    app.state.open311_read_limiter = RateLimiter(per_minute=2, burst=len(READS), clock=Clock())
    client = TestClient(app, client=("203.0.113.9", 4000))
    for path in READS:  # every read counts, whatever it asks for and whatever it answers
        assert client.get(f"{BASE}/{path}").status_code in (200, 404), path
    refused = client.get(f"{BASE}/requests.json")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert refused.json() == [
        {"code": 429, "description": "Too many requests from your address. Please wait 30 seconds and try again."}
    ]
    refused_xml = client.get(f"{BASE}/requests.xml")
    assert refused_xml.status_code == 429 and refused_xml.headers["retry-after"] == "30"
    assert ET.fromstring(refused_xml.content).findtext("error/code") == "429"
    # Another address still reads; writing is not a public read.
    assert TestClient(app, client=("198.51.100.1", 4000)).get(f"{BASE}/requests.json").status_code == 200
    assert client.post(f"{BASE}/requests.json", data={"service_code": "x"}).status_code == 403


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(make_app: Callable[..., FastAPI]) -> None:
    untrusting = make_app(open311_reads_per_minute=1, open311_read_burst=1)
    client = TestClient(untrusting, client=("10.0.0.5", 4000))
    assert client.get(f"{BASE}/services.json", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    # A client cannot get a fresh bucket by writing another address.
    assert client.get(f"{BASE}/services.json", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 429

    trusting = make_app(open311_reads_per_minute=1, open311_read_burst=1, trusted_proxies=PROXY)
    proxy = TestClient(trusting, client=("10.0.0.5", 4000))
    assert proxy.get(f"{BASE}/services.json", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert proxy.get(f"{BASE}/services.json", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200
    assert proxy.get(f"{BASE}/services.json", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
