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
