"""The page environment's quicker dict lookup gives what Jinja itself gives."""

from __future__ import annotations

from jinja2 import Environment

from service.app import PageEnvironment

SOURCE = "{{ d.name }}|{{ d.items is callable }}|{{ d.missing is undefined }}|{{ d.get('name') }}|{{ o.real }}"


def test_dict_lookups_match_jinja() -> None:
    values = {"d": {"name": "Mia", "items": [1, 2]}, "o": 3}
    assert PageEnvironment().from_string(SOURCE).render(values) == Environment().from_string(SOURCE).render(values)
    assert PageEnvironment().from_string(SOURCE).render(values) == "Mia|True|True|Mia|3"
