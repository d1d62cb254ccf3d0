"""Prometheus metrics for operators (issue 17; docs/deploy.md, "Metrics and logs").

Requests by route and status come from Litestar's Prometheus plugin (its middleware, the route's path
template as the label, never the concrete path with its ids). At each scrape the platform's own figures are
added (supervision.operations: bids of closed tenders, openings and their outcomes, the oldest decryption
claim, the latest checkpoint's age; core.tasks: the broker queue's depth). With several web processes per
machine set PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) so that a scrape of any one of
them sums all.

/metrics answers only a scrape carrying `Authorization: Bearer $ETENDER_METRICS_TOKEN`, and is a 404 to
everyone else and when no token is set: its figures are for the operator, not the public."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from litestar import Request, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core import tasks
from supervision.operations import figures

PROMETHEUS = PrometheusConfig(
    app_name="etender",
    prefix="etender",
    group_path=True,  # /tenders/{tender_id:int}, not one series per tender
    exclude=[r"^/metrics$", r"^/static/"],
    exclude_unhandled_paths=True,
)


class _Figures(Collector):
    """The platform's figures, read from the database and the broker when scraped."""

    def __init__(self, state: State):
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.state.db_read() as session:
            f = figures(session)
        yield _by("etender_bids", "Bids of tenders whose bidding has closed, by status", "status", f.bids)
        yield _by("etender_openings", "Openings by status", "status", f.openings)
        yield _by(
            "etender_opening_bids",
            "Bids of openings in progress, by outcome so far",
            "status",
            f.opened_bids,
        )
        yield _one(
            "etender_opening_oldest_claim_seconds",
            "How long the oldest bid being decrypted has been claimed (a dead worker's bid waits here)",
            f.oldest_claim_seconds,
        )
        yield _one(
            "etender_audit_checkpoint_size", "Entries covered by the latest checkpoint", f.checkpoint_size
        )
        yield _one(
            "etender_audit_checkpoint_age_seconds",
            "Seconds since the latest signed checkpoint",
            f.checkpoint_age_seconds,
        )
        try:
            depth = tasks.queue_depth()
        except Exception:  # noqa: BLE001 - a broker down is /healthz's to report; the gauge is then absent
            depth = None
        yield _one("etender_task_queue_depth", "Tasks waiting in the broker's queue", depth)


def _by(name: str, documentation: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([str(key)], value)
    return family


def _one(name: str, documentation: str, value: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    if value is not None:
        family.add_metric([], value)
    return family


def _authorised(request: Request[Any, Any, Any], token: str) -> bool:
    sent = request.headers.get("authorization", "")
    return bool(token) and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


@get("/metrics", sync_to_thread=True, include_in_schema=False, opt={"public": True})
def metrics(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    if not _authorised(request, state.settings.metrics_token):
        raise NotFoundException()
    registry: CollectorRegistry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    own = CollectorRegistry()
    own.register(_Figures(state))
    body = generate_latest(registry) + generate_latest(own)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


ROUTES = [metrics]
