"""The one disclosure policy: its table, its order, and the document that states it."""

from pathlib import Path

import pytest

from core.disclosure import POLICY, SOURCES, Audience, Fact, Phase, effective_phase, may_see, table

DOC = Path(__file__).parents[2] / "docs" / "disclosure.md"


def test_the_document_states_the_policy_the_code_applies():
    assert table() in DOC.read_text(encoding="utf-8")


def test_every_fact_has_a_row_and_a_source():
    assert set(POLICY) == set(Fact) == set(SOURCES)


@pytest.mark.parametrize("audience", [a for a in Audience if a != Audience.own_party])
def test_before_the_deadline_nobody_but_the_party_itself_learns_who_took_part(audience):
    assert not may_see(Fact.participation, {audience}, Phase.bidding)  # E21, L22
    assert may_see(Fact.participation, {Audience.own_party}, Phase.bidding)


@pytest.mark.parametrize("fact", [Fact.login, Fact.expert_pool])
def test_logins_and_the_expert_pool_are_never_public(fact):
    assert all(not may_see(fact, set(), phase) for phase in Phase)


def test_nobody_but_the_bidder_sees_a_price_before_the_record_is_published():
    readers = set(Audience) - {Audience.own_party}
    assert not may_see(Fact.bids, readers, Phase.opening)  # E27: nobody decrypts before the opening
    assert may_see(Fact.bids, set(), Phase.opened)  # E29, E32


def test_the_committee_list_is_confidential_until_the_result_is_final():
    parties = {Audience.agency, Audience.purchaser, Audience.own_party}
    assert not may_see(Fact.committee_names, parties, Phase.publicity)  # L37, P8
    assert may_see(Fact.committee_names, set(), Phase.final)


@pytest.mark.parametrize("fact", list(Fact))
@pytest.mark.parametrize("audience", list(Audience))
def test_once_disclosed_a_fact_stays_disclosed(fact, audience):
    seen = [may_see(fact, {audience}, phase) for phase in Phase]
    assert seen == sorted(seen)  # False ... False True ... True
    first = effective_phase(fact, audience)
    assert seen == [first is not None and phase >= first for phase in Phase]
