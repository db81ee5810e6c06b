"""app/security.py: strict integers, cross-origin write refusal, response headers (incl. HSTS)."""
from __future__ import annotations

import uuid

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from app import security
from app.security import HSTS, parse_positive_int

BAD_INTEGERS = ["²", "٥", "５", "1" * 5000, "9" * 19, "-1", "0", "", " ", " 5", "5 ", "+5", "0x10", "1_0",
                "1e2", "5.0", "05", "abc", "\x00", "501"]


@pytest.mark.parametrize("raw", BAD_INTEGERS)
def test_parse_positive_int_rejects_without_raising(raw):
    assert parse_positive_int(raw, 500) is None


@pytest.mark.parametrize("raw,value", [("1", 1), ("50", 50), ("500", 500)])
def test_parse_positive_int_accepts_plain_decimals(raw, value):
    assert parse_positive_int(raw, 500) == value


@given(st.text(max_size=30) | st.from_regex(r"\A[0-9]{1,25}\Z"))
def test_parse_positive_int_never_raises_and_is_exactly_plain_decimal_in_range(raw):
    got = parse_positive_int(raw, 500)
    plain = raw.isascii() and raw.isdigit() and not raw.startswith("0")
    assert got == (int(raw) if plain and 1 <= int(raw) <= 500 else None)


def test_api_limit_gets_one_clear_400_for_every_bad_value(client):
    for raw in BAD_INTEGERS:
        resp = client.get("/api/entries", query_string={"limit": raw})
        assert resp.status_code == 400, (raw[:10], resp.status_code)
        body = resp.get_json()
        assert body["field"] == "limit" and "'limit' must be an integer 1..500" in body["error"], raw[:10]
    assert client.get("/api/entries?limit=500").status_code == 200
    for added in ("9" * 5000, "99999999999", "²"):  # a bad highlight id is ignored, never sent to the DB
        assert client.get("/", query_string={"added": added}).status_code == 200, added[:10]


def test_a_json_body_nested_past_the_parser_is_a_400_naming_the_body(client):
    resp = client.post("/api/entries", data="[" * 8000 + "]" * 8000, content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["field"] == "body", resp.get_json()


@pytest.fixture(scope="module")
def tiny():
    """The hooks alone on a one-route app (no database): the decision table, fast."""
    app = Flask(__name__)
    security.install(app)
    app.add_url_rule("/", "w", lambda: "ok", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    return app.test_client()


@pytest.mark.parametrize("headers,allowed", [
    ({}, True),                                                      # not a browser (curl, SDK)
    ({"Sec-Fetch-Site": "same-origin"}, True),
    ({"Sec-Fetch-Site": "none"}, True),                              # the user's own navigation
    ({"Sec-Fetch-Site": "same-site"}, False),                        # a sibling subdomain
    ({"Sec-Fetch-Site": "cross-site"}, False),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"}, False),  # Sec-Fetch-Site wins
    ({"Sec-Fetch-Site": "bogus"}, False),
    ({"Origin": "http://localhost"}, True),                          # plain HTTP: only Origin is sent
    ({"Origin": "https://localhost"}, True),                         # scheme is not compared
    ({"Origin": "http://LOCALHOST"}, True),
    ({"Origin": "http://evil.example"}, False),
    ({"Origin": "http://localhost.evil.example"}, False),
    ({"Origin": "http://localhost:8080"}, False),                    # another port is another origin
    ({"Origin": "null"}, False),                                     # sandboxed frame, redirect chain
    ({"Origin": ""}, False),
])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_cross_origin_writes_are_refused(tiny, method, headers, allowed):
    resp = tiny.open("/", method=method, headers=headers)
    assert resp.status_code == (200 if allowed else 403), (method, headers)
    if not allowed:
        assert "cross-origin request refused" in resp.get_data(as_text=True)


def test_safe_methods_are_never_refused(tiny):
    for method in ("GET", "HEAD", "OPTIONS"):
        assert tiny.open("/", method=method, headers={"Sec-Fetch-Site": "cross-site",
                                                      "Origin": "http://evil.example"}).status_code == 200


@pytest.mark.parametrize("base,headers,hsts", [
    ("http://localhost", {}, False),
    ("https://localhost", {}, True),                                  # TLS to the app itself
    ("http://localhost", {"X-Forwarded-Proto": "https"}, True),       # TLS ended at the ALB
    ("http://localhost", {"X-Forwarded-Proto": "HTTPS"}, True),
    ("http://localhost", {"X-Forwarded-Proto": "http"}, False),       # the ALB's HTTP listener
    ("http://localhost", {"X-Forwarded-Proto": "https, http"}, False),  # the nearest proxy's value wins
    ("http://localhost", {"X-Forwarded-Proto": "httpsx"}, False),
])
def test_hsts_only_on_https(tiny, base, headers, hsts):
    resp = tiny.get("/", base_url=base, headers=headers)
    assert resp.headers.get("Strict-Transport-Security") == (HSTS if hsts else None), (base, headers)


def test_real_app_refuses_a_cross_site_form_and_api_post(client, server):
    name = f"csrf-{uuid.uuid4().hex[:10]}"
    form = client.post("/", data={"name": name, "address": "x"},
                       headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    api = client.post("/api/entries", json={"name": name, "address": "x"},
                      headers={"Origin": "https://evil.example"})
    assert (form.status_code, api.status_code) == (403, 403)
    assert "cross-origin request refused" in api.get_json()["error"]
    assert server.sql("SELECT COUNT(*) FROM entries WHERE name = %s", (name,), in_app_db=True)[0][0] == 0
    same = client.post("/", data={"name": name, "address": "x"},
                       headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 303


def test_real_app_sends_the_headers_on_every_kind_of_response(client):
    responses = {"page": client.get("/"), "api": client.get("/api/entries"),
                 "400": client.get("/api/entries?limit=x"), "404": client.get("/nope"),
                 "403": client.post("/", headers={"Origin": "null"}),
                 "https": client.get("/", headers={"X-Forwarded-Proto": "https"})}
    for kind, resp in responses.items():
        for name, value in security.HEADERS.items():
            assert resp.headers.get(name) == value, (kind, name)
        assert ("Strict-Transport-Security" in resp.headers) == (kind == "https"), kind
    assert responses["page"].headers["Referrer-Policy"] == "same-origin"  # keeps Origin on our own POSTs
