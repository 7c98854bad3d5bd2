"""The growth benchmark's arithmetic and judgement (its timings are run by hand): ratios to the 20,000 figure and to
GET /ping, which target is judged at which size, and the people it measures."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bench.growth_benchmark import PAGES, PING, add_ratios, choose, sequential, table, targets
from bench.seed import build


def run(
    handovers: int, p50: float, report_p99: float = 50.0, export_s: float = 2.0, peak: float = 60.0
) -> dict[str, Any]:
    pages = {key: {"p50_ms": p50, "p99_ms": report_p99 if key == "report" else p50 * 2} for key in PAGES}
    return {
        "handovers": handovers, "cases": handovers // 3, "workers": handovers // 48, "teams": handovers // 384,
        "seed_s": 1.0, "seed_rows_per_s": 1e5, "megabytes": handovers / 150, "bytes_per_handover": 6_600.0,
        "load_average": (1.0, 1.0, 1.0),
        "pages": {**pages, PING: {"p50_ms": 0.5, "p99_ms": 1.0}},
        "export": {"export_s": export_s, "sqlite3_s": 1.0, "export_peak_mb": peak, "sqlite3_peak_mb": 5.0,
                   "start_up_s": 0.5,
                   "export_rows": 10, "sqlite3_rows": 10},
    }  # fmt: skip


def judged(runs: list[dict[str, Any]]) -> dict[str, bool]:
    add_ratios(runs)
    return dict(targets(runs))


def test_pages_are_judged_against_their_20000_figure_and_shown_over_ping() -> None:
    runs = [run(20_000, 10.0), run(200_000, 14.0), run(1_000_000, 16.0)]
    found = judged(runs)
    assert runs[2]["pages"]["inbox"]["x_baseline"] == pytest.approx(1.6)
    assert runs[1]["pages"]["queue"]["over_ping"] == pytest.approx(28.0)
    assert found["200,000: inbox p50 1.40x its 20,000 figure <= 1.5x"] is True
    assert found["1,000,000: inbox p50 1.60x its 20,000 figure <= 1.5x"] is False
    assert not any(text.startswith("20,000: inbox") for text in found)


def test_the_report_p99_is_judged_at_a_million_only() -> None:
    found = judged([run(20_000, 10.0, report_p99=150.0), run(1_000_000, 10.0, report_p99=99.0)])
    assert [text for text in found if "report" in text] == ["1,000,000: report first page p99 99.0 ms < 100 ms"]
    assert found["1,000,000: report first page p99 99.0 ms < 100 ms"] is True
    assert (
        judged([run(1_000_000, 10.0, report_p99=100.0)])["1,000,000: report first page p99 100.0 ms < 100 ms"] is False
    )


def test_the_export_is_judged_on_its_ratio_to_the_shell_and_its_peak_memory_at_every_size() -> None:
    found = judged([run(20_000, 1.0, export_s=3.5, peak=149.0), run(200_000, 1.0, export_s=2.9, peak=151.0)])
    assert found["20,000: export 3.50x the sqlite3 shell <= 3x"] is False
    assert found["200,000: export 2.90x the sqlite3 shell <= 3x"] is True
    assert found["20,000: export peak memory 149 MB < 150 MB"] is True
    assert found["200,000: export peak memory 151 MB < 150 MB"] is False


def test_without_the_20000_run_no_growth_is_judged_and_the_table_says_so() -> None:
    runs = [run(200_000, 10.0), run(1_000_000, 11.0)]
    found = judged(runs)
    assert not any("its 20,000 figure" in text for text in found)
    lines = table(runs)
    assert lines[0].split()[-2:] == ["200,000", "1,000,000"]
    assert any(line.split()[-2:] == ["-", "(22.0)"] for line in lines)
    assert len({len(line) for line in lines}) == 1


@pytest.mark.sqlite_only
def test_the_people_measured_have_a_draft_an_inbox_and_a_queue(tmp_path: Path) -> None:
    build(tmp_path / "handover.db", 3_000, caseload="realistic")
    people = choose(tmp_path / "handover.db")
    with sqlite3.connect(tmp_path / "handover.db") as conn:
        author, state = conn.execute(
            "SELECT u.username, h.state FROM handovers h JOIN users u ON u.id = h.author_id WHERE h.id = ?",
            [people.draft_id],
        ).fetchone()
        waiting = conn.execute(
            "SELECT COUNT(*) FROM handovers h JOIN users u ON u.id = h.receiver_id"
            " WHERE u.username = ? AND h.state = 'endorsed'",
            [people.worker],
        ).fetchone()[0]
        queued = conn.execute(
            "SELECT COUNT(*) FROM handovers h"
            " JOIN memberships m ON m.team_id = h.sending_team_id AND m.role = 'manager'"
            " JOIN users u ON u.id = m.user_id WHERE u.username = ? AND h.state = 'submitted'",
            [people.manager],
        ).fetchone()[0]
        auditor = conn.execute("SELECT is_auditor FROM users WHERE username = ?", [people.auditor]).fetchone()[0]
    assert (author, state) == (people.worker, "draft")
    assert waiting >= 1 and queued >= 1 and auditor == 1


async def answering(status: int, delay: float) -> tuple[asyncio.Server, str, list[str]]:
    """A keep-alive HTTP/1.1 server on loopback answering every request with `status` after `delay` seconds; the
    request lines it was sent."""
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                seen.append(head.split(b"\r\n", 1)[0].decode())
                await asyncio.sleep(delay)
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):  # the client closed its connection
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}", seen


@pytest.mark.anyio
async def test_sequential_counts_after_the_warm_up_on_one_connection() -> None:
    server, url, seen = await answering(200, 0)
    async with server:
        latencies = await sequential(url, {}, "/ping", warmup=5, requests=30)
    assert len(latencies) == 30 and len(seen) == 35 and set(seen) == {"GET /ping HTTP/1.1"}


@pytest.mark.anyio
async def test_a_slow_page_is_measured_for_the_time_limit_but_at_least_20_times() -> None:
    server, url, seen = await answering(200, 0.01)
    async with server:
        latencies = await sequential(url, {}, "/slow", warmup=50, requests=300, limit_s=0.06)
    assert len(latencies) == 20  # the limit passed long before: the least that is counted
    assert len(seen) - len(latencies) == 3  # the warm-up cut short after 3 once it took limit_s / 6


@pytest.mark.anyio
async def test_anything_but_a_200_stops_the_run() -> None:
    server, url, _ = await answering(303, 0)
    async with server:
        with pytest.raises(SystemExit, match="303"):
            await sequential(url, {}, "/", warmup=0, requests=5)
