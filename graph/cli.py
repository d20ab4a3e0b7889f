"""The newsgraph command: seed, serve, export-schema, stats.

This module parses arguments and prints; the work is in graph.seed,
graph.store and graph.app. Every store, server and limit option also reads a
NEWSGRAPH_* variable; `newsgraph --help` lists them with their defaults.
Exit status: 0 ok, 1 bad data or a failure, 2 usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from graph import __version__
from graph.config import LOG_FORMATS, PREFIX, ConfigError, Limits, Settings
from graph.store import open_store

DEFAULTS = Settings()


def _env(name: str) -> str:
    return f"{PREFIX}{name.upper()}"


def _help(text: str, name: str, default: Any) -> str:
    return f"{text} (env {_env(name)}; default: {default})"


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="FILE", help=_help("TinyDB database file", "db", DEFAULTS.db))
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help=_help("postgresql://… selects the PostgreSQL store instead of TinyDB", "database_url", "unset"),
    )


def _environment_help() -> str:
    """The epilog of `newsgraph --help`: every NEWSGRAPH_* variable with its default."""
    settings = {f.name: getattr(DEFAULTS, f.name) for f in fields(Settings) if f.name != "limits"}
    settings.update(vars(DEFAULTS.limits))
    shown = {
        "database_url": "unset",
        "cors_origins": "none",
        "introspection": "true",
        "graphiql": "true",
        "frontend": "true",
        "compiled_execution": "true",
        "create": "false",
        "metrics": "false",
        "access_log": "true",
        "trusted_documents": "unset",
    }
    width = max(len(_env(name)) for name in settings)
    lines = [f"  {_env(name):<{width}}  default: {shown.get(name, value)}" for name, value in settings.items()]
    return (
        "environment (each variable is also a flag of the commands that use it; a flag wins):\n"
        + "\n".join(lines)
        + "\n\nexit status: 0 ok, 1 bad data or a failure, 2 usage or configuration error.\n"
        "Errors are one line on stderr; --debug (before or after COMMAND) prints the traceback.\n"
        "Run `newsgraph COMMAND --help` for the options of a command."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsgraph",
        description="A GraphQL API over a document store of news articles.",
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"newsgraph {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors (default: off)"
    )
    # --debug is accepted after the command too; SUPPRESS keeps the one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS,
        help="show tracebacks instead of one-line errors (default: off)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    seed = commands.add_parser("seed", parents=[common], help="load seed files into the store",
                               description="Load frontmatter files "
                               "(.md, .markdown, .txt, found recursively) into the store. Bad files are reported "
                               "as path:line: reason and skipped (exit 1); the store is never damaged. Unchanged "
                               "files are skipped. The last line sums up: loaded N: A new, B updated, C unchanged; "
                               "F failed; P pruned in T s. With --dry-run, or --strict and a bad file, it counts "
                               "what was found and ends with why nothing was written.")
    seed.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: seeds/)")
    _add_store_options(seed)
    seed.add_argument("--strict", action="store_true", help="write nothing at all if any file is bad (default: off)")
    seed.add_argument(
        "--prune", action="store_true", help="remove stored articles whose files were not seen (default: off)"
    )
    seed.add_argument("--dry-run", action="store_true", help="validate and report without writing (default: off)")
    seed.add_argument("--raw-text", action="store_true", help="keep text as it is, no mojibake repair (default: off)")
    seed.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar (default: a bar on a terminal, none otherwise)"
    )
    seed.add_argument(
        "--watch",
        action="store_true",
        help="after seeding, keep watching the paths and seed each batch of changed, added or deleted files "
        "after 200 ms of quiet, one summary line a batch; Ctrl-C or SIGTERM stops it between batches "
        "(default: off)",
    )

    serve = commands.add_parser("serve", parents=[common], help="serve the GraphQL API over HTTP",
                                description="Serve GraphQL on "
                                "/graphql (GraphiQL in a browser), the reader app on / and a health check on "
                                "/healthz.")
    _add_store_options(serve)
    serve.add_argument(
        "--create",
        action="store_true",
        help="start with an empty TinyDB database when the file does not exist, instead of refusing "
        "(env NEWSGRAPH_CREATE=true; default: off)",
    )
    serve.add_argument("--host", metavar="HOST", help=_help("interface to bind", "host", DEFAULTS.host))
    serve.add_argument("--port", type=int, metavar="PORT", help=_help("port to bind", "port", DEFAULTS.port))
    serve.add_argument(
        "--workers", type=int, metavar="N", help=_help("worker processes", "workers", DEFAULTS.workers)
    )
    serve.add_argument(
        "--cors-origins",
        metavar="ORIGINS",
        help=_help("comma-separated origins allowed by CORS", "cors_origins", "none"),
    )
    serve.add_argument(
        "--no-introspection",
        action="store_true",
        help="turn introspection off (env NEWSGRAPH_INTROSPECTION=false; default: on)",
    )
    serve.add_argument(
        "--no-graphiql", action="store_true", help="turn GraphiQL off (env NEWSGRAPH_GRAPHIQL=false; default: on)"
    )
    serve.add_argument(
        "--no-frontend",
        action="store_true",
        help="turn the reader app at / off (env NEWSGRAPH_FRONTEND=false; default: on)",
    )
    serve.add_argument(
        "--response-cache",
        type=int,
        metavar="N",
        help=_help("answers kept per (request, data version); 0 turns the cache off", "response_cache",
                   DEFAULTS.response_cache),
    )
    serve.add_argument(
        "--response-cache-bytes",
        type=int,
        metavar="BYTES",
        help=_help("bytes of answers (and their requests) the response cache may hold", "response_cache_bytes",
                   DEFAULTS.response_cache_bytes),
    )
    serve.add_argument(
        "--persisted-queries",
        type=int,
        metavar="N",
        help=_help("automatic persisted queries remembered", "persisted_queries", DEFAULTS.persisted_queries),
    )
    serve.add_argument(
        "--persisted-query-bytes",
        type=int,
        metavar="BYTES",
        help=_help("bytes of query text the persisted queries may hold", "persisted_query_bytes",
                   DEFAULTS.persisted_query_bytes),
    )
    serve.add_argument(
        "--query-cache-bytes",
        type=int,
        metavar="BYTES",
        help=_help("bytes each query cache (parsed documents, compiled plans) may hold", "query_cache_bytes",
                   DEFAULTS.query_cache_bytes),
    )
    serve.add_argument(
        "--no-compiled-execution",
        action="store_true",
        help="run every query through graphql-core instead of the compiled plan "
        "(env NEWSGRAPH_COMPILED_EXECUTION=false; default: on)",
    )
    serve.add_argument(
        "--metrics",
        action="store_true",
        default=None,
        help="serve GET /metrics in the Prometheus text format (env NEWSGRAPH_METRICS; default: off, 404)",
    )
    serve.add_argument(
        "--no-access-log",
        action="store_true",
        help="write no access log line per request (env NEWSGRAPH_ACCESS_LOG=false; default: on, to stdout)",
    )
    serve.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        help=_help("access log and server log lines: readable text, or one JSON object a line", "log_format",
                   DEFAULTS.log_format),
    )
    serve.add_argument(
        "--trusted-documents",
        metavar="FILE",
        help=_help("run only the operations of this JSON manifest (sha256 -> document, or Apollo's persisted "
                   "query manifest; `newsgraph trusted-documents build` writes one); GraphiQL is then off "
                   "unless NEWSGRAPH_GRAPHIQL=true", "trusted_documents", "unset"),
    )
    serve.add_argument(
        "--loop",
        choices=("asyncio", "uvloop", "auto"),
        default="asyncio",
        help="event loop; asyncio measured best under CPU-heavy load (see benchmarks/README.md) (default: asyncio)",
    )
    for name, value in vars(Limits()).items():
        serve.add_argument(
            "--" + name.replace("_", "-"),
            type=type(value),
            metavar="N",
            help=_help(f"limit: {name.replace('_', ' ')}", name, value),
        )

    export = commands.add_parser(
        "export-schema",
        parents=[common],
        help="print the served schema (SDL, or introspection JSON)",
        description="Print the schema this server serves, for client code generators (graphql-codegen, "
        "ariadne-codegen, gql): SDL by default, or with --json the introspection result "
        '({"data": {"__schema": ...}}, descriptions included). Needs no store.',
    )
    export.add_argument(
        "--json", action="store_true", help="print the introspection result as JSON instead of SDL (default: SDL)"
    )
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output (default: standard output)"
    )

    trusted = commands.add_parser(
        "trusted-documents",
        parents=[common],
        help="build the manifest of trusted documents (NEWSGRAPH_TRUSTED_DOCUMENTS)",
        description="Manage the trusted documents a server started with NEWSGRAPH_TRUSTED_DOCUMENTS runs.",
    )
    trusted_actions = trusted.add_subparsers(dest="trusted_command", metavar="ACTION")
    build = trusted_actions.add_parser(
        "build",
        parents=[common],
        help="write the manifest of the operations in .graphql files",
        description="Parse the operations in FILEs (folders: every .graphql and .gql file in them), validate them "
        "against the served schema, and write a JSON map of sha256 -> document text, one entry per operation (the "
        "file's exact text when it holds one operation, else each operation with the fragments it uses). Errors "
        "name the file and line; nothing is written then (exit 1).",
    )
    build.add_argument("files", nargs="+", metavar="FILE", help="operation files or folders of them (default: none)")
    build.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output (default: standard output)"
    )

    stats = commands.add_parser(
        "stats",
        parents=[common],
        help="print what the store holds",
        description="Print a table of what the store holds: articles, providers, topics, date range.",
    )
    _add_store_options(stats)

    db = commands.add_parser(
        "db",
        parents=[common],
        help="manage the PostgreSQL database (migrate)",
        description="Manage the PostgreSQL store's database. The TinyDB store needs none of this.",
    )
    actions = db.add_subparsers(dest="db_command", metavar="ACTION")
    migrate = actions.add_parser(
        "migrate",
        parents=[common],
        help="create or upgrade the PostgreSQL schema",
        description="Create the newsgraph tables in the PostgreSQL database, or apply the migrations it lacks. "
        "seed and serve do this too when they start; run it on its own to upgrade before a deploy.",
    )
    migrate.add_argument(
        "--database-url",
        metavar="URL",
        help=_help("the postgresql://… database to migrate", "database_url", "unset"),
    )
    migrate.add_argument(
        "--rebuild",
        action="store_true",
        help="also recompute every article's derived columns and the provider, topic and search tables "
        "(default: off; done automatically when a newsgraph upgrade changes them)",
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "db": getattr(args, "db", None),
        "database_url": getattr(args, "database_url", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "workers": getattr(args, "workers", None),
    }
    if getattr(args, "cors_origins", None) is not None:
        overrides["cors_origins"] = tuple(o.strip() for o in args.cors_origins.split(",") if o.strip())
    if getattr(args, "no_introspection", False):
        overrides["introspection"] = False
    if getattr(args, "no_graphiql", False):
        overrides["graphiql"] = False
    if getattr(args, "no_frontend", False):
        overrides["frontend"] = False
    if getattr(args, "no_compiled_execution", False):
        overrides["compiled_execution"] = False
    if getattr(args, "create", False):
        overrides["create"] = True
    for name in ("response_cache", "response_cache_bytes", "persisted_queries", "persisted_query_bytes",
                 "query_cache_bytes"):
        overrides[name] = getattr(args, name, None)
    overrides["metrics"] = getattr(args, "metrics", None)
    if getattr(args, "no_access_log", False):
        overrides["access_log"] = False
    overrides["log_format"] = getattr(args, "log_format", None)
    overrides["trusted_documents"] = getattr(args, "trusted_documents", None)
    for name in vars(Limits()):
        overrides[name] = getattr(args, name, None)
    return Settings.from_env(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        settings = _settings(args)
        handler = {
            "seed": cmd_seed,
            "serve": cmd_serve,
            "export-schema": cmd_export_schema,
            "stats": cmd_stats,
            "db": cmd_db,
            "trusted-documents": cmd_trusted_documents,
        }
        return handler[args.command](args, settings)
    except ConfigError as exc:
        print(f"newsgraph: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clean line unless --debug
        if args.debug:
            traceback.print_exc()
        else:
            print(f"newsgraph: error: {exc}", file=sys.stderr)
        return 1


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from graph.seed import SeedUsageError, check_paths, seed

    if args.watch and args.dry_run:
        print("newsgraph seed: --watch and --dry-run cannot be used together", file=sys.stderr)
        return 2
    paths = args.paths or ["seeds"]
    try:
        check_paths(paths)
    except SeedUsageError as exc:
        print(f"newsgraph seed: {exc}", file=sys.stderr)
        return 2
    progress = writing = None
    if not args.quiet and sys.stderr.isatty():
        progress, writing = _progress_bars()
    if args.watch:
        return _watch(args, settings, paths, progress, writing)

    async def run() -> Any:
        store = open_store(settings, writing=True)
        await store.open()
        try:
            return await seed(
                store,
                paths,
                strict=args.strict,
                prune=args.prune,
                dry_run=args.dry_run,
                raw_text=args.raw_text,
                progress=progress,
                writing=writing,
            )
        finally:
            await store.close()

    try:
        report = asyncio.run(run())
    except SeedUsageError as exc:
        print(f"newsgraph seed: {exc}", file=sys.stderr)
        return 2
    _show(report)
    return 1 if report.errors or report.empty else 0


def _show(report: Any) -> None:
    """A seed report as the command prints it: warnings and errors on stderr, then the summary line."""
    from graph.documents import display_path

    for warning in report.warnings:
        print(warning, file=sys.stderr)
    for error in report.errors:
        print(error, file=sys.stderr)
    for folder in report.empty:
        print(f"no seed files found in {display_path(folder)} (seed files end in .md, .markdown or .txt)", file=sys.stderr)
    sys.stderr.flush()
    print(report.summary(), flush=True)


def _watch(args: argparse.Namespace, settings: Settings, paths: list[str], progress: Any, writing: Any) -> int:
    """seed --watch: exit 0 when stopped by SIGINT or SIGTERM (a batch in progress completes first)."""
    import signal

    from graph.seed import SeedUsageError
    from graph.watch import describe, watch

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        store = open_store(settings, writing=True)
        await store.open()
        try:
            await watch(
                store,
                paths,
                stop,
                _show,
                strict=args.strict,
                prune=args.prune,
                raw_text=args.raw_text,
                progress=progress,
                writing=writing,
                ready=lambda: print(f"watching {describe(paths)} (Ctrl-C to stop)", file=sys.stderr, flush=True),
            )
        finally:
            await store.close()

    try:
        asyncio.run(run())
    except SeedUsageError as exc:
        print(f"newsgraph seed: {exc}", file=sys.stderr)
        return 2
    print("stopped watching", file=sys.stderr, flush=True)
    return 0


def _progress_bars() -> tuple[Any, Any]:
    """The seed's two stages on a terminal: reading the files (a bar per file), then the one write.

    Both bars stay on the screen when done. The write is one call, so its bar
    shows the time going by (refreshed from a thread) and fills when it ends.
    """
    import threading

    from tqdm import tqdm

    def reading(items: Any, total: int) -> Any:
        return tqdm(items, total=total, unit="file", desc="reading", file=sys.stderr)

    @contextlib.contextmanager
    def writing(changes: int) -> Iterator[None]:
        bar = tqdm(total=changes, unit="article", desc="writing", file=sys.stderr)
        done = threading.Event()

        def tick() -> None:
            while not done.wait(0.5):
                bar.refresh()

        ticker = threading.Thread(target=tick, name="newsgraph-seed-progress", daemon=True)
        ticker.start()
        try:
            yield
            bar.update(changes)
        finally:
            done.set()
            ticker.join()
            bar.close()

    return reading, writing


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    if not settings.database_url and not Path(settings.db).exists():
        # A wrong path used to be served as an empty store, silently; now it is said at once.
        if not settings.create:
            print(
                f"newsgraph: error: {settings.db}: no database here (`newsgraph seed` creates it; "
                "`serve --create` starts with an empty one)",
                file=sys.stderr,
            )
            return 1
        _create_empty_database(settings)
    if settings.trusted_documents:
        from graph.trusted import load_manifest

        load_manifest(settings.trusted_documents)  # a bad manifest is one line and exit 2, before serving
    from graph.server import descriptors_for, uvicorn_options

    fit = descriptors_for(settings.limits)  # workers inherit the raised limit on open files
    if fit < settings.limits.max_connections:
        print(
            f"newsgraph: warning: only {fit} connections fit the limit on open files; "
            f"max_connections lowered from {settings.limits.max_connections}",
            file=sys.stderr,
        )
        settings = settings.replace(limits=dataclasses.replace(settings.limits, max_connections=fit))
    # Workers are separate processes: hand them the settings through the environment.
    os.environ.update(_settings_env(settings))
    if settings.workers > 1:
        _bind_workers_socket_as_tcp()
    uvicorn.run(
        "graph.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop=args.loop,
        **uvicorn_options(settings),
    )
    return 0


def _create_empty_database(settings: Settings) -> None:
    """An empty TinyDB database at settings.db (serve --create), written as a seed writes."""
    async def create() -> None:
        store = open_store(settings, writing=True)
        await store.open()
        try:
            await store.write([], [])
        finally:
            await store.close()

    asyncio.run(create())
    print(f"newsgraph: created an empty database at {settings.db}", file=sys.stderr)


def _bind_workers_socket_as_tcp() -> None:
    """Give the listening socket uvicorn binds for --workers the protocol IPPROTO_TCP.

    uvicorn binds it with protocol 0 (uvicorn issue #3149); accepted connections inherit that,
    and asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets, so with Nagle on every keep-alive
    answer after the first waited ~40 ms for a delayed ACK (found by benchmarks/load.py: 2
    workers served 20 requests/s on one connection, 1 worker 1,800).
    """
    import socket

    from uvicorn.config import Config

    bind = Config.bind_socket

    def bind_socket(self: Config) -> socket.socket:
        sock = bind(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        return sock

    Config.bind_socket = bind_socket  # type: ignore[method-assign]


def _settings_env(settings: Settings) -> dict[str, str]:
    env = {
        _env("db"): settings.db,
        _env("database_url"): settings.database_url,
        _env("host"): settings.host,
        _env("port"): str(settings.port),
        _env("workers"): str(settings.workers),
        _env("cors_origins"): ",".join(settings.cors_origins),
        _env("introspection"): "true" if settings.introspection else "false",
        _env("graphiql"): "true" if settings.graphiql else "false",
        _env("frontend"): "true" if settings.frontend else "false",
        _env("create"): "true" if settings.create else "false",
        _env("response_cache"): str(settings.response_cache),
        _env("response_cache_bytes"): str(settings.response_cache_bytes),
        _env("persisted_queries"): str(settings.persisted_queries),
        _env("persisted_query_bytes"): str(settings.persisted_query_bytes),
        _env("query_cache_bytes"): str(settings.query_cache_bytes),
        _env("compiled_execution"): "true" if settings.compiled_execution else "false",
        _env("metrics"): "true" if settings.metrics else "false",
        _env("access_log"): "true" if settings.access_log else "false",
        _env("log_format"): settings.log_format,
        _env("trusted_documents"): settings.trusted_documents,
    }
    for name, value in vars(settings.limits).items():
        env[_env(name)] = str(value)
    return env


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from graph.schema import schema, sdl

    if args.json:
        import orjson
        from graphql import get_introspection_query, graphql_sync

        result = graphql_sync(schema._schema, get_introspection_query(descriptions=True))
        text = orjson.dumps({"data": result.data}, option=orjson.OPT_INDENT_2).decode() + "\n"
    else:
        text = sdl()
    return _write_output(text, args.output, "export-schema")


def _write_output(text: str, output: str | None, command: str) -> int:
    """Write a command's output to standard output, or to the -o FILE; a failure is one line and 1."""
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"newsgraph {command}: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def cmd_trusted_documents(args: argparse.Namespace, settings: Settings) -> int:
    if args.trusted_command != "build":
        print("newsgraph trusted-documents: name an action: build", file=sys.stderr)
        return 2
    import orjson

    from graph.schema import schema
    from graph.trusted import BuildError, build

    try:
        manifest = build(args.files, schema._schema)
    except BuildError as exc:
        for problem in exc.problems:
            print(f"newsgraph trusted-documents: {problem}", file=sys.stderr)
        return 1
    text = orjson.dumps(manifest, option=orjson.OPT_INDENT_2).decode() + "\n"
    status = _write_output(text, args.output, "trusted-documents")
    if status == 0:
        print(f"{len(manifest)} trusted documents", file=sys.stderr)
    return status


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.database_url and not Path(settings.db).exists():
        print(f"newsgraph: error: {settings.db}: no database here (`newsgraph seed` creates it)", file=sys.stderr)
        return 1

    async def run() -> dict[str, Any]:
        store = open_store(settings)
        await store.open()
        try:
            reader = await store.reader()
            return await reader.stats()
        finally:
            await store.close()

    stats = asyncio.run(run())
    where = settings.database_url.split("@")[-1] if settings.database_url else settings.db
    rows = [("store", where), *((k, "-" if v is None else str(v)) for k, v in stats.items())]
    print(format_table(("what", "value"), rows))
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    if args.db_command != "migrate":
        print("newsgraph db: name an action: migrate", file=sys.stderr)
        return 2
    if not settings.database_url:
        print(
            "newsgraph db migrate: no PostgreSQL database is configured "
            "(set NEWSGRAPH_DATABASE_URL or --database-url; the TinyDB store has no schema to migrate)",
            file=sys.stderr,
        )
        return 2
    from graph.store import migrate

    print(asyncio.run(migrate(settings, rebuild=args.rebuild)))
    return 0


def format_table(header: tuple[str, str], rows: Sequence[tuple[str, str]]) -> str:
    """Rows under a header and a rule, columns padded to their widest cell."""
    left = max(len(cell) for cell, _ in (header, *rows))
    right = max(len(cell) for _, cell in (header, *rows))
    lines = [f"{header[0]:<{left}}  {header[1]}", f"{'-' * left}  {'-' * right}"]
    lines += [f"{key:<{left}}  {value}".rstrip() for key, value in rows]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
