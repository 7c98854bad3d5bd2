"""The rules for telling the child, the family and the agencies (core.telling): what stops closure, read back from
what the store keeps, and each professional of the multi-agency network as one contact."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from service.core import telling
from service.core.answers import SectionAnswers
from tests.helpers import CHECKLISTS

V3 = CHECKLISTS[("case-transfer", 3)]
V4 = CHECKLISTS[("case-transfer", 4)]
TODAY = date(2026, 12, 1)

names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda text: "\x1e" not in text and "\x1f" not in text
)


@given(family=st.booleans(), waiting=st.lists(st.tuples(names, names), max_size=5))
def test_what_stops_closure_reads_back_what_the_store_keeps(family: bool, waiting: list[tuple[str, str]]) -> None:
    stored = "\x1e".join(f"{name}\x1f{agency}" for name, agency in waiting)
    found = telling.missing(V4, family, stored)
    expected = ([] if family else [telling.FAMILY_NOT_TOLD]) + [telling.agency_not_told(n, a) for n, a in waiting]
    assert list(found) == expected
    assert telling.missing(V3, family, stored) == (), "an earlier version closes on its own answers"


def test_each_professional_listed_is_one_contact_with_their_agency() -> None:
    rows = [
        {"agency": "gp", "name": " Dr  A. Khan ", "role": "GP", "email": "a.khan@example.org"},
        {"agency": "gp", "name": "dr a. khan", "role": "GP again", "email": ""},
        {"agency": "other", "agency_name": "Youth offending service", "name": "Sam", "role": "Worker", "email": "x"},
        {"agency": "school", "name": "", "role": "Nobody named", "email": ""},
    ]
    answers = {"network": SectionAnswers(values={}, groups={"contacts": rows})}  # type: ignore[dict-item]
    found = telling.contacts_from_answers(V4, answers)
    assert [(c.agency, c.name, c.role, c.email) for c in found] == [
        ("GP", "Dr A. Khan", "GP", "a.khan@example.org"),
        ("Youth offending service", "Sam", "Worker", ""),  # not an address: told another way
    ]
    assert telling.contacts_from_answers(V3, answers) == []


def test_the_agency_email_names_the_reference_and_no_child() -> None:
    email = telling.agency_email(
        reference="T-1", new_worker="Jo Bennett", new_team="Child Protection Team",
        new_worker_email="jo@example.gov.uk",
        outgoing_worker="Alex Morgan", link="https://handover.example/agency-acknowledgements/abc", expires_on=TODAY,
    )  # fmt: skip
    for text in (email.subject, email.body_text):
        assert "T-1" in text
    assert "https://handover.example/agency-acknowledgements/abc" in email.body_text
    assert 'href="https://handover.example/agency-acknowledgements/abc"' in email.body_html
    assert "1 December 2026" in email.body_text


def test_a_family_notice_needs_who_how_and_a_past_date() -> None:
    assert telling.family_told_errors("Ms Ashford (mother)", "letter", "2026-11-30", TODAY) == {}
    assert set(telling.family_told_errors("", "", "", TODAY)) == {"told", "method", "told_on"}
    assert set(telling.family_told_errors("Ms\nAshford", "visit", "2026-12-02", TODAY)) == {"told", "told_on"}
    assert set(telling.agency_told_errors("email", "2026-11-30", "", TODAY)) == {"method"}, "the service's own way"
    assert telling.agency_told_errors("phone", "2026-11-30", "", TODAY) == {}
    assert set(telling.family_not_told_errors("   ")) == {"reason"}
    assert set(telling.agency_not_told_errors("x" * (telling.NOTE_MAX + 1))) == {"reason"}
