"""A PostgreSQL server for the tests: the one named by the environment, or a throwaway one.

- ``NEWSGRAPH_TEST_DATABASE_URL`` set: that server and database are used as they
  are (each store gets its own schema in it, dropped afterwards).
- Otherwise, when the server binaries exist (Debian: /usr/lib/postgresql/N/bin),
  a throwaway cluster is made with initdb in a temp folder and started on a free
  port of 127.0.0.1 (as the ``postgres`` user when the tests run as root, since
  initdb and postgres refuse root); it is stopped and deleted at the end of the
  session.
- Otherwise there is no server: conftest skips the postgres-parametrized tests
  with the reason, or fails them when CI is "true".
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ENV_URL = "NEWSGRAPH_TEST_DATABASE_URL"
TEST_DATABASE = "newsgraph_test"
START_TIMEOUT_SECONDS = 60
# Durability is worthless for a throwaway cluster; turning it off keeps the tests fast.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")


class Unavailable(RuntimeError):
    """No PostgreSQL server can be used; the message says why."""


def binaries() -> Path | None:
    """The newest installed PostgreSQL server bin/ folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    override = os.environ.get("NEWSGRAPH_PG_BIN")
    if override:
        return Path(override) if (Path(override) / "initdb").exists() else None
    return Path(found[-1]).parent if found else None


@dataclass
class Throwaway:
    """A cluster of our own: made, started, stopped and deleted by this process."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{TEST_DATABASE}"

    def pause(self) -> None:
        """Stop the server as a crash would ("immediate" shutdown: every session ends at once, none
        finishes its statement), keeping the cluster for resume(), which recovers it.

        A "fast" shutdown ended the sessions one by one: the one holding a lock could go first
        and a statement waiting on it complete before its own session ended, a 200 where the
        test expects the 503 of a database that went down (1 run in 3 when run alone)."""
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(timeout=30)

    def resume(self) -> None:
        """Start the paused server again, on the same port, and wait until it answers."""
        with (self.folder / "server.log").open("ab") as sink:
            self.process = subprocess.Popen(
                self.process.args, stdout=sink, stderr=subprocess.STDOUT, cwd=self.folder, **(_run_as() or {})
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _ready(f"postgresql://postgres@127.0.0.1:{self.port}/postgres"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise Unavailable("the throwaway server did not start again")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: disconnect clients, exit
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> dict[str, int] | None:
    """subprocess arguments that drop root to the postgres user; None when not root."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("the tests run as root and there is no 'postgres' user to run initdb as") from None
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def start_throwaway(bin_dir: Path) -> Throwaway:
    """initdb + postgres in a temp folder on a free port; raises Unavailable with the log on failure."""
    drop = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="newsgraph-pg-"))
    if drop is not None:
        os.chown(folder, drop["user"], drop["group"])
    data = folder / "data"
    log = folder / "server.log"
    init = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        capture_output=True,
        text=True,
        cwd=folder,
        **(drop or {}),
    )
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    port = _free_port()
    command = [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(folder)]
    command += ["-c", "listen_addresses=127.0.0.1"]
    for setting in FAST_SETTINGS:
        command += ["-c", setting]
    with log.open("wb") as sink:
        if drop is not None:
            os.chown(log, drop["user"], drop["group"])
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=folder, **(drop or {}))
    server = Throwaway(folder, port, process)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            reason = log.read_text(errors="replace").strip()[-2000:]
            server.stop()
            raise Unavailable(f"the throwaway server did not start: {reason}")
        if _ready(f"postgresql://postgres@127.0.0.1:{port}/postgres"):
            break
        time.sleep(0.1)
    _create_database(f"postgresql://postgres@127.0.0.1:{port}/postgres", TEST_DATABASE)
    return server


def _ready(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _create_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


_server: Throwaway | None = None
_url: str | None = None
_problem: str | None = None


def server_url() -> str:
    """The base URL of the test server (found or started once per process); raises Unavailable."""
    global _server, _url, _problem
    if _url is not None:
        return _url
    if _problem is not None:
        raise Unavailable(_problem)
    given = os.environ.get(ENV_URL)
    try:
        if given:
            if not _ready(given):
                raise Unavailable(f"{ENV_URL} is set but no server answers at {_safe(given)}")
            _url = given
            return _url
        bin_dir = binaries()
        if bin_dir is None:
            raise Unavailable(
                f"{ENV_URL} is not set and no PostgreSQL server binaries were found "
                "(install postgresql, or run scripts/postgres-test-server.sh start)"
            )
        _server = start_throwaway(bin_dir)
        atexit.register(stop)
        _url = _server.url
        return _url
    except Unavailable as exc:
        _problem = str(exc)
        raise


def stop() -> None:
    """Drop the schemas made for tests and stop the throwaway server, if this process started one."""
    global _server, _url
    drop_recycled()
    if _server is not None:
        _server.stop()
        _server = None
        _url = None


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    credentials, _, host = rest.rpartition("@")
    return f"{scheme}://{credentials.split(':')[0]}@{host}"


def with_search_path(url: str, schema: str) -> str:
    """The URL with ``options=-csearch_path=<schema>``, so every connection works in that schema."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}', safe='')}"


# The tables a store creates (graph.store.postgres.migrations) that hold data, emptied when a schema is recycled.
from graph.store.postgres.migrations import DATA_TABLES  # noqa: E402


class Schemas:
    """Empty schemas for stores under test, recycled between tests.

    Creating a schema and migrating it costs ~70 ms; emptying the tables of a used
    one costs ~10 ms, and the suite makes hundreds of stores. A recycled schema is
    exactly what a fresh one is after its first open: migrated, no rows, counters 0.
    """

    def __init__(self, base_url: str) -> None:
        import psycopg

        self.base_url = base_url
        self.admin = psycopg.connect(base_url, autocommit=True)
        self.free: list[str] = []
        self.made: list[str] = []

    def acquire(self) -> str:
        if self.free:
            return self.free.pop()
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f'CREATE SCHEMA "{name}"')
        self.made.append(name)
        return name

    def release(self, name: str) -> None:
        exists = self.admin.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'ng_state'", (name,)
        ).fetchone()
        if exists and exists[0]:
            with self.admin.transaction():
                # TRUNCATE, not DELETE: a schema reused hundreds of times must not bloat.
                self.admin.execute("TRUNCATE " + ", ".join(f'"{name}".{table}' for table in DATA_TABLES))
                self.admin.execute(
                    f'UPDATE "{name}".ng_state SET version = %s, article_count = 0, total_length = 0',
                    (uuid.uuid4().hex,),
                )
        self.free.append(name)

    def close(self) -> None:
        for name in self.made:
            self.admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        self.admin.close()


_schemas: Schemas | None = None


@contextlib.contextmanager
def recycled_schema(base_url: str):
    """An empty (possibly recycled) schema; yields a URL that selects it. Only for stores used normally."""
    global _schemas
    if _schemas is None or _schemas.base_url != base_url:
        _schemas = Schemas(base_url)
    name = _schemas.acquire()
    try:
        yield with_search_path(base_url, name)
    finally:
        _schemas.release(name)


def drop_recycled() -> None:
    global _schemas
    if _schemas is not None:
        _schemas.close()
        _schemas = None


@contextlib.contextmanager
def fresh_schema(base_url: str):
    """A new empty schema, never reused; yields a URL that selects it; drops it afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield with_search_path(base_url, name)
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
