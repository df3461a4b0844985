"""`seoga serve`: the API and the page (`seoga keys` says who may use them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seoga.cli.options import CollectionOption
from seoga.cli.output import console, error_console
from seoga.errors import InputError
from seoga.eventlog import DEFAULT_KEEP, DEFAULT_MAX_BYTES
from seoga.index.manifest import read_manifest
from seoga.serve import ServeSettings, server
from seoga.serve.keys import EVENTS, require_keys
from seoga.serve.limits import ConnectionLimits
from seoga.serve.security import LOOPBACK_HOSTS, is_loopback
from seoga.serve.settings import DEFAULT_EVENTS_PER_MINUTE, EVENT_WRITERS

BYTES_PER_MB = 1024 * 1024


def serve_command(
    collection: CollectionOption,
    host: Annotated[str, typer.Option(help="Address to listen on (this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    reader: Annotated[str, typer.Option(help="Reader for /v1/ask (as seoga ask).")] = (
        "highlighter"
    ),
    llm: Annotated[Path | None, typer.Option(help="Model for --reader llm.")] = None,
    rerank: Annotated[Path | None, typer.Option(help="A cross-encoder for /v1/ask.")] = None,
    recommender: Annotated[
        Path | None,
        typer.Option(help="A model folder saved by `seoga recommend fit` for /v1/recommend."),
    ] = None,
    allow_root: Annotated[
        list[Path] | None,
        typer.Option("--allow-root", help="A folder admin keys may index from (repeatable)."),
    ] = None,
    open_search: Annotated[
        bool,
        typer.Option("--open", help="Let requests without a key search (admin still needs one)."),
    ] = False,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="A web origin allowed to call the API (repeatable)."),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="A name clients reach the server by, besides loopback ones and --host "
            "(repeatable; NAME or NAME:PORT, *.domain; * allows any Host: only behind a proxy "
            "that checks Host itself). Others are refused, against DNS rebinding.",
        ),
    ] = None,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body, in MB.")] = 8.0,
    limit_concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            help="Requests handled at once; more are answered 503 with Retry-After (idle "
            "connections do not count).",
        ),
    ] = ConnectionLimits.requests_at_once,
    header_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a connection has to send a whole request head, from when it opens "
            "or its last answer; then it is closed (slow or idle clients).",
        ),
    ] = ConnectionLimits.header_timeout,
    keep_alive_timeout: Annotated[
        float,
        typer.Option(help="Seconds an idle keep-alive connection stays open after an answer."),
    ] = ConnectionLimits.keep_alive_timeout,
    body_timeout: Annotated[
        float,
        typer.Option(help="Seconds a request body may stall before the connection is closed."),
    ] = ConnectionLimits.body_timeout,
    connections_per_client: Annotated[
        int,
        typer.Option(
            min=1,
            help="Connections one client address may keep waiting for a request; a new one "
            "beyond closes its oldest waiting one.",
        ),
    ] = ConnectionLimits.connections_per_client,
    max_connections: Annotated[
        int,
        typer.Option(
            min=1,
            help="Open connections in all; beyond, the oldest waiting one is closed (a new one "
            "is refused only when all are busy with requests).",
        ),
    ] = ConnectionLimits.max_connections,
    graceful_seconds: Annotated[
        float, typer.Option(help="On SIGTERM, how long in-flight requests may finish.")
    ] = 30.0,
    int8_queries: Annotated[
        bool,
        typer.Option(
            help="Encode queries with int8 copies of the models: about a third of the CPU per "
            "query, vectors at cosine ~0.997 to float32 (the index is unchanged)."
        ),
    ] = False,
    event_writers: Annotated[
        str,
        typer.Option(
            help=f"Who may post /v1/events ({', '.join(EVENT_WRITERS)}): keys of the events "
            "scope (and admin); also search keys; also requests without a key under --open."
        ),
    ] = EVENTS,
    events_per_minute: Annotated[
        int,
        typer.Option(
            min=1, help="Events one key (or one address without a key) may post a minute."
        ),
    ] = DEFAULT_EVENTS_PER_MINUTE,
    events_max_mb: Annotated[
        float,
        typer.Option(min=0.01, help="Size of an event log file; past it the log is rotated."),
    ] = DEFAULT_MAX_BYTES / BYTES_PER_MB,
    events_keep: Annotated[
        int,
        typer.Option(
            min=1, help="Event log files kept (events.jsonl, events.1.jsonl, …); older ones go."
        ),
    ] = DEFAULT_KEEP,
) -> None:
    """Serve a collection over HTTP: the API under /v1, the page at /, the docs at /docs."""
    read_manifest(collection)
    try:
        limits = ConnectionLimits(
            header_timeout=header_timeout,
            keep_alive_timeout=keep_alive_timeout,
            body_timeout=body_timeout,
            connections_per_client=connections_per_client,
            max_connections=max_connections,
            requests_at_once=limit_concurrency,
        )
    except ValueError as error:
        raise InputError(str(error)) from error
    require_keys(collection, open_search)
    if not is_loopback(host):
        error_console.print(
            f"[yellow]warning:[/] listening on {escape(host)}: keys travel as plain text over "
            "HTTP; put a TLS proxy in front before other machines use it. Clients that reach "
            "it by another name need `--allowed-host NAME`.",
            highlight=False,
        )
    settings = ServeSettings(
        collection=collection,
        reader=reader,
        llm=llm,
        rerank=rerank,
        recommender=recommender,
        allowed_roots=list(allow_root or []),
        open_search=open_search,
        cors_origins=list(cors_origin or []),
        allowed_hosts=[*LOOPBACK_HOSTS, host, *(allowed_host or [])],
        max_body_bytes=int(max_body_mb * BYTES_PER_MB),
        int8_queries=int8_queries,
        event_writers=event_writers,
        events_per_minute=events_per_minute,
        events_max_bytes=int(events_max_mb * BYTES_PER_MB),
        events_keep=events_keep,
    )
    console.print(f"serving {escape(str(collection))} at http://{host}:{port}/", highlight=False)
    server.serve(settings, host, port, limits, graceful_seconds=graceful_seconds)


def register(parent: typer.Typer) -> None:
    parent.command("serve")(serve_command)
