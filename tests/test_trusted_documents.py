"""Trusted documents (graph.trusted): `newsgraph trusted-documents build` as a subprocess, and a
real server started with its manifest (and with Apollo's manifest format, written here by hand)
that runs those operations by hash or by text and refuses every other, counted in /metrics."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, article, newsgraph
from live_server import need
from server import running_server, write_db
from test_metrics import sample

LATEST = """# The latest articles.
query Latest($first: Int = 2) {
  articles(first: $first) { nodes { ...Card } }
}

fragment Card on Article { id title }
"""
MULTI = """query One($id: ID!) { article(id: $id) { ...Title } }

query Count { articles { totalCount } }

fragment Title on Article { title }
"""
ONE_TEXT = "query One($id: ID!) { article(id: $id) { ...Title } }\n\nfragment Title on Article { title }\n"
COUNT_TEXT = "query Count { articles { totalCount } }\n"
UNTRUSTED = "{ articles { totalCount } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
CODEGEN = ROOT / "tests" / "codegen"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trusted")
    write_db(folder / "db.json", [article(id=f"a{n}", title=f"Title {n}") for n in range(3)])
    queries = folder / "queries"
    queries.mkdir()
    (queries / "latest.graphql").write_text(LATEST, encoding="utf-8")
    (queries / "multi.graphql").write_text(MULTI, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def manifest(workdir: Path) -> Path:
    path = workdir / "manifest.json"
    queries = workdir / "queries"
    result = newsgraph("trusted-documents", "build", str(queries / "latest.graphql"), str(queries / "multi.graphql"),
                       "-o", str(path))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "3 trusted documents\n")
    return path


def test_build_writes_one_entry_per_operation_keyed_by_the_sha256_of_its_exact_text(workdir, manifest):
    documents = json.loads(manifest.read_text(encoding="utf-8"))
    # A file with one operation is kept as it is (comments too); others are cut per operation,
    # each with the fragments it uses.
    assert documents == {sha(LATEST): LATEST, sha(ONE_TEXT): ONE_TEXT, sha(COUNT_TEXT): COUNT_TEXT}
    # A folder is searched for .graphql files; without -o the manifest goes to stdout.
    result = newsgraph("trusted-documents", "build", str(workdir / "queries"))
    assert result.returncode == 0 and json.loads(result.stdout) == documents


def test_build_names_the_file_and_line_of_every_problem_and_writes_nothing(tmp_path):
    (tmp_path / "bad.graphql").write_text("query Bad {\n  articles { nodes { nope } }\n}\n", encoding="utf-8")
    (tmp_path / "broken.graphql").write_text("query Broken {\n  articles {\n", encoding="utf-8")
    (tmp_path / "twice.graphql").write_text("query Count { articles { totalCount } }\n", encoding="utf-8")
    (tmp_path / "twice2.graphql").write_text("\nquery Count { providers { totalCount } }\n", encoding="utf-8")
    out = tmp_path / "manifest.json"
    result = newsgraph("trusted-documents", "build", *(str(p) for p in sorted(tmp_path.glob("*.graphql"))),
                       str(tmp_path / "missing.graphql"), "-o", str(out))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"newsgraph trusted-documents: {tmp_path / 'bad.graphql'}:2:22: Cannot query field 'nope' on type "
        "'Article'. Did you mean 'type'?",
        f"newsgraph trusted-documents: {tmp_path / 'broken.graphql'}:3:1: Syntax Error: Expected Name, found <EOF>.",
        f"newsgraph trusted-documents: {tmp_path / 'missing.graphql'}: no such file",
        f"newsgraph trusted-documents: {tmp_path / 'twice2.graphql'}:2: operation Count is defined again "
        f"(first at {tmp_path / 'twice.graphql'}:1)",
    ]
    assert not out.exists()


def refused(response, status: int = 200) -> str:
    assert response.status_code == status, response.text
    payload = response.json()
    assert "data" not in payload
    [error] = payload["errors"]
    assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_ALLOWED"}
    return error["message"]


def test_a_server_runs_only_the_trusted_documents(workdir, manifest):
    with running_server(workdir / "db.json", "--metrics", "--trusted-documents", str(manifest)) as server:
        expected = {"articles": {"nodes": [{"id": "a0", "title": "Title 0"}, {"id": "a1", "title": "Title 1"}]}}
        # By the exact text.
        assert server.data(LATEST) == expected
        # By hash: Apollo's persisted query extension, and documentId (prefixed or bare), over POST and GET.
        apollo = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(LATEST)}}}
        assert server.post(apollo).json() == {"data": expected}
        assert server.post({"documentId": f"sha256:{sha(ONE_TEXT)}", "variables": {"id": "a2"}}).json() == {
            "data": {"article": {"title": "Title 2"}}
        }
        assert server.post({"documentId": sha(COUNT_TEXT)}).json() == {"data": {"articles": {"totalCount": 3}}}
        get = server.get({"documentId": f"sha256:{sha(COUNT_TEXT)}"})
        assert get.json() == {"data": {"articles": {"totalCount": 3}}}
        # Anything else is refused before it runs: a request error (400 with graphql-response+json).
        message = refused(server.post({"query": UNTRUSTED}))
        assert message == (
            "operation not allowed: this server runs only its trusted documents, and this query text is not one "
            "of them (send a trusted document's exact text, or its sha256 as documentId)"
        )
        refused(server.post({"query": LATEST + " "}, accept=GRAPHQL_RESPONSE), 400)  # the exact text only
        refused(server.get({"query": UNTRUSTED}))
        unknown = sha(UNTRUSTED)
        assert refused(server.post({"documentId": unknown})) == (
            f"operation not allowed: this server runs only its trusted documents, and sha256 {unknown} is not one of them"
        )
        refused(server.post({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": unknown}}}), 200)
        # A malformed id is a bad request, as always.
        bad = server.post({"documentId": "md5:abc"})
        assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        # GraphiQL is off in this mode: a browser gets no page.
        page = server.client.get("/graphql", headers={"accept": "text/html"})
        assert "text/html" not in page.headers["content-type"]
        metrics = server.client.get("/metrics").text
    assert sample(metrics, "newsgraph_untrusted_documents_refused_total", form="text") == 3
    assert sample(metrics, "newsgraph_untrusted_documents_refused_total", form="id") == 2
    # The five untrusted ones, the malformed id and the browser's GET without a query.
    assert sample(metrics, "newsgraph_requests_total", operation="anonymous", outcome="refused") == 7


def test_apollo_manifests_work_and_graphiql_comes_back_when_asked_for(workdir, tmp_path):
    # The shape @apollo/generate-persisted-query-manifest writes (written here by hand).
    apollo = tmp_path / "persisted-query-manifest.json"
    apollo.write_text(json.dumps({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": sha(COUNT_TEXT), "name": "Count", "type": "query", "body": COUNT_TEXT}],
    }), encoding="utf-8")
    env = {"NEWSGRAPH_TRUSTED_DOCUMENTS": str(apollo), "NEWSGRAPH_GRAPHIQL": "true"}
    with running_server(workdir / "db.json", env=env) as server:
        hashed = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(COUNT_TEXT)}}}
        assert server.post(hashed).json() == {"data": {"articles": {"totalCount": 3}}}
        assert server.data(COUNT_TEXT) == {"articles": {"totalCount": 3}}
        refused(server.post({"query": LATEST}))
        page = server.client.get("/graphql", headers={"accept": "text/html"})
        assert page.headers["content-type"].startswith("text/html")


def test_a_manifest_not_keyed_by_sha256_is_refused_at_startup(workdir, tmp_path):
    sha1 = tmp_path / "sha1.json"
    sha1.write_text(json.dumps({hashlib.sha1(COUNT_TEXT.encode()).hexdigest(): COUNT_TEXT}), encoding="utf-8")
    result = newsgraph("serve", "--db", str(workdir / "db.json"), "--trusted-documents", str(sha1))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"newsgraph: NEWSGRAPH_TRUSTED_DOCUMENTS: {sha1}: entry 1 ({hashlib.sha1(COUNT_TEXT.encode()).hexdigest()[:16]}…): "
        "its id is not the sha256 of its document (graphql-codegen's client preset: set "
        "persistedDocuments.hashAlgorithm to 'sha256'; older versions default to sha1)\n"
    )
    missing = newsgraph("serve", "--db", str(workdir / "db.json"), env={"NEWSGRAPH_TRUSTED_DOCUMENTS": "nope.json"})
    assert (missing.returncode, missing.stderr) == (
        2, "newsgraph: NEWSGRAPH_TRUSTED_DOCUMENTS: nope.json: cannot read it: No such file or directory\n"
    )


def test_a_manifest_written_by_graphql_codegen_client_preset(workdir, tmp_path):
    """The real graphql-codegen (tests/codegen, scripts/setup-codegen.sh) with its client preset's
    persistedDocuments; the server runs its documents by the id the generated code carries."""
    binary = CODEGEN / "node_modules" / ".bin" / "graphql-codegen"
    need(shutil.which("node") is not None and binary.exists(), "graphql-codegen is not installed (scripts/setup-codegen.sh)")
    (tmp_path / "queries").mkdir()
    shutil.copy(workdir / "queries" / "latest.graphql", tmp_path / "queries")
    config = {
        "schema": str(ROOT / "schema.graphql"),
        "documents": [str(tmp_path / "queries" / "*.graphql")],
        "generates": {f"{tmp_path / 'gql'}/": {"preset": "client", "presetConfig": {"persistedDocuments": {"hashAlgorithm": "sha256"}}}},
    }
    (tmp_path / "codegen.json").write_text(json.dumps(config), encoding="utf-8")
    # Run from tests/codegen, where codegen finds its preset.
    result = subprocess.run([str(binary), "--config", str(tmp_path / "codegen.json")], cwd=CODEGEN,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = tmp_path / "gql" / "persisted-documents.json"
    [(document_id, text)] = json.loads(manifest.read_text(encoding="utf-8")).items()
    assert document_id.startswith("sha256:")  # codegen writes the GraphQL-over-HTTP prefixed id
    assert f'"__meta__":{{"hash":"{document_id}"}}' in (tmp_path / "gql" / "graphql.ts").read_text(encoding="utf-8")
    with running_server(workdir / "db.json", "--trusted-documents", str(manifest)) as server:
        expected = {"articles": {"nodes": [{"id": "a0", "title": "Title 0"}, {"id": "a1", "title": "Title 1"}]}}
        assert server.post({"documentId": document_id}).json() == {"data": expected}
        assert server.data(text) == expected
        refused(server.post({"query": LATEST}))  # the same operation, but not the text codegen wrote


FEED = "subscription Feed { articleChanges { kind id } }\n"


def test_subscriptions_run_only_trusted_documents_too(tmp_path):
    """WebSocket and SSE subscriptions go through the same allowlist as requests (by text or by id)."""
    import asyncio

    import websockets

    write_db(tmp_path / "db.json", [article(id="a0", title="Title 0")])
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({sha(FEED): FEED}), encoding="utf-8")
    with running_server(tmp_path / "db.json", "--trusted-documents", str(manifest)) as server:

        async def scenario() -> list[dict]:
            url = server.url.replace("http", "ws", 1)
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
                await ws.send(json.dumps({"type": "connection_init"}))
                assert json.loads(await ws.recv()) == {"type": "connection_ack"}
                subscribe = [
                    {"query": "subscription { articleChanges { id } }"},  # not trusted
                    {"documentId": f"sha256:{sha(FEED)}"},  # trusted, by id
                    {"query": FEED},  # trusted, by text
                    {"query": UNTRUSTED},  # a query: refused as over HTTP
                ]
                for n, payload in enumerate(subscribe):
                    await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
                await ws.send(json.dumps({"type": "ping"}))
                replies = []
                while (reply := json.loads(await ws.recv())) != {"type": "pong"}:
                    replies.append(reply)
                return replies

        replies = asyncio.run(scenario())
        # Only the refusals answer before the ping; the trusted subscriptions are live and silent.
        assert [(r["id"], r["type"], r["payload"][0]["extensions"]["code"]) for r in replies] == [
            ("0", "error", "PERSISTED_QUERY_NOT_ALLOWED"),
            ("3", "error", "PERSISTED_QUERY_NOT_ALLOWED"),
        ]
        stream = server.post({"query": "subscription { articleChanges { id } }"}, accept="text/event-stream")
        assert stream.status_code == 400
        assert stream.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
