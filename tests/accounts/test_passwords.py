"""accounts/passwords.py: the strength rule (policy) and its feedback in the reader's language."""

from accounts.passwords import MIN_PASSWORD, strength_problems
from demo import county
from tests.factories.accounts import TEST_PASSWORD
from web.i18n import catalogue


def codes(password: str, *inputs: str) -> list[str]:
    return [p.code for p in strength_problems(password, inputs)]


def test_length_alone_is_not_enough():
    assert codes("aaaaaaaaaa") == [
        "password_weak",
        "password_weak_why",
        "password_weak_why",
        "password_weak_why",
    ]
    assert [p.message for p in strength_problems("aaaaaaaaaa")][1] == 'Repeats like "aaa" are easy to guess.'
    assert codes("1234567890")[0] == "password_weak"
    assert "This is a top-100 common password." in [p.message for p in strength_problems("1234567890")]


def test_a_minimum_length_stays():
    short = strength_problems("x7#Qv!pz")
    assert [(p.code, p.params) for p in short] == [("password_short", {"n": MIN_PASSWORD})]


def test_words_about_the_person_make_a_password_guessable():
    assert codes("HuangshanJiancai") == []
    assert codes("HuangshanJiancai", "Huangshan Jiancai Ltd")[0] == "password_weak"  # the organisation's name


def test_the_problems_name_the_field_they_are_about():
    assert {p.field for p in strength_problems("aaaaaaaaaa", (), "new")} == {"new"}


def test_every_feedback_sentence_has_a_chinese_translation():
    zh = catalogue("zh")
    for password in (
        "aaaaaaaaaa",
        "abcabcabcabc",
        "qwertyuiop",
        "1234567890",
        "password2024",
        "Password1!",
        "drowssapdrowssap",
    ):
        for problem in strength_problems(password):
            assert problem.message in zh, problem.message


def test_the_factories_and_the_demo_passwords_pass():
    assert strength_problems(TEST_PASSWORD, ["bidder1", "Test 1", "bidder 1"]) == []
    for account in county.ACCOUNTS:
        assert strength_problems(county.PASSWORDS[account.role], [account.username, account.full_name]) == []
