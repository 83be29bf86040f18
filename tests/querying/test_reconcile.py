"""Reconciliation: every response checked field by field as OpenRefine 3.x reads it
(Reconciliation Service API 0.2), against a real server on a loopback port and in process."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from _ldserver import running_server
from tieslod.api import app as create_app
from tieslod.cli import app as cli
from tieslod.config import Settings
from tieslod.querying.reconcile import Entity, normalize, preview_html

ID_SPACE = "https://w3id.org/tieslod/id/"
EXPECTED = {"Nate Smith": "nathan-smith", "Anti-Globalist Movement": "anti-globalization-movement-of-russia",
            "TWP": "traditionalist-worker-party"}


@pytest.fixture(scope="module")
def inproc(real_settings: Settings):
    with TestClient(create_app(real_settings)) as client:
        yield client


@pytest.fixture(scope="module")
def live(real_settings: Settings):
    with running_server({"out_dir": real_settings.out_dir}) as origin, \
            httpx.Client(base_url=origin, timeout=20) as client:
        yield client


@pytest.fixture(params=["inproc", "live"])
def client(request: pytest.FixtureRequest):
    return request.getfixturevalue(request.param)


def _is_type_ref(ref: object) -> bool:
    return isinstance(ref, dict) and isinstance(ref.get("id"), str) and isinstance(ref.get("name"), str)


def check_manifest(m: dict) -> None:
    assert isinstance(m["versions"], list) and "0.2" in m["versions"]
    assert isinstance(m["name"], str) and m["name"]
    assert m["identifierSpace"] == ID_SPACE
    assert m["schemaSpace"] == "http://schema.org/"
    assert m["defaultTypes"] and all(_is_type_ref(t) for t in m["defaultTypes"])
    assert "{{id}}" in m["view"]["url"]
    assert "{{id}}" in m["preview"]["url"]
    assert isinstance(m["preview"]["width"], int) and isinstance(m["preview"]["height"], int)
    for kind in ("entity", "type"):
        assert m["suggest"][kind]["service_url"].startswith("http")
        assert m["suggest"][kind]["service_path"].startswith("/")


def check_candidate(c: dict) -> None:
    assert set(c) >= {"id", "name", "type", "score", "match"}
    assert isinstance(c["id"], str) and isinstance(c["name"], str)
    assert isinstance(c["type"], list) and all(_is_type_ref(t) for t in c["type"])
    assert isinstance(c["score"], (int, float)) and isinstance(c["match"], bool)
    assert isinstance(c.get("description", ""), str)


def batch(client, queries: dict, method: str = "POST") -> dict:
    payload = {"queries": json.dumps(queries)}
    response = client.post("/reconcile", data=payload) if method == "POST" else client.get("/reconcile", params=payload)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == set(queries)
    for result in body.values():
        assert isinstance(result["result"], list)
        for candidate in result["result"]:
            check_candidate(candidate)
        assert sum(c["match"] for c in result["result"]) <= 1
    return body


def test_manifest(client) -> None:
    response = client.get("/reconcile")
    assert response.status_code == 200
    check_manifest(response.json())


def test_the_archive_spreadsheet_gets_our_uris(client) -> None:
    queries = {f"q{i}": {"query": name} for i, name in enumerate(EXPECTED)}
    body = batch(client, queries)
    for i, key in enumerate(EXPECTED.values()):
        top = body[f"q{i}"]["result"][0]
        assert ID_SPACE + top["id"] == ID_SPACE + key and top["match"] is True
        assert top["score"] >= max([c["score"] for c in body[f"q{i}"]["result"]])
    # the same over GET, as the specification allows
    assert batch(client, queries, "GET") == body


def test_match_only_when_unambiguous(client) -> None:
    body = batch(client, {"a": {"query": "Movement"}, "b": {"query": "Russian Imperial"},
                          "c": {"query": "nobody of that name xq"}, "d": {"query": "russia’s ANTI-globalist movement"}})
    assert len(body["a"]["result"]) > 1 and not any(c["match"] for c in body["a"]["result"])
    assert body["b"]["result"][0]["id"] == "russian-imperial-movement" and not body["b"]["result"][0]["match"]
    assert body["c"]["result"] == []
    assert body["d"]["result"][0]["id"] == "anti-globalization-movement-of-russia" and body["d"]["result"][0]["match"]


def test_type_filter_and_limit(client) -> None:
    body = batch(client, {"person": {"query": "TWP", "type": "http://schema.org/Person"},
                          "org": {"query": "Rodina", "type": "http://schema.org/Organization", "limit": 1},
                          "list": {"query": "Heimbach", "type": ["schema:Organization", "Person"]}})
    assert body["person"]["result"] == []
    assert [c["id"] for c in body["org"]["result"]] == ["rodina"]           # a party is an organisation
    assert body["list"]["result"][0]["id"] == "matthew-heimbach"


def test_bad_queries_are_400(inproc) -> None:
    response = inproc.post("/reconcile", data={"queries": "{not json"})
    assert response.status_code == 400 and response.json()["status"] == "error"
    assert inproc.post("/reconcile", data={"queries": json.dumps({"q0": {"no": "query"}})}).status_code == 400


@pytest.mark.parametrize("body", [b"{bad", b"[1]", b'"x"', b"", b'{"queries": "[1]"}', b'{"queries": "{bad"}',
                                  b'{"queries": {"q0": 1}}', b'{"queries": {"q0": {"query": 7}}}', b"\xff"])
def test_a_malformed_json_body_is_400_not_500(live, body: bytes) -> None:
    """Issue 11: `{bad` or `[1]` as a JSON body answered 500 with a traceback."""
    response = live.post("/reconcile", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "error" and "Traceback" not in response.text


@pytest.mark.parametrize("form", [{"queries": "{bad"}, {"queries": "[1]"}, {"query": "{bad"}])
def test_a_malformed_form_query_is_400(live, form: dict) -> None:
    response = live.post("/reconcile", data=form)
    assert response.status_code == 400 and response.json()["status"] == "error"


def test_suggest_entity_and_type(client) -> None:
    manifest = client.get("/reconcile").json()
    path = manifest["suggest"]["entity"]["service_path"]
    result = client.get("/reconcile" + path, params={"prefix": "Heimb"}).json()["result"]
    assert result[0]["id"] == "matthew-heimbach" and result[0]["name"] == "Matthew Heimbach"
    for item in result:
        assert isinstance(item["id"], str) and isinstance(item["name"], str)
        assert isinstance(item["description"], str) and all(_is_type_ref(t) for t in item["notable"])
    typed = client.get("/reconcile" + path, params={"prefix": "Rog", "type": "http://schema.org/Person"}).json()
    assert [r["id"] for r in typed["result"]] == ["dmitry-rogozin"]
    types = client.get("/reconcile" + manifest["suggest"]["type"]["service_path"], params={"prefix": "org"}).json()
    assert "http://schema.org/Organization" in [t["id"] for t in types["result"]]
    flyout = client.get("/reconcile/flyout/entity", params={"id": "matthew-heimbach"}).json()
    assert flyout["id"] == "matthew-heimbach" and "Matthew Heimbach" in flyout["html"]


def test_preview_and_view_urls(client) -> None:
    manifest = client.get("/reconcile").json()
    preview = client.get(manifest["preview"]["url"].replace("{{id}}", "nathan-smith"))
    assert preview.status_code == 200 and preview.headers["content-type"].startswith("text/html")
    assert "Nathan Smith" in preview.text and "Nate Smith" in preview.text
    view = client.get(manifest["view"]["url"].replace("{{id}}", "nathan-smith"), headers={"Accept": "text/html"})
    assert view.status_code == 200 and "Nathan Smith" in view.text          # our entity page
    assert client.get(manifest["preview"]["url"].replace("{{id}}", "no-such-key")).status_code == 404


def test_preview_escapes_labels() -> None:
    evil = Entity("https://w3id.org/tieslod/id/x", "x", "<script>alert(1)</script>", ["<b>"], [], "a & b")
    page = preview_html(evil, "https://example.org/id/x")
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "a &amp; b" in page


def test_normalize_folds_what_does_not_distinguish_names() -> None:
    assert normalize("Russia’s Anti-Globalist  Movement") == normalize("russias anti globalist movement")
    assert normalize("The Kremlin") == normalize("kremlin")


def test_cli_reconcile_csv(tmp_path: Path, real_settings: Settings) -> None:
    names = tmp_path / "names.csv"
    names.write_text("name,note\nNate Smith,1\nAnti-Globalist Movement,2\nTWP,3\nMovement,4\n", encoding="utf-8")
    out = tmp_path / "matched.csv"
    result = CliRunner().invoke(cli, ["reconcile", str(names), "-o", str(out), "--out", str(real_settings.out_dir)])
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0][:3] == ["name", "note", "tieslod_uri"]
    assert [r[2] for r in rows[1:4]] == [ID_SPACE + k for k in EXPECTED.values()]
    assert rows[4][2] == "" and "Russian Imperial Movement" in out.read_text(encoding="utf-8")
