def test_access_log_has_method_path_status_duration(server):
    get(server, "ASK {}")
    lines = [line for line in server.log().splitlines() if "tieslod.access" in line]
    assert any('"GET /sparql" 200' in line and line.endswith(" ms") for line in lines)
