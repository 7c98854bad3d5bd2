"""The open-loop benchmark's arithmetic: the arrival schedule, the draw of whose request each is, how a step is
shared between client processes, when a step counts as sustained, the search for the highest such rate, and that a
request's latency runs from when it was due (a stall is measured, not hidden)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import load_client
from bench.load_client import Plan, _run_open, arrival_times, personas_drawn, share_out
from bench.open_loop import TOLERANCE, answered_in_full, highest_sustained


def test_arrivals_are_evenly_spaced_at_the_rate_asked_for() -> None:
    due = arrival_times(40.0, 100.0, 2.0)
    assert len(due) == 80
    assert due[0] == 100.0
    assert all(abs((later - earlier) - 0.025) < 1e-9 for earlier, later in itertools.pairwise(due))
    assert due[-1] < 102.0


def test_no_arrivals_at_no_rate_or_no_time() -> None:
    assert arrival_times(0.0, 5.0, 3.0) == []
    assert arrival_times(10.0, 5.0, 0.0) == []


def test_the_draw_is_the_same_every_run_and_in_proportion() -> None:
    weights = {"outgoing": 0.6, "receiving": 0.2, "report": 0.2}
    drawn = personas_drawn(weights, 10_000, seed=28)
    assert drawn == personas_drawn(weights, 10_000, seed=28)
    assert drawn != personas_drawn(weights, 10_000, seed=29)
    shares = Counter(drawn)
    assert abs(shares["outgoing"] / 10_000 - 0.6) < 0.02
    assert abs(shares["report"] / 10_000 - 0.2) < 0.02


def test_arrivals_go_only_to_processes_holding_a_connection_of_their_persona() -> None:
    actors = {"outgoing": [Plan("outgoing") for _ in range(3)], "report": [Plan("get")]}
    arrivals = [(float(i), "report" if i % 4 == 0 else "outgoing") for i in range(40)]
    shares = share_out(arrivals, actors, processes=2)
    assert len(shares) == 2
    (first, first_due), (second, second_due) = shares
    assert len(first["outgoing"]) == 2 and len(second["outgoing"]) == 1
    assert "report" not in second and all(persona == "outgoing" for _, persona in second_due)
    assert sorted(first_due + second_due) == sorted(arrivals)


def test_an_arrival_nobody_can_send_is_refused() -> None:
    with pytest.raises(ValueError, match="no connections"):
        share_out([(0.0, "report")], {"outgoing": [Plan("outgoing")]}, processes=2)


def test_a_step_is_sustained_only_in_full_and_without_failures() -> None:
    assert answered_in_full(offered=100.0, achieved=95.0, failures=0)
    assert not answered_in_full(offered=100.0, achieved=94.9, failures=0)
    assert not answered_in_full(offered=100.0, achieved=100.0, failures=1)


@given(
    capacity=st.floats(min_value=20.0, max_value=5_000.0),
    start=st.floats(min_value=20.0, max_value=2_000.0),
)
def test_the_search_finds_the_capacity_within_the_tolerance(capacity: float, start: float) -> None:
    tried: list[float] = []

    def sustained(rate: float) -> bool:
        tried.append(rate)
        return rate <= capacity

    found = highest_sustained(sustained, start, growth=1.5, bisections=12)
    assert found <= capacity
    assert found >= capacity / (1 + TOLERANCE)
    assert found in tried


def test_the_search_stops_after_its_bisections() -> None:
    tried: list[float] = []

    def sustained(rate: float) -> bool:
        tried.append(rate)
        return rate <= 1_000.0

    assert highest_sustained(sustained, 100.0, growth=2.0, bisections=1) == 800.0
    assert tried == [100.0, 200.0, 400.0, 800.0, 1_600.0, 1_200.0]


def test_a_first_step_not_sustained_sends_the_ramp_down() -> None:
    tried: list[float] = []

    def sustained(rate: float) -> bool:
        tried.append(rate)
        return rate <= 30.0

    assert highest_sustained(sustained, 100.0, growth=2.0, bisections=0) == 25.0
    assert tried == [100.0, 50.0, 25.0]


def test_the_search_says_zero_when_nothing_is_sustained() -> None:
    assert highest_sustained(lambda rate: False, 100.0, growth=2.0, max_ramp=5) == 0.0


def test_a_stalled_server_shows_in_the_latencies_counted_from_when_each_request_was_due() -> None:
    """One connection, a server taking 0.2 s an answer, five requests due 0.1 s apart: each waits for the one
    before, so the latencies grow (0.2, 0.3, ... 0.6 s) where a closed-loop client would see 0.2 s each."""

    async def answer_slowly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):  # the client closing at the end
            while await reader.readuntil(b"\r\n\r\n"):
                await asyncio.sleep(0.2)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        writer.close()

    async def measure() -> dict[str, object]:
        server = await asyncio.start_server(answer_slowly, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        start = time.perf_counter() + 0.05
        arrivals = [(due, "ping") for due in arrival_times(10.0, start, 0.5)]
        actors = {"ping": [Plan("get", steps=[("ping", "/ping")])]}
        try:
            return await _run_open(f"http://127.0.0.1:{port}", actors, arrivals, start, start + 0.5)
        finally:
            server.close()

    result = asyncio.run(measure())
    latencies = result["endpoints"]["ping"]["latencies"]  # type: ignore[index]
    assert len(latencies) == 5
    assert latencies == sorted(latencies)
    assert latencies[-1] >= 0.55
    assert result["waited"] == {"ping": 4}


def test_a_connection_idle_past_its_expiry_is_replaced_before_the_server_closes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server closing keep-alive connections idle for 0.2 s (as uvicorn does after 5 s), and two requests 0.5 s
    apart on one connection: the second goes out on a new connection instead of failing on the closed one."""
    monkeypatch.setattr(load_client, "IDLE_EXPIRY_SECONDS", 0.1)

    async def answer_then_close_when_idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            while True:
                async with asyncio.timeout(0.2):
                    await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        writer.close()

    async def measure() -> dict[str, object]:
        server = await asyncio.start_server(answer_then_close_when_idle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        start = time.perf_counter() + 0.05
        arrivals = [(start, "ping"), (start + 0.5, "ping")]
        actors = {"ping": [Plan("get", steps=[("ping", "/ping")])]}
        try:
            return await _run_open(f"http://127.0.0.1:{port}", actors, arrivals, start, start + 1.0)
        finally:
            server.close()

    result = asyncio.run(measure())
    figures = result["endpoints"]["ping"]  # type: ignore[index]
    assert figures["errors"] == {}
    assert len(figures["latencies"]) == 2
