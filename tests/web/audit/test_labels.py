"""Every event of the audit log has a plain name in both languages (issue 16: tags like tender.key.registered
were shown to monitors and on the public log): the one mapping the monitors' pages and the public audit page
read covers every registered tag."""

from __future__ import annotations

import web.app  # noqa: F401 - every feature's tags registered, as in the running app
from audit.events import registered
from web.i18n import translate
from web.supervision.monitor import EVENT_LABELS


def test_every_registered_tag_has_a_label_in_chinese_and_english():
    tags = sorted(registered())
    assert len(tags) > 70
    missing = [t for t in tags if t not in EVENT_LABELS]
    assert not missing, missing
    for tag in tags:
        english = EVENT_LABELS[tag]
        chinese = translate("zh", english, None)
        assert chinese != english and not chinese.isascii(), (tag, english)
        assert "." not in english.split()[0], tag  # a name, not the tag again


def test_no_label_is_a_tag():
    assert not set(EVENT_LABELS.values()) & set(registered())
