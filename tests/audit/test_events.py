"""The audit vocabulary: features register their tags; record() takes only registered ones."""

import enum

import pytest

import accounts.events
import evaluation.events
import tender.events
from audit import events


def test_every_features_tags_are_registered_once_each():
    vocabularies = [
        events.AuditTag,
        accounts.events.AccountTag,
        tender.events.TenderTag,
        evaluation.events.EvaluationTag,
    ]
    values = [t.value for v in vocabularies for t in v]
    assert len(values) == len(set(values))
    assert set(values) <= set(events.registered())
    assert events.registered_tag("tender.bid.submitted") is tender.events.TenderTag.bid_submitted


def test_a_value_another_feature_registered_is_refused():
    class Copy(enum.StrEnum):
        mine = "tender.bid.submitted"

    with pytest.raises(ValueError, match="registered twice"):
        events.register(Copy)
    assert events.registered_tag("tender.bid.submitted") is tender.events.TenderTag.bid_submitted


def test_an_unregistered_value_is_not_a_tag():
    with pytest.raises(ValueError, match="not a registered audit tag"):
        events.registered_tag("tender.secretly.changed")
