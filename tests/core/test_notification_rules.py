"""Who is told, and what an e-mail may say: the rules alone, over generated people, handovers and children."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

from hypothesis import assume, given
from hypothesis import strategies as st

from service.core import notifications as rules
from service.core.clock import ENGLAND
from service.core.workflow import Action, Actor, Facts, State

SENDING, RECEIVING, OTHER = 1, 2, 3
WAITING = [State.DRAFT, State.SUBMITTED, State.ENDORSED, State.RETURNED, State.ACKNOWLEDGED]


def person(user_id: int, *, manages: tuple[int, ...] = (), works: tuple[int, ...] = (), absent: bool = False) -> Actor:
    return Actor(user_id=user_id, manager_teams=frozenset(manages), worker_teams=frozenset(works), absent=absent)


# author 1 and worker 2 in the sending team, receiver 3 in the receiving team, managers 10/11 sending, 20/21 receiving
PEOPLE = [
    person(1, works=(SENDING,)),
    person(3, works=(RECEIVING,)),
    person(10, manages=(SENDING,)),
    person(11, manages=(SENDING,)),
    person(20, manages=(RECEIVING,)),
    person(21, manages=(RECEIVING,)),
]


def facts(state: State, **changes: object) -> Facts:
    values: dict[str, object] = {
        "state": state, "author_id": 1, "sending_team_id": SENDING, "receiving_team_id": RECEIVING, "receiver_id": 3,
    }  # fmt: skip
    values.update(changes)
    return Facts(**values)  # type: ignore[arg-type]


class Shape(HTMLParser):
    """What an HTML part is made of: its language, headings, links with their text, images."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.headings = 0
        self.links: list[tuple[str, str]] = []
        self.images = 0
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings += 1
        if tag == "img":
            self.images += 1
        if tag == "a":
            self._href, self._text = found.get("href") or "", ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text.strip()))
            self._href = None


def test_each_waiting_state_waits_on_whoever_may_take_its_next_step() -> None:
    assert rules.waiting_on(facts(State.SUBMITTED), PEOPLE) == [10, 11]
    assert rules.waiting_on(facts(State.ENDORSED, endorsed_by=10), PEOPLE) == [3]
    assert rules.waiting_on(facts(State.ACKNOWLEDGED, endorsed_by=10, acknowledged_by=3), PEOPLE) == [20, 21]
    assert rules.waiting_on(facts(State.RETURNED), PEOPLE) == [1]
    assert rules.waiting_on(facts(State.CLOSED), PEOPLE) == []


def test_a_manager_excluded_from_the_step_is_not_told_and_a_named_one_is() -> None:
    # manager 10 endorsed it: the same person may not approve on the receiving side; 20 is named to approve instead
    both = [*PEOPLE, person(30, manages=(OTHER,))]
    waiting = facts(State.ACKNOWLEDGED, endorsed_by=20, acknowledged_by=3, named_approver=30)
    assert rules.waiting_on(waiting, both) == [21, 30]


def test_a_handover_sent_to_a_team_tells_its_managers() -> None:
    assert rules.waiting_on(facts(State.ENDORSED, receiver_id=None), PEOPLE) == [20, 21]


def test_an_absent_receiver_is_stood_in_for_by_the_receiving_managers() -> None:
    away = [person(3, works=(RECEIVING,), absent=True) if p.user_id == 3 else p for p in PEOPLE]
    assert rules.waiting_on(facts(State.ENDORSED), away) == [20, 21]


def test_with_no_manager_in_post_the_manager_one_step_up_is_told() -> None:
    nobody = [p for p in PEOPLE if SENDING not in p.manager_teams]
    assert rules.waiting_on(facts(State.SUBMITTED), nobody, one_step_up=99) == [99]


def test_an_overdue_wait_and_an_escalation_also_go_one_step_up() -> None:
    assert rules.recipients(rules.Event.OVERDUE, facts(State.SUBMITTED), PEOPLE, actor_id=None, one_step_up=99) == [
        10, 11, 99,
    ]  # fmt: skip
    assert rules.recipients(rules.Event.DUE_TOMORROW, facts(State.SUBMITTED), PEOPLE, actor_id=None) == [10, 11]
    escalated = rules.recipients(
        rules.Event.DISAGREEMENT_ESCALATED, facts(State.SUBMITTED), PEOPLE, actor_id=20, one_step_up=99
    )
    assert escalated == [10, 11, 21, 99]


@given(
    state=st.sampled_from(WAITING),
    event=st.sampled_from([e for e in rules.Event if e != rules.Event.MANAGER_NAMED]),
    actor_id=st.sampled_from([None, 1, 3, 10, 11, 20, 21, 99]),
    up=st.sampled_from([None, 99]),
    absent=st.sets(st.sampled_from([1, 3, 10, 11, 20, 21])),
)
def test_nobody_is_told_of_their_own_step_nor_twice_nor_while_away_unless_standing_in(
    state: State, event: rules.Event, actor_id: int | None, up: int | None, absent: set[int]
) -> None:
    people = [person(p.user_id, manages=tuple(p.manager_teams), works=tuple(p.worker_teams),
                     absent=p.user_id in absent) for p in PEOPLE]  # fmt: skip
    told = rules.recipients(event, facts(state), people, actor_id=actor_id, one_step_up=up)
    assert actor_id not in told
    assert len(told) == len(set(told))
    assert not set(told) & absent


@given(
    child=st.text(st.characters(categories=["L"]), min_size=6, max_size=30),
    reference=st.from_regex(r"[A-Z]{2,4}-[0-9]{3,6}", fullmatch=True),
    event=st.sampled_from(list(rules.Event)),
    handover_id=st.integers(1, 10**9),
    days=st.integers(1, 300),
)
def test_no_email_names_the_child_and_the_list_does(
    child: str, reference: str, event: rules.Event, handover_id: int, days: int
) -> None:
    templates = " ".join(" ".join(pair) for pair in rules.SENTENCES.values()) + rules.PRIVACY_NOTE + rules.LINK_TEXT
    assume(child.casefold() not in templates.casefold())
    told = rules.told(
        event, child=child, handover_id=handover_id, base_url="https://handover.example.gov.uk", step="approve",
        wait="Approval by the receiving team's manager", overdue_by=days,
    )  # fmt: skip
    assert child in told.message
    for part in (told.email.subject, told.email.body_text, told.email.body_html):
        assert child not in part
        assert reference not in part
    assert f"https://handover.example.gov.uk/handovers/{handover_id}/view" in told.email.body_text


@given(event=st.sampled_from(list(rules.Event)), base=st.sampled_from(["https://h.example.gov.uk", "http://x:8000/"]))
def test_the_html_part_has_a_language_one_heading_a_real_link_and_no_images(event: rules.Event, base: str) -> None:
    told = rules.told(event, child="Mia Test", handover_id=7, base_url=base, wait="Reply to the returned query")
    shape = Shape()
    shape.feed(told.email.body_html)
    assert shape.lang == "en"
    assert shape.headings == 1
    assert shape.images == 0
    assert shape.links == [(rules.handover_link(base, 7), rules.LINK_TEXT)]


def test_the_daily_summary_links_each_handover_by_its_sentence() -> None:
    items = [(rules.DIGEST_LINES[rules.Event.SUBMITTED], "https://h/handovers/1/view"),
             (rules.DIGEST_LINES[rules.Event.OVERDUE], "https://h/handovers/2/view")]  # fmt: skip
    email = rules.digest_email(items)
    shape = Shape()
    shape.feed(email.body_html)
    assert shape.lang == "en" and shape.headings == 1 and shape.images == 0
    assert shape.links == [(link, sentence) for sentence, link in items]
    assert all(link in email.body_text for _, link in items)


@given(day=st.dates(date(2025, 1, 1), date(2030, 12, 31)), minutes=st.integers(0, 24 * 60 - 1))
def test_the_daily_summary_goes_from_seven_in_the_morning_in_england(day: date, minutes: int) -> None:
    local = datetime(day.year, day.month, day.day, tzinfo=ENGLAND) + timedelta(minutes=minutes)
    start = rules.digest_from(local.astimezone(UTC))
    if local.hour < rules.DIGEST_HOUR:
        assert start is None
    else:
        assert start is not None
        assert start.astimezone(ENGLAND).hour == rules.DIGEST_HOUR
        assert start.astimezone(ENGLAND).date() == local.date()


def test_each_step_that_makes_someone_wait_is_an_event_and_the_others_are_not() -> None:
    assert rules.event_for(Action.SUBMIT, State.SUBMITTED, receiver_named=True) == rules.Event.SUBMITTED
    assert rules.event_for(Action.SUBMIT, State.ENDORSED, receiver_named=True) == rules.Event.ENDORSED
    assert rules.event_for(Action.ENDORSE, State.ENDORSED, receiver_named=False) == rules.Event.SENT_TO_TEAM
    assert rules.event_for(Action.APPROVE, State.CLOSED, receiver_named=True) is None
    assert rules.event_for(Action.CANCEL, State.CANCELLED, receiver_named=True) is None
    assert rules.event_for(Action.CONFIRM, State.ENDORSED, receiver_named=True) is None


def test_only_a_manager_may_choose_the_daily_summary() -> None:
    assert rules.delivery_errors("digest", is_manager=True) == {}
    assert rules.delivery_errors("digest", is_manager=False) == {"delivery": rules.DIGEST_FOR_MANAGERS}
    assert rules.delivery_errors("each", is_manager=False) == {}
    assert rules.delivery_errors("", is_manager=True) == {"delivery": rules.CHOOSE_DELIVERY}
