"""PostgreSQL's engine: what it changes in a query written for both databases, and nothing else."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from service.db.postgresql import Row, to_postgresql, without_password


def test_placeholders_become_psycopgs_and_percent_signs_are_escaped() -> None:
    assert to_postgresql("SELECT * FROM t WHERE a = ? AND b = ?") == "SELECT * FROM t WHERE a = %s AND b = %s"
    assert to_postgresql("WHERE c.allocated_worker_id = :person OR x = :person") == (
        "WHERE c.allocated_worker_id = %(person)s OR x = %(person)s"
    )
    assert to_postgresql("SELECT 100 % 7") == "SELECT 100 %% 7"


def test_text_in_quotes_is_left_as_written_but_for_percent_signs() -> None:
    assert to_postgresql("SELECT 'a ? b :c', \"d?\" WHERE v LIKE 'import%'") == (
        "SELECT 'a ? b :c', \"d?\" WHERE v ILIKE 'import%%'"
    )
    assert to_postgresql("SELECT 'it''s ?' , ?") == "SELECT 'it''s ?' , %s"
    assert to_postgresql("SELECT ? -- a comment's ?\n, ?") == "SELECT %s -- a comment's ?\n, %s"


def test_like_ignores_case_on_both_databases() -> None:
    """SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's ILIKE is the same test."""
    assert to_postgresql("WHERE name LIKE ? ESCAPE '\\'") == "WHERE name ILIKE %s ESCAPE '\\'"
    assert to_postgresql("WHERE name NOT like ?") == "WHERE name NOT ILIKE %s"
    assert to_postgresql("WHERE likes = ?") == "WHERE likes = %s"


def test_postgresql_casts_are_not_named_parameters() -> None:
    assert to_postgresql("SELECT x::text, :a") == "SELECT x::text, %(a)s"


@given(st.lists(st.sampled_from(["a", " ", "'", "?", ":n", "%", "''", "LIKE", "--", "\n", "x"]), max_size=30))
def test_outside_quotes_every_question_mark_is_one_placeholder(parts: list[str]) -> None:
    sql = "".join(parts)
    translated = to_postgresql(sql)
    # with the quoted text and comments taken out, the count of markers is the count of placeholders
    bare = re.sub(r"'(?:[^']|'')*'|--[^\n]*", "", sql)
    if "'" not in bare:  # an unterminated quote is not SQL
        assert translated.count("%s") == bare.count("?")


def test_a_row_reads_by_position_and_by_name() -> None:
    row = Row((1, "Mia"), {"id": 0, "child_name": 1})
    assert row[0] == 1 and row["child_name"] == "Mia" and list(row) == [1, "Mia"] and len(row) == 2
    assert row.keys() == ["id", "child_name"] and row[:1] == (1,)


def test_a_url_shown_to_an_operator_has_no_password() -> None:
    assert without_password("postgresql://handover:s3cret@db:5432/h") == "postgresql://handover:***@db:5432/h"
    assert without_password("postgresql://handover@db/h") == "postgresql://handover@db/h"


def test_sqlites_char_is_sent_as_chr() -> None:
    assert to_postgresql("SELECT group_concat(a || char(31) || b, char(30))") == (
        "SELECT group_concat(a || chr(31) || b, chr(30))"
    )
    assert to_postgresql("SELECT 'char(31)', varchar(2)") == "SELECT 'char(31)', varchar(2)"


def test_sqlites_hint_to_keep_off_an_index_is_dropped_and_sums_are_kept() -> None:
    assert to_postgresql("WHERE h.case_id = c.id AND +h.state = 'closed' AND (+h.receiver_id = ?)") == (
        "WHERE h.case_id = c.id AND h.state = 'closed' AND (h.receiver_id = %s)"
    )
    assert to_postgresql("SET version = version + 1, n = n +1") == "SET version = version + 1, n = n +1"


def test_numbered_placeholders_name_the_parameters_by_their_place() -> None:
    from service.db.postgresql import _parameters

    query = to_postgresql("WHERE (a = ?1 OR b = ?1) AND c = ?2")
    assert query == "WHERE (a = %(_1)s OR b = %(_1)s) AND c = %(_2)s"
    assert _parameters((7, 8), query) == {"_1": 7, "_2": 8}
