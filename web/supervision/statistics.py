"""The public trading statistics (交易统计): supervision.statistics' figures for a period, as a page and as a
CSV file for the centre's reports. A period people type wrong is answered with the page and a message, the
dates they typed kept."""

from __future__ import annotations

import csv
import io
from datetime import date

from litestar import Request, Response, get
from litestar.response import Template
from sqlalchemy.orm import Session

from core import clock, money
from core.errors import N_
from core.i18n import message_text
from core.identity import Actor
from supervision import statistics
from web.deps import locale_of, page

REFUSALS = {
    "date": N_("Type a date as YYYY-MM-DD, for example 2026-01-01."),
    "order": N_("The period ends before it starts: the first day must come before the last."),
}


def _period(start: str, end: str) -> tuple[date, date, dict[str, str]]:
    """The period the query names, the default one (this year so far) for what is left out, and the
    problems found, by field."""
    first, last = statistics.default_period(clock.to_cst(clock.now()).date())
    errors: dict[str, str] = {}
    for name, value in (("start", start), ("end", end)):
        if not value.strip():
            continue
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            errors[name] = REFUSALS["date"]
            continue
        first, last = (parsed, last) if name == "start" else (first, parsed)
    if not errors and last < first:
        errors["end"] = REFUSALS["order"]
    return first, last, errors


@get("/statistics", sync_to_thread=True, include_in_schema=False)
def statistics_page(
    request: Request, db: Session, actor: Actor, start: str = "", end: str = ""
) -> Template:
    """Public; the actor only for the page's header (who is logged in)."""
    first, last, errors = _period(start, end)
    report = None if errors else statistics.report(db, first, last)
    return page(
        request,
        "statistics/index.html",
        status_code=400 if errors else 200,
        report=report,
        errors=errors,
        typed={"start": start or first.isoformat(), "end": end or last.isoformat()},
        categories=statistics.CATEGORIES,
    )


@get("/statistics.csv", sync_to_thread=True, include_in_schema=False)
def statistics_csv(request: Request, db: Session, start: str = "", end: str = "") -> Response[bytes]:
    first, last, errors = _period(start, end)
    locale = locale_of(request)
    if errors:
        text = "\n".join(message_text(locale, m) for m in errors.values())
        return Response(text.encode(), status_code=400, media_type="text/plain; charset=utf-8")
    report = statistics.report(db, first, last)
    t = lambda key: message_text(locale, key)  # noqa: E731
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            t("Line"),
            t("Projects awarded"),
            t("Awarded (yuan)"),
            t("Estimates (yuan)"),
            t("Saved (yuan)"),
            t("Savings rate (%%)"),
        ]
    )
    lines = [(t("All awarded procedures"), report.total)]
    lines += [(t("category:" + c), report.by_category[c]) for c in statistics.CATEGORIES]
    lines += [
        (t("Government procurement"), report.government_procurement),
        (t("Tendering law procedures"), report.construction),
    ]
    for name, line in lines:
        rate = line.savings_rate
        writer.writerow(
            [
                name,
                line.projects,
                money.yuan_plain(line.amount),
                money.yuan_plain(line.estimate),
                money.yuan_plain(line.savings),
                "" if rate is None else str(rate),
            ]
        )
    filename = f"statistics-{first.isoformat()}-{last.isoformat()}.csv"
    # a BOM so that Excel, which most centres open these with, reads the Chinese as UTF-8
    return Response(
        ("\ufeff" + out.getvalue()).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


ROUTES = [statistics_page, statistics_csv]
