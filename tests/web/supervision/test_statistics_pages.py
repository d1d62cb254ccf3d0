"""The public trading statistics page and its CSV, in both languages, and a period typed wrong."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from core.clock import CST
from tests.factories.accounts import cast
from tests.factories.statistics import awarded


def test_the_page_shows_the_period_s_awards_and_savings_in_chinese_and_english(client, db, make, blobs):
    w = cast(db, make)
    awarded(w, blobs, amount=900_000_00, estimate=1_000_000_00, at=datetime(2026, 3, 10, 9, 0, tzinfo=CST))
    db.commit()
    r = client.get("/statistics?start=2026-03-01&end=2026-03-31")
    assert r.status_code == 200
    assert "交易统计" in r.text and "节约资金" in r.text
    assert "900,000.00" in r.text and "100,000.00" in r.text and "10.00" in r.text
    client.cookies.set("lang", "en")
    r = client.get("/statistics?start=2026-03-01&end=2026-03-31")
    assert "Trading statistics" in r.text and "Saved (yuan)" in r.text and "交易统计" not in r.text
    r = client.get("/statistics?start=2026-04-01&end=2026-04-30")
    assert "900,000.00" not in r.text


def test_a_wrong_date_says_how_to_type_it_and_keeps_what_was_typed(client):
    r = client.get("/statistics?start=2026-13-01&end=2026-03-31")
    assert r.status_code == 400
    assert "请按“年-月-日”格式填写日期" in r.text
    assert 'value="2026-13-01"' in r.text and 'value="2026-03-31"' in r.text
    r = client.get("/statistics?start=2026-03-31&end=2026-03-01")
    assert r.status_code == 400 and "截止日期早于起始日期" in r.text


def test_the_csv_opens_in_a_spreadsheet_with_the_same_figures(client, db, make, blobs):
    w = cast(db, make)
    awarded(
        w,
        blobs,
        amount=480_000_00,
        estimate=500_000_00,
        at=datetime(2026, 4, 2, tzinfo=CST),
        category="works",
        government_procurement=False,
    )
    db.commit()
    r = client.get("/statistics.csv?start=2026-04-01&end=2026-04-30")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "statistics-2026-04-01-2026-04-30.csv" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "项目类别"
    total = rows[1]
    assert total == ["全部定标项目", "1", "480000.00", "500000.00", "20000.00", "4.00"]
    works = next(row for row in rows if row[0] == "工程")
    assert works[1] == "1"
    assert client.get("/statistics.csv?start=x").status_code == 400
