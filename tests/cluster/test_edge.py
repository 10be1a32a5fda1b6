"""The production profile's edge: request size limits at every server, Rasa's HTTP API only behind its token and
never on the public listener, the action servers on the loopback answering Rasa's secret only, TLS with HSTS and
Secure staff cookies, and one address limited however many conversations it claims to be."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest
from live import cases_of, forged_action_call, listening_addresses, wait_until


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (ConnectionError, urllib.error.URLError):  # a server may close the connection on a body it refuses
        return 413


def message(size: int, sender: str = "cluster-edge") -> bytes:
    return json.dumps({"sender": sender, "message": "x" * size}).encode()


def test_request_bodies_are_limited_at_every_server(cluster):
    assert post(f"{cluster.rasa_url}/webhooks/rest/webhook", message(100)) == 200
    assert post(f"{cluster.rasa_url}/webhooks/rest/webhook", message(70_000)) == 413  # nginx, public: 64 KB
    assert post(f"{cluster.rasa_url}/api/cases", message(70_000)) == 413
    big = message(9 * 2**20)  # over the 8 MB that Rasa and the action servers take (deploy/production.env)
    assert post(f"http://{cluster.host}:{cluster.rasa_ports[0]}/webhooks/rest/webhook", big) == 413
    assert post(f"http://{cluster.host}:{cluster.action_ports[0]}/webhook", big) == 413
    assert post(f"{cluster.backend_url}/api/cases", message(70_000)) == 413


@pytest.mark.parametrize("path", ["/conversations/cluster-edge/tracker", "/status", "/version"])
def test_rasas_api_is_not_on_the_public_listener(cluster, path):
    request = urllib.request.Request(f"{cluster.rasa_url}{path}")
    with pytest.raises(urllib.error.HTTPError) as refused:  # it is the backend that answers there
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code in (401, 404)


def test_rasas_api_needs_the_token(cluster):
    url = f"{cluster.api_url}/conversations/cluster-edge/tracker"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)
    assert refused.value.code == 401
    token = cluster.environment()["INTAKE_RASA_TOKEN"]
    with urllib.request.urlopen(f"{url}?token={urllib.request.quote(token)}", timeout=30) as response:
        assert response.status == 200


def test_the_action_servers_are_on_the_loopback_and_answer_only_rasas_secret(cluster):
    for port in [*cluster.action_ports, cluster.actions_port]:  # each server, and nginx's listener for them
        assert listening_addresses(port) == {"127.0.0.1"}, port
    forged = json.dumps(forged_action_call("cluster-forged", {"description": "Bin not emptied"})).encode()
    for port in [*cluster.action_ports, cluster.actions_port]:
        assert post(f"http://127.0.0.1:{port}/webhook", forged) == 401
        assert post(f"http://127.0.0.1:{port}/webhook", forged, {"X-Intake-Actions-Secret": "guess"}) == 401
    assert cases_of(cluster, "cluster-forged") == []


def headers_of(url: str, context: ssl.SSLContext | None = None) -> dict[str, list]:
    with urllib.request.urlopen(url, timeout=30, context=context) as response:
        assert response.status == 200
        return {name.lower(): response.headers.get_all(name) for name in response.headers.keys()}


def test_over_tls_nginx_sends_hsts_and_staff_cookies_are_secure(cluster):
    trusted = ssl.create_default_context(cafile=str(cluster.tls_dir / "cert.pem"))
    over_tls = headers_of(f"{cluster.public_tls_url}/staff/sign-in", trusted)
    assert over_tls["strict-transport-security"] == ["max-age=31536000; includeSubDomains"]
    [cookie] = over_tls["set-cookie"]
    assert "; secure" in cookie.lower(), cookie
    assert "strict-transport-security" in headers_of(f"{cluster.public_tls_url}/", trusted)
    # Plain HTTP (the loopback only here): no HSTS, which browsers ignore there anyway, and no Secure cookie, which
    # they would never send back.
    plain = headers_of(f"{cluster.rasa_url}/staff/sign-in")
    assert "strict-transport-security" not in plain
    assert "; secure" not in plain["set-cookie"][0].lower()


def test_one_address_is_limited_at_nginx_whatever_conversations_it_names(cluster):
    url = f"{cluster.rasa_url}/webhooks/web/webhook"
    statuses = [post(url, message(5, sender=f"cluster-edge-{n}")) for n in range(120)]
    assert statuses.count(429) > 0 and statuses[0] == 200  # 300 a minute, in bursts of 75 (deploy/production.env)
    assert set(statuses) <= {200, 429}
    # The bucket empties again at five requests a second; leave it empty for the other tests.
    wait_until(lambda: post(url, message(5)) == 200, timeout=60, every=2)
