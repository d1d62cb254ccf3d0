"""Parsing of the agency's tender form (pure: no database, no app)."""

from datetime import UTC, datetime

from core.clock import CST
from web.tender.forms import blank_form, parse_tender_form, read_form


def good_form(**changes):
    data = {
        "title": "城区道路改造工程",
        "purchaser_id": "7",
        "category": "works",
        "government_procurement": "1",
        "region": "丰润区",
        "description": "道路与排水",
        "contact_name": "王工",
        "contact_phone": "0315-1234567",
        "lots.0.name": "一标段",
        "lots.0.estimated_price": "1,000,000.00",
        "lots.0.price_ceiling": "1200000",
        "lots.0.bid_security": "20000.5",
        "lots.0.description": "主路",
        "lots.1.name": "",
        "lots.1.estimated_price": "",
        "lots.2.name": "二标段",
        "lots.2.estimated_price": "500000",
        "lots.2.price_ceiling": "550000",
        "lots.2.bid_security": "",
        "evaluation_method": "average_benchmark",
        "criteria.qualification": "营业执照\n\n  市政公用工程施工总承包三级  \n",
        "criteria.compliance": "投标有效期\n工期",
        "criteria.factors.0.name": "施工组织设计",
        "criteria.factors.0.points": "30",
        "criteria.factors.0.kind": "subjective",
        "criteria.factors.1.name": "",
        "criteria.factors.1.points": "",
        "criteria.factors.1.kind": "objective",
        "criteria.factors.2.name": "业绩",
        "criteria.factors.2.points": "10.5",
        "criteria.factors.2.kind": "objective",
        "criteria.price.points": "59.5",
        "criteria.benchmark.e1": "1",
        "criteria.benchmark.e2": "0.5",
        "doc_issue_start": "2025-06-03T09:00",
        "doc_issue_end": "2025-06-10T17:00",
        "question_deadline": "",
        "bid_deadline": "2025-06-30T09:30",
        "opening_place": "开标一室",
        "key_holder_ids": ["3", "5"],
        "key_threshold": "2",
        "opening_policy": "quorum+bidder",
    }
    data.update(changes)
    return data


def fields(problems):
    return [p.field for p in problems]


def test_good_form_gives_a_complete_tender_input():
    data, problems = parse_tender_form(good_form())
    assert problems == []
    assert data.title == "城区道路改造工程"
    assert data.purchaser_id == 7 and data.category == "works" and data.government_procurement is True
    assert data.state_funded is False  # checkbox not sent
    assert [lot.name for lot in data.lots] == ["一标段", "二标段"]  # the empty row is ignored
    assert data.lots[0].estimated_price == 100_000_000
    assert data.lots[0].price_ceiling == 120_000_000
    assert data.lots[0].bid_security == 2_000_050
    assert data.lots[1].bid_security is None
    assert data.criteria["qualification"] == ["营业执照", "市政公用工程施工总承包三级"]
    assert data.criteria["compliance"] == ["投标有效期", "工期"]
    assert data.criteria["factors"] == [
        {"name": "施工组织设计", "points": 30, "kind": "subjective"},
        {"name": "业绩", "points": 10.5, "kind": "objective"},
    ]
    assert data.criteria["price"] == {"points": 59.5}
    assert data.criteria["benchmark"] == {"e1": 1, "e2": 0.5}
    assert data.doc_issue_start == datetime(2025, 6, 3, 9, 0, tzinfo=CST)
    assert data.bid_deadline == datetime(2025, 6, 30, 1, 30, tzinfo=UTC)
    assert data.question_deadline is None
    assert data.key_holder_ids == [3, 5] and data.key_threshold == 2
    assert data.opening_policy == "quorum+bidder"


def test_benchmark_coefficients_only_for_the_benchmark_method():
    data, problems = parse_tender_form(good_form(evaluation_method="comprehensive"))
    assert problems == []
    assert "benchmark" not in data.criteria


def test_bad_money_names_the_lot_field():
    _, problems = parse_tender_form(
        good_form(**{"lots.2.price_ceiling": "55万", "lots.0.bid_security": "-5"})
    )
    # The empty row 1 is dropped, so the second lot is row 1 of the parsed form.
    assert sorted(fields(problems)) == ["lots.0.bid_security", "lots.1.price_ceiling"]
    ceiling = next(p for p in problems if p.field == "lots.1.price_ceiling")
    assert ceiling.message == "Lot %(n)s: the price ceiling is not an amount in yuan, e.g. 1200000.00"
    assert ceiling.params == {"n": 2}


def test_bad_dates_name_their_fields():
    _, problems = parse_tender_form(good_form(bid_deadline="2025-13-40T09:00", doc_issue_end="next week"))
    assert sorted(fields(problems)) == ["bid_deadline", "doc_issue_end"]
    assert all(p.code == "date_invalid" for p in problems)


def test_bad_numbers_name_their_fields():
    _, problems = parse_tender_form(
        good_form(
            **{
                "criteria.factors.2.points": "ten",
                "criteria.price.points": "sixty",
                "criteria.benchmark.e2": "x",
                "key_threshold": "two",
            }
        )
    )
    assert sorted(fields(problems)) == [
        "criteria.benchmark.e2",
        "criteria.factors.1.points",
        "criteria.price.points",
        "key_threshold",
    ]


def test_missing_fields_are_reported():
    _, problems = parse_tender_form(
        {"lots.0.estimated_price": "100", "criteria.factors.0.name": "技术", "evaluation_method": "nonsense"}
    )
    assert set(fields(problems)) == {
        "title",
        "purchaser_id",
        "category",
        "evaluation_method",
        "lots.0.name",
        "criteria.factors.0.points",
    }


def test_no_lots_at_all():
    _, problems = parse_tender_form(
        good_form(
            **{
                f"lots.{i}.{f}": ""
                for i in range(3)
                for f in ("name", "estimated_price", "price_ceiling", "bid_security", "description")
            }
        )
    )
    assert [p.code for p in problems] == ["lots_missing"]


def test_read_form_keeps_what_was_typed_and_the_row_count():
    form = read_form(good_form(**{"lots.5.name": "六标段", "lots.2.price_ceiling": "abc"}))
    assert form["title"] == "城区道路改造工程"
    assert [row["name"] for row in form["lots"]] == ["一标段", "二标段", "六标段"]
    assert form["lots"][1]["price_ceiling"] == "abc"
    assert form["lot_rows"] == 6
    assert form["key_holder_ids"] == ["3", "5"]
    assert blank_form()["lot_rows"] == 3 and blank_form()["state_funded"] is True
