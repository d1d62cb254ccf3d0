"""The public audit API under /api/v1/audit (read-only, anonymous allowed): the latest signed checkpoint, the
verifier key, every checkpoint, entries, RFC 9162 inclusion and consistency proofs, and the live stream
(server-sent events, resumable with Last-Event-ID). docs/audit-log.md describes the formats. The periodic
signer (a new signed checkpoint every few seconds while the log grows) is audit.tasks.sign_checkpoint."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from litestar import MediaType, Request, Response, Router, get
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy.orm import Session

from audit import CHECKPOINT_STALE_AFTER, SignedCheckpoint, feed, sign_checkpoint
from audit.queries import checkpoints_after, latest_checkpoint
from core.identity import Actor
from core.settings import Settings
from core.signing import signing_key, verifier_keys

log = logging.getLogger("etender.audit")
TAG = "Audit log"
STREAM_POLL = 0.5  # seconds between the live stream's looks at the log
STREAM_RETRY_MS = 2000


def _sign(db: Session, settings: Settings, stale_after: Any = None) -> SignedCheckpoint | None:
    key = signing_key(settings.data_dir, settings.origin)
    return sign_checkpoint(db, key, settings.origin, stale_after=stale_after)


@get(
    "/checkpoint",
    sync_to_thread=True,
    opt={"writes": True},
    media_type=MediaType.TEXT,
    summary="The latest signed checkpoint",
    description=(
        "A C2SP tlog-checkpoint (origin, tree size, base64 root) signed as a C2SP signed note with "
        "Ed25519. Signed on demand when the log grew and the latest checkpoint is older than two seconds."
    ),
)
def checkpoint(state: State, db: Session) -> Response[str]:
    _sign(db, state.settings, CHECKPOINT_STALE_AFTER)
    cp = latest_checkpoint(db) or _sign(db, state.settings)  # an empty log: sign the empty tree once
    assert cp is not None
    return Response(cp.note, media_type="text/plain; charset=utf-8")


@get(
    "/key",
    sync_to_thread=True,
    summary="The checkpoint verifier key",
    description=(
        "The note key name, key id and Ed25519 public key (the current one first, then earlier ones still "
        "valid for the checkpoints they signed), each also as a C2SP verifier key string."
    ),
)
def key(state: State) -> dict[str, Any]:
    keys = verifier_keys(state.settings.data_dir, state.settings.origin)
    out = [
        {
            "name": k.name,
            "key_id": k.id.hex(),
            "public_key": base64.b64encode(k.public).decode(),
            "verifier_key": k.encode(),
        }
        for k in keys
    ]
    return {**out[0], "keys": out}


@get(
    "/checkpoints",
    sync_to_thread=True,
    summary="Every signed checkpoint",
    description=(
        "The checkpoints the platform signed, smallest tree first, after the "
        "given size (at most 1000 per call)."
    ),
)
def list_checkpoints(
    db: Session, after: Annotated[int, Parameter(ge=-1, description="Only larger trees than this")] = -1
) -> dict[str, Any]:
    cps = checkpoints_after(db, after)
    return {
        "checkpoints": [
            {
                "size": c.size,
                "root": c.root.hex(),
                "time": c.time.isoformat(),
                "key_id": c.key_id,
                "note": c.note,
            }
            for c in cps
        ]
    }


@get(
    "/entries",
    sync_to_thread=True,
    summary="Entries start <= i < end",
    description=(
        "Each with its index, leaf hash (hex), canonical entry bytes (base64), the decoded entry, the "
        "details its details_digest commits to, and, once disclosed, the confidential details (salt "
        "and data). An entry withheld until its disclosure time is only "
        "{index, leaf_hash, withheld: true}. At most 1000 per call."
    ),
)
def entries(
    db: Session,
    actor: Actor,
    start: Annotated[int, Parameter(ge=0)] = 0,
    end: Annotated[int, Parameter(ge=0)] = 100,
) -> dict[str, Any]:
    return {"size": feed.size(db), "entries": feed.entries(db, start, end, actor)}


@get("/entries/{index:int}", sync_to_thread=True, summary="One entry")
def one_entry(db: Session, actor: Actor, index: int) -> dict[str, Any]:
    return feed.entry(db, index, actor)


@get("/proof/inclusion", sync_to_thread=True, summary="RFC 9162 inclusion proof")
def inclusion(
    db: Session, index: Annotated[int, Parameter(ge=0)], tree_size: Annotated[int, Parameter(ge=1)]
) -> dict[str, Any]:
    return {
        "leaf_index": index,
        "tree_size": tree_size,
        "hashes": [h.hex() for h in feed.inclusion(db, index, tree_size)],
    }


@get("/proof/consistency", sync_to_thread=True, summary="RFC 9162 consistency proof")
def consistency(
    db: Session, first: Annotated[int, Parameter(ge=0)], second: Annotated[int, Parameter(ge=0)]
) -> dict[str, Any]:
    return {
        "first": first,
        "second": second,
        "hashes": [h.hex() for h in feed.consistency(db, first, second)],
    }


def _last_event_id(request: Request, last_event_id: int | None) -> int:
    header = request.headers.get("last-event-id", "").strip()
    if header.lstrip("-").isdigit():
        return int(header)
    return -1 if last_event_id is None else last_event_id


@get(
    "/stream",
    summary="Live stream of new entries",
    description=(
        "Server-sent events: one `entry` event per new entry (the same JSON as /entries), its id the "
        "entry index. Resumable: the browser sends Last-Event-ID on reconnecting (or give "
        "last_event_id). Optional filters: tender, tag (or tag prefix), organisation, actor; a filter "
        "never matches an entry withheld until its disclosure time. The stream ends after max_idle "
        "seconds without news; clients reconnect."
    ),
)
async def stream(
    request: Request,
    state: State,
    actor: Actor,
    last_event_id: Annotated[
        int | None, Parameter(ge=-1, description="Send entries after this index")
    ] = None,
    tender: int | None = None,
    tag: Annotated[str, Parameter(max_length=60)] = "",
    organisation: int | None = None,
    actor_name: Annotated[
        str,
        Parameter(query="actor", max_length=64, description="The actor's user name as the entry shows it"),
    ] = "",
    max_idle: Annotated[float, Parameter(ge=0, le=300)] = 60.0,
) -> ServerSentEvent:
    cursor = _last_event_id(request, last_event_id)
    filt = feed.FeedFilter(
        tender=tender, tag=tag.strip(), organisation=organisation, actor=actor_name.strip()
    )
    factory = state.db_read

    def poll(after: int) -> tuple[list[dict[str, Any]], int]:
        with factory() as session:
            return feed.after(session, after, filt, reader=actor), feed.size(session)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        nonlocal cursor
        idle = 0.0
        yield ServerSentEventMessage(comment="etender audit stream", retry=STREAM_RETRY_MS, data=None)
        while True:
            found, size = await anyio.to_thread.run_sync(poll, cursor)
            for item in found:
                cursor = item["index"]
                yield ServerSentEventMessage(
                    id=cursor, event="entry", data=json.dumps(item, ensure_ascii=False, separators=(",", ":"))
                )
            if not found and size - 1 > cursor:
                cursor = (
                    size - 1
                )  # nothing passed the filter: move the client's Last-Event-ID on without an event
                yield ServerSentEventMessage(id=cursor, data=None)
            if len(found) >= 200:
                continue
            if found:
                idle = 0.0
            elif idle >= max_idle:
                return
            await asyncio.sleep(STREAM_POLL)
            idle += STREAM_POLL

    return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


audit_v1 = Router(
    "/api/v1/audit",
    route_handlers=[checkpoint, key, list_checkpoints, entries, one_entry, inclusion, consistency, stream],
    tags=[TAG],
    opt={"public": True},
)

ROUTES = [audit_v1]
