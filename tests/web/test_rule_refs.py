"""Rule codes become plain references linked to /rules (web/rule_refs.py), the /rules page itself, and the
escaping of messages around the links."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from jinja2 import Environment

from core.errors import Problem
from tests.factories.rule_citations import TABLE, first_citations, table_codes
from web import rule_refs
from web.i18n import catalogue

R21_MOVED = "The bid deadline moved from %(before)s to %(after)s so that 15 days remain (R21)."


def test_the_parser_reads_every_code_of_docs_rules_md():
    listed = table_codes(TABLE.read_text(encoding="utf-8"))
    assert set(rule_refs.index()) == listed and len(listed) > 60
    p32 = rule_refs.index()["P32"]  # inside the range P30–33: the range's row
    assert (p32.cell, p32.anchor, p32.statute_zh) == ("P30–33", "P30", "评标委员会和评标方法暂行规定")
    assert rule_refs.index()["L24"].says.startswith("At least 20 days")


def test_every_cited_code_has_a_reference_in_both_languages_and_a_chinese_meaning():
    zh = catalogue("zh")
    missing = []
    for code, where in first_citations().items():
        for locale in ("zh", "en"):
            if rule_refs.reference(code, locale) is None:
                missing.append(f"{code} ({where}): no {locale} reference")
        rule = rule_refs.index().get(code)
        if rule is None or zh.get(rule.says, rule.says) == rule.says:
            missing.append(f"{code} ({where}): no Chinese of what it says")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("(L24)", "（《招标投标法》第二十四条）", "(Tendering Law, art. 24)"),
        ("R18-20", "《招标投标法实施条例》第十八条至第二十条", "Tendering Law Regulation, arts. 18–20"),
        (
            "P30–33",
            "《评标委员会和评标方法暂行规定》第三十条至第三十三条",
            "Evaluation Committee Provisions, arts. 30–33",
        ),
        ("(R46, R48)", "（《招标投标法实施条例》第四十六条、《招标投标法实施条例》第四十八条）", None),
        ("G87 art. 55", "《政府采购货物和服务招标投标管理办法》第五十五条", "MoF Order 87, art. 55"),
        ("（G87 第五十五条）", "（《政府采购货物和服务招标投标管理办法》第五十五条）", None),
        ("G87-47", None, "MoF Order 87, art. 47"),
        ("GR9", "《政府采购法实施条例》第九条", "Government Procurement Regulation, art. 9"),
        ("O13", "发改法规规〔2022〕1117号第十三项", "NDRC Opinions 2022 No. 1117, item 13"),
        (
            "(R22: 3 days)",
            "(《招标投标法实施条例》第二十二条: 3 days)",
            None,
        ),  # a sentence keeps its brackets
        # not articles: the average-benchmark coefficients, lint codes, curves, words
        ("扣分系数E1", "扣分系数E1", "扣分系数E1"),
        ("E402 P256 1E27 E27s", "E402 P256 1E27 E27s", "E402 P256 1E27 E27s"),
    ],
)
def test_plain_references(text, zh, en):
    if zh is not None:
        assert rule_refs.plain(text, "zh") == zh
    if en is not None:
        assert rule_refs.plain(text, "en") == en


def test_a_linked_reference_escapes_the_text_around_it():
    out = rule_refs.linked("a < b & c (R44)", "en")
    assert out == 'a &lt; b &amp; c (<a class="rule" href="/rules#R44">Tendering Law Regulation, art. 44</a>)'
    assert rule_refs.rule_link("L37, P9", "zh") == (
        '<span class="rule">（<a class="rule" href="/rules#L37">《招标投标法》第三十七条</a>、'
        '<a class="rule" href="/rules#P9">《评标委员会和评标方法暂行规定》第九条</a>）</span>'
    )
    assert rule_refs.rule_link("not a code", "zh") == ""


# ---------------------------------------------------------------- in templates


def _env(app) -> Environment:  # type: ignore[no-untyped-def]
    return app.template_engine.engine


def _render(env: Environment, source: str, locale: str, **context) -> str:  # type: ignore[no-untyped-def]
    request = SimpleNamespace(cookies={"lang": locale})
    return env.from_string(source).render(request=request, **context)


def test_gettext_links_the_codes_and_escapes_the_parameters(app):
    # Jinja's newstyle gettext (jinja2/ext.py _make_new_gettext) takes what our gettext returns as Markup and
    # formats it with the parameters escaped: a parameter cannot inject HTML, nor is it linked.
    env = _env(app)
    source = '{{ _("' + R21_MOVED + '", before=before, after="(R44)") }}'
    zh = _render(env, source, "zh", before="<script>alert(1)</script>")
    assert "<script>" not in zh and "&lt;script&gt;alert(1)&lt;/script&gt;" in zh
    assert '（<a class="rule" href="/rules#R21">《招标投标法实施条例》第二十一条</a>）' in zh
    assert "(R44)" in zh and "R21" not in zh.replace("/rules#R21", "")  # a parameter is never linked
    en = _render(env, source, "en", before="<b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;" in en
    assert '(<a class="rule" href="/rules#R21">Tendering Law Regulation, art. 21</a>).' in en


def test_a_problem_is_linked_its_parameters_escaped_and_plain_inside_a_link(app):
    env = _env(app)
    p = Problem("too_soon", R21_MOVED, "bid_deadline", {"before": "<i>1</i>", "after": "2"}, "R21")
    out = _render(
        env, "{{ problem_text(p) }}|{{ problem_text(p, links=False) }}|{{ rule_ref(p.rule) }}", "en", p=p
    )
    linked, plain, rule = out.split("|")
    assert "&lt;i&gt;1&lt;/i&gt;" in linked and '<a class="rule" href="/rules#R21">' in linked
    assert (
        plain == "The bid deadline moved from &lt;i&gt;1&lt;/i&gt; to 2 so that 15 days remain "
        "(Tendering Law Regulation, art. 21)."
    )
    assert (
        rule == ' <span class="rule">(<a class="rule" href="/rules#R21">'
        "Tendering Law Regulation, art. 21</a>)</span>"
    )


def test_a_flash_message_is_linked_and_a_notification_title_is_plain(app):
    env = _env(app)
    flash = "Your conflict is recorded and your seat goes to a substitute (R46, R48)."
    # base.html shows the flash with {{ _(flash) }}
    out = _render(env, "{{ _(flash) }}", "zh", flash=flash)
    assert out.count('<a class="rule" href="/rules#R4') == 2 and "R46、" not in out and "(R4" not in out
    # a notification's title is the text of a link on /notifications: plain references, no HTML
    title = _render(env, "{{ message_text(key, {}) }}", "zh", key=flash)
    assert "<a" not in title and "《招标投标法实施条例》第四十六条" in title and "R46" not in title


def test_a_plain_text_template_gets_plain_references(app):
    plain_env = _env(app).overlay(autoescape=False)
    out = _render(plain_env, '{{ _("' + R21_MOVED + '", before="<b>", after="2") }}', "en")
    assert (
        out
        == "The bid deadline moved from <b> to 2 so that 15 days remain (Tendering Law Regulation, art. 21)."
    )


# ---------------------------------------------------------------- the /rules page

LONG_ENGLISH = re.compile(r"[A-Za-z][\w'.-]*(?:[\s,;:()/–-]+[A-Za-z][\w'.-]*){3,}")


def _main(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"<[^>]*>", " ", main)  # the text only: attributes (ids, links) hold codes


def test_the_rules_page_in_chinese_has_no_english_sentence(client):
    client.cookies.set("lang", "zh")
    r = client.get("/rules")
    assert r.status_code == 200
    assert '<tr id="L24">' in r.text and '<span id="P31"></span>' in r.text and 'id="G87-55"' in r.text
    assert (
        "《招标投标法》第二十四条" in r.text
        and "自招标文件开始发出之日起至投标截止之日止，最短不得少于20日。" in r.text
    )
    assert "中华人民共和国招标投标法实施条例（2019年修订）" in r.text
    # a code cited in a rule's meaning links to its own rule
    assert '（另见<a class="rule" href="/rules#E21">《电子招标投标办法》第二十一条</a>）' in r.text
    text = _main(r.text)
    assert not LONG_ENGLISH.findall(text), LONG_ENGLISH.findall(text)[:5]
    assert not re.search(r"(?<![\w-])(?:GR|L|R|E|P|O)\d{1,2}(?!\w)", text)  # no raw code either
    assert '<a href="/rules">法规依据</a>' in client.get("/login").text  # the footer links it


def test_the_rules_page_in_english(client):
    client.cookies.set("lang", "en")
    r = client.get("/rules")
    assert r.status_code == 200
    assert (
        "Tendering Law, art. 24" in r.text and "At least 20 days from the day the tender documents" in r.text
    )
    assert "<h2>Tendering and Bidding Law, 2017 revision</h2>" in r.text
    assert not re.search(r"(?<![\w-])(?:GR|L|R|E|P|O)\d{1,2}(?!\w)", _main(r.text))


def test_the_opening_record_pdf_names_its_rule_by_its_plain_reference():
    from tender.opening import record

    assert rule_refs.plain("R44", "zh") == record.R44_ZH and rule_refs.plain("R44", "en") == record.R44_EN


def test_a_message_written_inside_a_tag_gets_plain_references(app):
    # keys/seal.html gives its script messages in data- attributes: a link there would break the attribute
    from web.templating import attribute_messages

    msg = "This tender needs your own bidder key as well (E30): choose your key file."
    assert msg in attribute_messages()
    out = _render(_env(app), "{{ _(msg) }}", "en", msg=msg)
    assert (
        out == "This tender needs your own bidder key as well (Electronic Bidding Measures, art. 30): "
        "choose your key file."
    )


def test_no_notification_title_cites_a_code():
    # An e-mail's subject is a notification's title, rendered by accounts.notifications in core.i18n, which
    # cannot reach web.rule_refs: a title citing a rule would show the code. None does; this keeps it so.
    from tests.factories.rule_citations import ROOT, cited_codes, product_files

    title = re.compile(r'(?:title=|_MESSAGE = )N_\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)')
    citing = [
        f"{path.relative_to(ROOT)}: {m.group(1)[:60]}"
        for path in product_files()
        if path.suffix == ".py"
        for m in title.finditer(path.read_text(encoding="utf-8"))
        if cited_codes(m.group(1))
    ]
    sources = [p.read_text(encoding="utf-8") for p in product_files() if p.suffix == ".py"]
    found = sum(len(title.findall(text)) for text in sources)
    assert found >= 10 and not citing, citing
