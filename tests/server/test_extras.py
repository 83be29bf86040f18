"""The routes of server/extras.py: /path as JSON and HTML through create_app (moved from
tests/querying/test_connections.py, issue 12; /reconcile is tested in tests/querying/test_reconcile.py and
test_extend.py, /releases and /dumps/<version>/ in tests/publishing/test_feeds.py)."""
from __future__ import annotations

from starlette.testclient import TestClient

from tieslod.api import app as create_app
from tieslod.config import Settings

E = "https://w3id.org/tieslod/id/"
VIA_RIM = [E + "matthew-heimbach", E + "russian-imperial-movement", E + "rodina", E + "dmitry-rogozin"]


def test_web_path_json_and_html(real_settings: Settings) -> None:
    with TestClient(create_app(real_settings)) as client:
        as_json = client.get("/path", params={"from": "Heimbach", "to": "Rogozin"},
                             headers={"Accept": "application/json"})
        assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
        body = as_json.json()
        assert [body["paths"][0][0]["start"]] + [h["end"] for h in body["paths"][0]] == VIA_RIM
        for hop in body["paths"][0]:
            claim = hop["ties"][0]["claims"][0]
            assert set(claim) >= {"stance", "speaker_label", "quote", "source"} and claim["quote"]
        page = client.get("/path", params={"from": "Heimbach", "to": "Rogozin"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Rodina" in page.text and "<blockquote>" in page.text and 'href="/id/rodina"' in page.text
        assert client.get("/path?from=Heimbach&to=Rogozin&format=json").json() == body
        bad = client.get("/path", params={"from": "Movement", "to": "Rogozin", "format": "json"})
        assert bad.status_code == 400 and "ambiguous" in bad.json()["message"]
        assert client.get("/path").status_code == 200                           # the empty form
