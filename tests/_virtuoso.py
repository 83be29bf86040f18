"""A real Virtuoso (Debian's virtuoso-opensource 7.2) for the tests: a fresh database in a temporary
directory, a generated virtuoso.ini with the SQL and HTTP listeners on free loopback ports, and a user
who may write through the digest-protected Graph Store endpoint (/sparql-graph-crud-auth).

scripts/test installs the package where it can (apt-get as root); elsewhere the tests that need it skip.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from conftest import free_port

VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")
MISSING = ("Debian's virtuoso-opensource (virtuoso-t, isql-vt) is not installed; "
           "scripts/test installs it where apt-get runs as root")
USER, PASSWORD = "pusher", "tieslod-test"

# ResultSetMaxRows stays at Virtuoso's shipped 10000 on purpose: a stock server caps what a
# Graph Store GET returns at that many triples, and push must cope with the stock server.
INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
CheckpointInterval = 0
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
EnabledDavVSP = 0
[SPARQL]
ResultSetMaxRows = 10000
MaxQueryExecutionTime = 60
"""

# The documented way to let an SQL account write over SPARQL and the Graph Store protocol: create it,
# then grant it the SPARQL_UPDATE role (which includes SPARQL_SELECT).
SETUP_SQL = f"DB.DBA.USER_CREATE ('{USER}', '{PASSWORD}');\nGRANT SPARQL_UPDATE TO \"{USER}\";\n"


@dataclass
class Virtuoso:
    """One running server; `reset()` drops every graph the tests wrote, keeping Virtuoso's own."""

    proc: subprocess.Popen
    directory: Path
    sql_port: int
    http_port: int
    startup_s: float = 0.0
    system_graphs: set[str] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def gsp(self) -> str:
        """The Graph Store endpoint that asks for digest authentication."""
        return self.base + "/sparql-graph-crud-auth"

    @property
    def sparql(self) -> str:
        """The anonymous, read-only query endpoint."""
        return self.base + "/sparql"

    @property
    def auth(self) -> str:
        return f"{USER}:{PASSWORD}"

    def graphs(self) -> set[str]:
        query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
        rows = httpx.get(self.sparql, params={"query": query}, timeout=30,
                         headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
        return {row["g"]["value"] for row in rows}

    def reset(self) -> None:
        with httpx.Client(auth=httpx.DigestAuth(USER, PASSWORD), timeout=60) as client:
            for graph in self.graphs() - self.system_graphs:
                client.delete(self.gsp, params={"graph": graph}).raise_for_status()

    def log(self) -> str:
        path = self.directory / "virtuoso.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()   # Virtuoso checkpoints and exits on SIGTERM
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def restart(server: Virtuoso, timeout: float = 90.0) -> None:
    """Start a stopped server again on its database, ports and users (a front end must find it back)."""
    server.stop()
    server.proc = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(server.directory / "virtuoso.ini")],
                                   cwd=server.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
    _wait_http(server, time.monotonic() + timeout)


def _wait_http(server: Virtuoso, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError("virtuoso-t exited early:\n" + server.log()[-2000:])
        try:
            if httpx.get(server.sparql, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("virtuoso-t did not answer in time:\n" + server.log()[-2000:])


def _grant(server: Virtuoso, deadline: float) -> None:
    """Create the writing user, then prove the grant by a digest-authenticated PUT and DELETE."""
    script = server.directory / "setup.sql"
    script.write_text(SETUP_SQL)
    subprocess.run([ISQL, f"127.0.0.1:{server.sql_port}", "dba", "dba", str(script)], check=True,
                   capture_output=True, timeout=max(deadline - time.monotonic(), 1))
    probe = "urn:tieslod:test:probe"
    with httpx.Client(auth=httpx.DigestAuth(USER, PASSWORD), timeout=10) as client:
        put = client.put(server.gsp, params={"graph": probe}, content=b"<urn:s> <urn:p> <urn:o> .\n",
                         headers={"Content-Type": "application/n-triples"})
        if put.status_code not in (200, 201, 204):
            raise RuntimeError(f"the granted user cannot write: {put.status_code} {put.text[:300]}")
        client.delete(server.gsp, params={"graph": probe}).raise_for_status()


def start_virtuoso(directory: Path, timeout: float = 90.0) -> Virtuoso:
    """Start virtuoso-t on a fresh database in `directory`; return once the user can write."""
    if not (VIRTUOSO and ISQL):
        raise RuntimeError(MISSING)
    directory.mkdir(parents=True, exist_ok=True)
    sql_port = free_port()
    http_port = free_port()
    while http_port == sql_port:
        http_port = free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(INI.format(d=directory, sql=sql_port, http=http_port))
    began = time.monotonic()
    proc = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(ini)], cwd=directory,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    server = Virtuoso(proc, directory, sql_port, http_port)
    try:
        deadline = began + timeout
        _wait_http(server, deadline)
        _grant(server, deadline)
        server.system_graphs = server.graphs()
    except BaseException:
        server.stop()
        raise
    server.startup_s = time.monotonic() - began
    return server
