"""web.problems: the one shape of the JSON API's errors."""

from core.errors import Problem
from web.problems import error_json, problems_json


def test_the_first_problem_leads_and_every_problem_is_listed_in_the_readers_language():
    problems = [
        Problem("title_missing", "Give the tender a title.", "title"),
        Problem("deadline_too_soon", "At least %(days)s days.", "bid_deadline", {"days": 20}, "L24"),
    ]
    body = problems_json("en", problems)
    assert body == {
        "error": {
            "code": "title_missing",
            "message": "Give the tender a title.",
            "problems": [
                {
                    "code": "title_missing",
                    "field": "title",
                    "rule": None,
                    "message": "Give the tender a title.",
                },
                {
                    "code": "deadline_too_soon",
                    "field": "bid_deadline",
                    "rule": "L24",
                    "message": "At least 20 days.",
                },
            ],
        }
    }
    chinese = problems_json("zh", problems)["error"]
    assert chinese["message"] == chinese["problems"][0]["message"] == "请填写招标项目名称。"


def test_an_http_error_without_problems_has_an_empty_list():
    assert error_json("not_found", "This page does not exist.") == {
        "error": {"code": "not_found", "message": "This page does not exist.", "problems": []}
    }
