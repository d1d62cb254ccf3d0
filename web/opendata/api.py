"""The OCDS 1.1.5 open-data API under /api/v1/ocds (anonymous, read-only; docs/opendata.md): the release feed
as release packages paged by an opaque cursor, a record package per contracting process with its compiled
release, and etender's extensions (extension.json and its release-schema.json patch) that every package lists.

What the feed holds is decided when the releases are stored (opendata.releases.sync, which asks the
disclosure policy): a handler here only reads stored releases."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Response, Router, get
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from sqlalchemy.orm import Session

from core.errors import N_, NotFound
from opendata import releases, schema
from web.tender.api import ErrorResponse, validation_error_handler

TAG = "Open data (OCDS)"
OCDS_JSON = "application/json"


class Publisher(msgspec.Struct):
    name: str
    uri: str


class Links(msgspec.Struct):
    next: Annotated[
        str,
        msgspec.Meta(
            description=(
                "The next page: opaque, always present. At the end of the feed it returns an empty page and "
                "the same link, which then gives the releases stored later: poll it to follow the feed."
            )
        ),
    ]


class ReleasePackage(msgspec.Struct):
    """An OCDS 1.1 release package (release-package-schema.json, with `links`)."""

    uri: str
    version: str
    extensions: list[str]
    publishedDate: str  # noqa: N815 - OCDS field names
    publisher: Publisher
    releases: Annotated[
        list[dict[str, Any]],
        msgspec.Meta(description="OCDS releases, in the order they were published (oldest first)"),
    ]
    links: Links


class Record(msgspec.Struct):
    ocid: str
    releases: list[dict[str, Any]]
    compiledRelease: dict[str, Any]  # noqa: N815


class RecordPackage(msgspec.Struct):
    """An OCDS 1.1 record package: every release of one process and its compiled release (ocdsmerge)."""

    uri: str
    version: str
    extensions: list[str]
    publishedDate: str  # noqa: N815
    publisher: Publisher
    packages: list[str]
    records: list[Record]


@get(
    "/releases",
    sync_to_thread=True,
    summary="The OCDS release feed",
    description=(
        "Every OCDS release published, oldest first, as release packages of `limit` releases. Follow "
        "`links.next` (an opaque cursor): a page never changes once read, new releases only come after the "
        "last one. A release exists only once the change it reflects is public (docs/disclosure.md)."
    ),
    responses={
        400: ResponseSpec(ErrorResponse, description="The cursor is not valid (code ocds_bad_cursor)")
    },
)
def release_feed(
    db: Session,
    state: State,
    cursor: Annotated[
        str | None, Parameter(max_length=200, description="From links.next; absent: the start")
    ] = None,
    limit: Annotated[
        int, Parameter(ge=1, le=releases.MAX_PAGE_SIZE, description="Releases per page (1-1000)")
    ] = releases.PAGE_SIZE,
) -> Response[ReleasePackage]:
    settings = state.settings
    found = releases.page(db, cursor, limit)
    base = f"{settings.public_url.rstrip('/')}/api/v1/ocds/releases"
    here = f"{base}?cursor={cursor}&limit={limit}" if cursor else f"{base}?limit={limit}"
    body = releases.package_bytes(
        settings,
        here,
        [r.document.encode("utf-8") for r in found.releases],
        links={"next": f"{base}?cursor={found.next_cursor}&limit={limit}"},
    )
    return Response(body, media_type=OCDS_JSON)  # type: ignore[arg-type]


@get(
    "/records/{ocid:str}",
    sync_to_thread=True,
    summary="The OCDS record of a contracting process",
    description="Every release published for the process and its compiled release (compiled with ocdsmerge).",
    responses={
        404: ResponseSpec(ErrorResponse, description="No release has this ocid (code ocds_record_not_found)")
    },
)
def get_record(
    db: Session,
    state: State,
    ocid: Annotated[
        str, Parameter(max_length=120, description="The process's ocid: the prefix and the tender id")
    ],
) -> Response[RecordPackage]:
    package = releases.record_package(db, state.settings, ocid)
    return Response(releases.encode(package), media_type=OCDS_JSON)  # type: ignore[arg-type]


@get(
    "/extensions/{name:str}/{filename:str}",
    sync_to_thread=True,
    summary="An etender OCDS extension",
    description=(
        "extension.json or release-schema.json (a JSON Merge Patch of the 1.1.5 release schema) of one "
        "of the extensions the packages list."
    ),
    responses={
        404: ResponseSpec(ErrorResponse, description="No such extension file (code ocds_extension_not_found)")
    },
)
def get_extension(name: str, filename: str) -> Response[dict[str, Any]]:
    if name not in schema.EXTENSIONS or filename not in ("extension.json", "release-schema.json"):
        raise NotFound.one(
            "ocds_extension_not_found",
            N_("There is no such extension file. The packages' extensions list names every one."),
        )
    doc = schema.extension(name) if filename == "extension.json" else schema.extension_patch(name)
    return Response(doc, media_type=MediaType.JSON)


ocds_v1 = Router(
    "/api/v1/ocds",
    route_handlers=[release_feed, get_record, get_extension],
    tags=[TAG],
    exception_handlers={ValidationException: validation_error_handler},
)

ROUTES = [ocds_v1]
