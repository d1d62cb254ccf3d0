"""The public audit log for people: the entries in the reader's language, withheld ones as such, older ones
page by page, and an entry page that checks its proof in the browser (the e2e check is the proof script's)."""

from __future__ import annotations

import re

from tender import participation
from tests.factories.tenders import published_tender

TAG = re.compile(r"\b(tender|auth|audit|evaluation|user|org)\.[a-z_]+(\.[a-z_]+)*\b")


def test_the_public_log_names_events_for_people_and_withholds_participation(client, db, make, blobs):
    w = published_tender(db, make, blobs)
    participation.register(db, w.bidder, w.tender.id, w.lot1.id)
    db.commit()
    client.cookies.clear()
    client.cookies.set("lang", "zh")
    page = client.get("/audit")
    assert page.status_code == 200
    text = page.text
    assert "公开审计日志" in text and "发布招标公告" in text  # the event named for people, not its tag
    assert w.tender.reference in text  # a published tender's entries link to its notice
    assert "在公开时间之前暂不公开" in text  # the registration: only that an entry exists
    assert "Bidder One" not in text and w.bidder.username not in text
    assert not TAG.search(re.sub(r"<[^>]+>", " ", text)), TAG.search(re.sub(r"<[^>]+>", " ", text))
    client.cookies.set("lang", "en")
    assert "Withheld until its disclosure time" in client.get("/audit").text


def test_older_entries_come_page_by_page(client, db, make, blobs):
    published_tender(db, make, blobs)
    db.commit()
    newest = [int(n) for n in re.findall(r'href="/audit/entries/(\d+)"', client.get("/audit").text)]
    assert newest == sorted(newest, reverse=True) and len(newest) <= 50
    older = client.get("/audit?before=5").text
    assert [int(n) for n in re.findall(r'href="/audit/entries/(\d+)"', older)] == [4, 3, 2, 1, 0]
    assert re.search(r'href="/audit\?before=\d+">', older)  # the way back to newer entries
    assert "较早的条目" not in older and "Older entries" not in older  # nothing before entry 0


def test_an_entry_page_checks_its_proof_and_a_withheld_one_shows_no_content(client, db, make, blobs):
    w = published_tender(db, make, blobs)
    participation.register(db, w.bidder, w.tender.id, w.lot1.id)
    db.commit()
    client.cookies.set("lang", "zh")
    listing = client.get("/audit").text
    withheld = re.search(r'<td class="num">(\d+)</td>\s*<td colspan="3" class="muted">', listing)
    assert withheld is not None
    page = client.get(f"/audit/entries/{withheld.group(1)}").text
    assert 'data-withheld="yes"' in page and "audit-proof.js" in page
    assert 'id="entry-bytes"' not in page
    assert client.get("/audit/entries/999999").status_code == 404


def test_the_monitors_log_links_back_to_supervision_only_for_a_monitor(app, db, make, blobs):
    """An administrator reads the monitors' audit log but may not open the supervision page: its trail does
    not offer the link (issue 16: breadcrumbs only link where the reader may go)."""
    from tests.web.support import clients

    published_tender(db, make, blobs)
    make.user(make.org("admin"), "admin", username="root1")
    make.user(make.org("monitor"), "monitor", username="watcher1")
    db.commit()
    with clients(app, "root1", "watcher1") as c:
        for name, may in (("root1", False), ("watcher1", True)):
            assert (c[name].get("/monitor", follow_redirects=False).status_code == 200) is may
            for path in ("/monitor/audit", "/monitor/audit/entries/0"):
                page = c[name].get(path)
                assert page.status_code == 200, (name, path)
                assert ('href="/monitor"' in page.text.split("<main", 1)[-1]) is may, (name, path)
