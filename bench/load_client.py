"""The load generator for bench/load_benchmark.py: signed-in connections driving the service over HTTP/1.1.

Each connection is an asyncio task with its own keep-alive TCP connection and its own session cookies, spoken to by
`LeanClient`, a few lines of HTTP/1.1 over asyncio streams: on a 2-core machine the load generator shares the CPU with
the server, and a full-featured client (httpx took about as much CPU per request as the server) would measure itself.
The connections of a phase are shared out between a few client processes (`ClientPool`) so the
client is not what limits the server. Every request is timed with `time.perf_counter`; a response only counts as a
success when it has the status (and, for redirects, the destination) a browser would get on the happy path, and
everything else is counted by status or exception so a benchmark of failing requests cannot pass unnoticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import os
import queue
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

READBACK = "I take on the open risks and the safety plan, and will visit within five working days."
TIMEOUT = 60.0
VERSION = re.compile(r'name="version" value="(\d+)"')
HANDOVER_VERSION = re.compile(r'name="handover_version" value="(\d+)"')
OUTGOING_ROUND = ["dashboard", "task list", "save", "task list", "save", "task list"]
REVIEW_ITEM = re.compile(r'<section class="app-review-item" id="item-([\w-]+)"')


@dataclass
class Plan:
    """What one connection does for the length of a phase.

    persona: "get" (cycle through `steps`), "save" (save one section again and again), "acknowledge" (review,
    confirm the critical items of and acknowledge each handover in `to_acknowledge`), "submit" and "endorse" (post
    the step's form for each handover in `to_submit` or `to_endorse`: its id and version, as the page holding the
    button would have it), "sign_in" (sign in again and again as `username`), "outgoing" (dashboard, task list,
    save, task list, save, task list) or "receiving" (inbox, then one acknowledgement while there are any left).
    A connection whose list runs out stops, and says when (`Recorder.ran_out`).
    """

    persona: str
    cookies: dict[str, str] = field(default_factory=dict)
    steps: list[tuple[str, str]] = field(default_factory=list)
    handover_id: int = 0
    section_id: str = ""
    form: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    to_acknowledge: list[int] = field(default_factory=list)
    to_submit: list[tuple[int, int]] = field(default_factory=list)
    to_endorse: list[tuple[int, int]] = field(default_factory=list)
    username: str = ""
    password: str = ""
    offset: int = 0  # where in its round a mixed-phase connection starts, so connections are not in step
    base_url: str = ""  # the instance this connection speaks to, when a phase spreads them over several


class Recorder:
    """Per endpoint: the latencies of the successful requests inside the measured window, and every failure or
    wrong answer (from the warm-up too, so that none goes unseen)."""

    def __init__(self, measure_from: float, stop: float) -> None:
        self.measure_from = measure_from
        self.stop = stop
        self.latencies: dict[str, list[float]] = {}
        self.statuses: dict[str, Counter[str]] = {}
        self.unexpected: dict[str, Counter[str]] = {}
        self.errors: dict[str, Counter[str]] = {}
        self.ran_out: list[float] = []  # when connections had nothing left to act on, from `measure_from`
        self.succeeded: Counter[str] = Counter()  # every correct answer, in the warm-up too: what the store must show
        self.crashed: Counter[str] = Counter()

    def counts(self, started: float, ended: float) -> bool:
        """Requests count if they started after the warm-up and finished before the window closed."""
        return self.measure_from <= started and ended <= self.stop

    def response(self, endpoint: str, started: float, ended: float, status: int, ok: bool, why: str = "") -> None:
        if not ok:
            self.unexpected.setdefault(endpoint, Counter())[why or str(status)] += 1
        else:
            self.succeeded[endpoint] += 1
        if self.counts(started, ended):
            self.statuses.setdefault(endpoint, Counter())[str(status)] += 1
            if ok:
                self.latencies.setdefault(endpoint, []).append(ended - started)

    def error(self, endpoint: str, exc: BaseException) -> None:
        self.errors.setdefault(endpoint, Counter())[type(exc).__name__] += 1

    def result(self) -> dict[str, Any]:
        names = set(self.latencies) | set(self.statuses) | set(self.unexpected) | set(self.errors)
        return {
            "endpoints": {
                name: {
                    "latencies": self.latencies.get(name, []),
                    "statuses": dict(self.statuses.get(name, {})),
                    "unexpected": dict(self.unexpected.get(name, {})),
                    "errors": dict(self.errors.get(name, {})),
                }
                for name in names
            },
            "ran_out": self.ran_out,
            "crashed": dict(self.crashed),
            "succeeded": dict(self.succeeded),
        }


class HTTPFailure(Exception):
    """The connection closed, timed out or answered something that is not HTTP/1.1."""


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]  # lower-case names; the last value of each
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status_code < 400


class LeanClient:
    """One keep-alive HTTP/1.1 connection with a cookie jar: what a browser tab sends, and nothing else."""

    def __init__(self, base_url: str, cookies: dict[str, str]) -> None:
        address = urlsplit(base_url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.cookies = dict(cookies)
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, data: dict[str, Any] | None = None, csrf: bool = False) -> Response:
        try:
            async with asyncio.timeout(TIMEOUT):
                return await self._exchange(method, path, data, csrf)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.aclose()
            raise HTTPFailure(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(self, method: str, path: str, data: dict[str, Any] | None, csrf: bool) -> Response:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        body = urlencode(data or {}, doseq=True).encode() if method == "POST" else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: text/html"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{name}={value}" for name, value in self.cookies.items()))
        if method == "POST":
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
            head.append(f"X-CSRFToken: {self.cookies.get('csrftoken', '') if csrf else ''}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        for line in (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if not name:
                continue
            name, value = name.strip().lower(), value.strip()
            headers[name] = value
            if name == "set-cookie":
                self._remember(value)
        response = Response(status, headers, await self._body(reader, headers))
        if headers.get("connection", "").lower() == "close":
            await self.aclose()
        return response

    @staticmethod
    async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append(await reader.readexactly(size + 2))
            await reader.readuntil(b"\r\n")
            return b"".join(chunk[:-2] for chunk in chunks)
        return await reader.readexactly(int(headers.get("content-length", "0")))

    def _remember(self, set_cookie: str) -> None:
        pair, *attributes = set_cookie.split(";")
        name, _, value = pair.strip().partition("=")
        expired = any(a.strip().lower() in ("max-age=0", "max-age=-1") for a in attributes)
        if expired or not value or value == '""':
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def aclose(self) -> None:
        if self.streams is not None:
            writer = self.streams[1]
            self.streams = None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class Connection:
    """One person's browser tab: a keep-alive connection, their cookies, and timed requests."""

    def __init__(self, base_url: str, plan: Plan, recorder: Recorder) -> None:
        self.plan = plan
        self.recorder = recorder
        self.cursor = plan.offset
        self.client = LeanClient(plan.base_url or base_url, plan.cookies)

    async def timed(
        self, endpoint: str, method: str, path: str, expect: int, location: str = "", data: Any = None
    ) -> Response | None:
        """One request; None if it failed (already counted), else the response (checked against `expect`)."""
        started = time.perf_counter()
        try:
            response = await self.client.request(method, path, data=data, csrf=method == "POST")
        except HTTPFailure as exc:
            self.recorder.error(endpoint, exc)
            return None
        ended = time.perf_counter()
        why = ""
        if response.status_code != expect:
            why = str(response.status_code)
            if response.is_redirect:
                why += " to " + response.headers.get("location", "?").split("?")[0]
        elif location and not response.headers.get("location", "").startswith(location):
            why = f"{response.status_code} to {response.headers.get('location', '?')}"
        self.recorder.response(endpoint, started, ended, response.status_code, not why, why)
        return response if not why else None

    async def get_steps(self) -> None:
        for endpoint, path in self.plan.steps:
            await self.timed(endpoint, "GET", path, 200)

    async def save(self, endpoint: str = "section save") -> None:
        plan = self.plan
        url = f"/handovers/{plan.handover_id}/sections/{plan.section_id}"
        form = {**plan.form, "version": str(plan.version)}
        response = await self.timed(endpoint, "POST", url, 303, location=f"/handovers/{plan.handover_id}", data=form)
        if response is not None:
            plan.version += 1
            return
        try:  # refused, conflicting or not answered: learn the section's version again (untimed) and carry on
            found = VERSION.search((await self.client.get(url)).text)
        except HTTPFailure:
            return
        plan.version = int(found.group(1)) if found else plan.version

    async def acknowledge_next(self) -> bool:
        """Review the next handover, confirm what is still unconfirmed, acknowledge it; False when none are left."""
        if not self.plan.to_acknowledge:
            return False
        handover_id = self.plan.to_acknowledge.pop(0)
        page = await self.timed("review", "GET", f"/handovers/{handover_id}/review", 200)
        if page is None:
            return True
        version = HANDOVER_VERSION.search(page.text)
        if version is None:
            return True
        for section_id in _unconfirmed(page.text):
            confirmed = await self.timed(
                "confirm",
                "POST",
                f"/handovers/{handover_id}/confirm/{section_id}",
                303,
                location=f"/handovers/{handover_id}/review",
                data={"handover_version": version.group(1), "understood": "yes", "readback": READBACK},
            )
            if confirmed is None:
                return True
        await self.step("acknowledge", handover_id, int(version.group(1)))
        return True

    async def step(self, button: str, handover_id: int, version: int) -> None:
        """Press a step's button (its form: the handover's version): a 303 to that step's confirmation page."""
        await self.timed(
            button,
            "POST",
            f"/handovers/{handover_id}/{button}",
            303,
            location=f"/handovers/{handover_id}/done/{button}",
            data={"handover_version": str(version)},
        )

    async def submit_next(self) -> bool:
        """Submit the next complete draft (nothing to say about stale records: its answers are current); False when
        none are left."""
        if not self.plan.to_submit:
            return False
        await self.step("submit", *self.plan.to_submit.pop(0))
        return True

    async def endorse_next(self) -> bool:
        """Endorse the next submitted handover, as a manager of its sending team; False when none are left."""
        if not self.plan.to_endorse:
            return False
        await self.step("endorse", *self.plan.to_endorse.pop(0))
        return True

    async def sign_in(self) -> None:
        if await self.timed("sign-in page", "GET", "/sign-in", 200) is None:
            await asyncio.sleep(0.1)
            return
        form = {"username": self.plan.username, "password": self.plan.password}
        await self.timed("sign-in", "POST", "/sign-in", 303, location="/", data=form)

    async def outgoing(self) -> None:
        """One step of an outgoing worker's round: dashboard, task list, save, task list, save, task list."""
        step = OUTGOING_ROUND[self.cursor % len(OUTGOING_ROUND)]
        self.cursor += 1
        if step == "save":
            await self.save()
        else:
            await self.timed(step, "GET", "/" if step == "dashboard" else f"/handovers/{self.plan.handover_id}", 200)

    async def receiving(self) -> None:
        """One step of a receiving worker's round: the inbox, then the next acknowledgement (if any are left)."""
        self.cursor += 1
        if self.cursor % 2 or not await self.acknowledge_next():
            await self.timed("inbox", "GET", "/inbox", 200)

    async def run(self, start_at: float) -> None:
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
        step: Callable[[], Awaitable[Any]] = {
            "get": self.get_steps,
            "save": self.save,
            "sign_in": self.sign_in,
            "outgoing": self.outgoing,
            "receiving": self.receiving,
            "acknowledge": self.acknowledge_next,
            "submit": self.submit_next,
            "endorse": self.endorse_next,
        }[self.plan.persona]
        try:
            while time.perf_counter() < self.recorder.stop:
                if await step() is False:  # nothing left to act on: this connection has finished
                    self.recorder.ran_out.append(time.perf_counter() - self.recorder.measure_from)
                    break
        except Exception as exc:  # a bug in the client, not a slow server: counted, and this connection stops
            self.recorder.crashed[f"{type(exc).__name__}: {exc}"[:200]] += 1
        finally:
            await self.client.aclose()


def _unconfirmed(html: str) -> list[str]:
    """The critical items on a review page that have a confirm form and are not yet confirmed."""
    items = REVIEW_ITEM.split(html)
    found = []
    for section_id, body in zip(items[1::2], items[2::2], strict=True):
        if f"/confirm/{section_id}" in body and "app-confirmed" not in body:
            found.append(section_id)
    return found


async def _run(base_url: str, plans: list[Plan], start_at: float, measure_from: float, stop: float) -> dict[str, Any]:
    recorder = Recorder(measure_from, stop)
    cpu_before = os.times()
    connections = [Connection(base_url, plan, recorder) for plan in plans]
    tasks = [asyncio.create_task(connection.run(start_at)) for connection in connections]
    _, late = await asyncio.wait(tasks, timeout=max(0.0, stop - time.perf_counter()) + 30)
    for task in late:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    cpu_after = os.times()
    result = recorder.result()
    result["cpu_seconds"] = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    result["cancelled"] = len(late)
    return result


def _on_an_event_loop(main: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run a client's work to the end on uvloop's event loop if it is installed, asyncio's otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def run_plans(base_url: str, plans: list[Plan], start_at: float, measure_from: float, stop: float) -> dict[str, Any]:
    """Run these connections in this process (times are `time.perf_counter`, the same clock in every process)."""
    return _on_an_event_loop(_run(base_url, plans, start_at, measure_from, stop))


def _serve_jobs(inbox: Any, outbox: Any, run: Callable[..., dict[str, Any]]) -> None:
    """A client process's loop: each job from the parent run, its result (or why it failed) sent back."""
    while (job := inbox.get()) is not None:
        try:
            outbox.put(("ok", run(*job)))
        except Exception as exc:  # reported to the parent, which stops the benchmark
            outbox.put(("failed", f"{type(exc).__name__}: {exc}"))


def _serve(inbox: Any, outbox: Any) -> None:
    _serve_jobs(inbox, outbox, run_plans)


class ClientPool:
    """A few long-lived client processes, each running its share of a phase's connections."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.inboxes = [context.Queue() for _ in range(processes)]
        self.outbox = context.Queue()
        self.workers = [
            context.Process(target=_serve, args=(inbox, self.outbox), daemon=True) for inbox in self.inboxes
        ]
        for worker in self.workers:
            worker.start()

    def run(
        self, base_url: str, plans: list[Plan], start_at: float, measure_from: float, stop: float
    ) -> dict[str, Any]:
        """Start every connection at `start_at`, count what finishes between `measure_from` and `stop` (all
        `time.perf_counter` values); the processes' results merged."""
        shares = [plans[index :: len(self.workers)] for index in range(len(self.workers))]
        shares = [share for share in shares if share]
        for inbox, share in zip(self.inboxes, shares, strict=False):
            inbox.put((base_url, share, start_at, measure_from, stop))
        results: list[dict[str, Any]] = []
        deadline = stop + 120
        while len(results) < len(shares):
            try:
                outcome, value = self.outbox.get(timeout=1.0)
            except queue.Empty:
                if not all(worker.is_alive() for worker in self.workers) or time.perf_counter() > deadline:
                    raise RuntimeError("a client process died or did not answer") from None
                continue
            if outcome != "ok":
                raise RuntimeError(f"a client process failed: {value}")
            results.append(value)
        return merge(results)

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for worker in self.workers:
            worker.join(timeout=5)


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "endpoints": {},
        "ran_out": [],
        "cpu_seconds": 0.0,
        "cancelled": 0,
        "crashed": Counter(),
        "succeeded": Counter(),
    }
    for result in results:
        for key in ("ran_out", "cpu_seconds", "cancelled"):
            merged[key] += result[key]
        merged["crashed"].update(result["crashed"])
        merged["succeeded"].update(result["succeeded"])
        for name, figures in result["endpoints"].items():
            into = merged["endpoints"].setdefault(
                name, {"latencies": [], "statuses": Counter(), "unexpected": Counter(), "errors": Counter()}
            )
            into["latencies"].extend(figures["latencies"])
            for key in ("statuses", "unexpected", "errors"):
                into[key].update(figures[key])
    return merged


# ---------------------------------------------------------------- open loop: requests sent on a fixed schedule

UNANSWERED = "not answered in time"
DRAIN_SECONDS = 10.0  # after a step's window: how long requests still in flight (or waiting) are given to finish
# A connection idle this long is closed before its next request and a new one opened, as a browser or httpx
# (keepalive_expiry) would: uvicorn closes keep-alive connections idle for 5 s, and a request sent just as it does
# fails for the client, not the service. At low rates most connections are idle for seconds between requests.
IDLE_EXPIRY_SECONDS = 3.0


class OpenRecorder(Recorder):
    """A `Recorder` for requests sent on a schedule: `started` is when a request was due, not when it went out, and a
    request counts if it was due inside the window, however late it finished, so that a stall in the client or the
    server is in the latencies and not left out of them. `answered` counts, per endpoint, the correct answers that
    arrived inside the window: the rate achieved."""

    def __init__(self, measure_from: float, stop: float) -> None:
        super().__init__(measure_from, stop)
        self.answered: Counter[str] = Counter()

    def counts(self, started: float, ended: float) -> bool:
        return self.measure_from <= started < self.stop

    def response(self, endpoint: str, started: float, ended: float, status: int, ok: bool, why: str = "") -> None:
        super().response(endpoint, started, ended, status, ok, why)
        if ok and self.measure_from <= ended <= self.stop:
            self.answered[endpoint] += 1

    def result(self) -> dict[str, Any]:
        return {**super().result(), "answered": dict(self.answered)}


class OpenConnection(Connection):
    """One person's keep-alive connection, driven by arrivals rather than by its own answers: each call of
    `next_request` sends one request, the next of the person's round, timed from `due`.

    persona "get" (its one step), "outgoing" (the closed loop's round: dashboard, task list, save, task list, save,
    task list), "receiving" (the inbox, then, every other turn while any are left, one handover taken a request at a
    time: its review page, a confirmation of each critical item still unconfirmed, the acknowledgement) or
    "approving" (a manager's queue, then one endorsement while any are left, in turn).
    """

    def __init__(self, base_url: str, plan: Plan, recorder: Recorder) -> None:
        super().__init__(base_url, plan, recorder)
        self.due = 0.0
        self.last_used = 0.0  # when this connection last had an answer (or a failure), `time.perf_counter`
        self.pending: list[tuple[str, int, str]] = []  # ("confirm", handover, section) or ("acknowledge", handover, "")
        self.handover_version = ""

    async def timed(
        self, endpoint: str, method: str, path: str, expect: int, location: str = "", data: Any = None
    ) -> Response | None:
        """As `Connection.timed`, but the latency runs from when the request was due (`self.due`), and a connection
        idle for `IDLE_EXPIRY_SECONDS` is replaced first (the new connection's set-up is in the latency)."""
        if self.client.streams is not None and time.perf_counter() - self.last_used > IDLE_EXPIRY_SECONDS:
            await self.client.aclose()
        try:
            response = await self.client.request(method, path, data=data, csrf=method == "POST")
        except HTTPFailure as exc:
            self.last_used = time.perf_counter()
            self.recorder.error(endpoint, exc)
            if self.recorder.counts(self.due, self.due):
                self.recorder.statuses.setdefault(endpoint, Counter())["failed"] += 1
            return None
        ended = self.last_used = time.perf_counter()
        why = ""
        if response.status_code != expect:
            why = str(response.status_code)
            if response.is_redirect:
                why += " to " + response.headers.get("location", "?").split("?")[0]
        elif location and not response.headers.get("location", "").startswith(location):
            why = f"{response.status_code} to {response.headers.get('location', '?')}"
        self.recorder.response(endpoint, self.due, ended, response.status_code, not why, why)
        return response if not why else None

    async def next_request(self) -> None:
        persona = self.plan.persona
        if persona == "get":
            endpoint, path = self.plan.steps[self.cursor % len(self.plan.steps)]
            self.cursor += 1
            await self.timed(endpoint, "GET", path, 200)
        elif persona == "outgoing":
            await self.outgoing()
        elif persona == "receiving":
            await self.receiving_request()
        elif persona == "approving":
            self.cursor += 1
            if self.cursor % 2 or not await self.endorse_next():
                await self.timed("queue", "GET", "/queue", 200)
        else:
            raise ValueError(f"no open-loop round for persona {persona!r}")

    async def receiving_request(self) -> None:
        if self.pending:
            kind, handover_id, section_id = self.pending.pop(0)
            if kind == "acknowledge":
                await self.step("acknowledge", handover_id, int(self.handover_version))
                return
            confirmed = await self.timed(
                "confirm",
                "POST",
                f"/handovers/{handover_id}/confirm/{section_id}",
                303,
                location=f"/handovers/{handover_id}/review",
                data={"handover_version": self.handover_version, "understood": "yes", "readback": READBACK},
            )
            if confirmed is None:
                self.pending = []  # counted; this handover is left for the next step's plans to offer again
            return
        self.cursor += 1
        if self.cursor % 2 or not self.plan.to_acknowledge:
            await self.timed("inbox", "GET", "/inbox", 200)
            return
        handover_id = self.plan.to_acknowledge.pop(0)
        page = await self.timed("review", "GET", f"/handovers/{handover_id}/review", 200)
        version = HANDOVER_VERSION.search(page.text) if page is not None else None
        if version is not None:
            self.handover_version = version.group(1)
            self.pending = [("confirm", handover_id, section) for section in _unconfirmed(page.text if page else "")]
            self.pending.append(("acknowledge", handover_id, ""))


def arrival_times(rate: float, start: float, seconds: float) -> list[float]:
    """A fixed arrival schedule: request i is due at `start + i / rate` (seconds, `time.perf_counter`), for every i
    due before `start + seconds`. Evenly spaced rather than Poisson: a step's figures then depend on the service and
    not on the draw, and the rate offered in any window is the rate asked for."""
    if rate <= 0 or seconds <= 0:
        return []
    count = math.ceil(seconds * rate - 1e-9)
    return [start + i / rate for i in range(count)]


def personas_drawn(weights: dict[str, float], count: int, seed: int) -> list[str]:
    """Whose request each arrival is: `count` personas drawn with these weights from a generator with a fixed seed,
    so that every run offers the same sequence."""
    names = sorted(weights)
    return random.Random(seed).choices(names, weights=[weights[name] for name in names], k=count)


def share_out(
    arrivals: list[tuple[float, str]], actors: dict[str, list[Plan]], processes: int
) -> list[tuple[dict[str, list[Plan]], list[tuple[float, str]]]]:
    """Split a step between client processes: each persona's connections round robin, and each persona's arrivals
    round robin over the processes that hold connections of it (so none is sent where nobody can send it). Raises
    ValueError for an arrival of a persona with no connections."""
    shares: list[tuple[dict[str, list[Plan]], list[tuple[float, str]]]] = [({}, []) for _ in range(processes)]
    holders: dict[str, list[int]] = {}
    for persona, plans in actors.items():
        for index, plan in enumerate(plans):
            shares[index % processes][0].setdefault(persona, []).append(plan)
        holders[persona] = list(range(min(processes, len(plans))))
    turn: Counter[str] = Counter()
    for due, persona in arrivals:
        if not holders.get(persona):
            raise ValueError(f"an arrival for {persona!r}, which has no connections")
        shares[holders[persona][turn[persona] % len(holders[persona])]][1].append((due, persona))
        turn[persona] += 1
    return [share for share in shares if share[1]]


async def _run_open(
    base_url: str, actors: dict[str, list[Plan]], arrivals: list[tuple[float, str]], measure_from: float, stop: float
) -> dict[str, Any]:
    recorder = OpenRecorder(measure_from, stop)
    cpu_before = os.times()
    free: dict[str, asyncio.Queue[OpenConnection]] = {}
    everyone = []
    for persona, plans in actors.items():
        free[persona] = asyncio.Queue()
        for plan in plans:
            connection = OpenConnection(base_url, plan, recorder)
            everyone.append(connection)
            free[persona].put_nowait(connection)
    waited: Counter[str] = Counter()
    late_by: list[float] = []  # how long after it was due the client got round to each request of the window

    async def send(due: float, persona: str) -> None:
        if measure_from <= due < stop:
            late_by.append(time.perf_counter() - due)
            if free[persona].empty():
                waited[persona] += 1
        connection = await free[persona].get()  # every connection of the persona busy: waits here, in the latency
        try:
            connection.due = due
            await connection.next_request()
        except Exception as exc:  # a bug in the client, not a slow server: counted
            recorder.crashed[f"{type(exc).__name__}: {exc}"[:200]] += 1
        finally:
            free[persona].put_nowait(connection)

    tasks: list[tuple[float, str, asyncio.Task[None]]] = []
    for due, persona in arrivals:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append((due, persona, asyncio.create_task(send(due, persona))))
    if tasks:
        _, unfinished = await asyncio.wait(
            [task for _, _, task in tasks], timeout=max(0.0, stop - time.perf_counter()) + DRAIN_SECONDS
        )
        for due, persona, task in tasks:
            if task in unfinished:
                task.cancel()
                recorder.errors.setdefault(persona, Counter())[UNANSWERED] += 1
                if measure_from <= due < stop:
                    recorder.statuses.setdefault(persona, Counter())[UNANSWERED] += 1
        await asyncio.gather(*(task for _, _, task in tasks), return_exceptions=True)
    for connection in everyone:
        await connection.client.aclose()
    cpu_after = os.times()
    result = recorder.result()
    result["cpu_seconds"] = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    result["cancelled"] = 0  # an unanswered request is counted as an error of its persona, above
    result["waited"] = dict(waited)
    result["late_by"] = late_by
    result["connections"] = {persona: len(plans) for persona, plans in actors.items()}
    result["leftover"] = {  # what each connection still had to act on at the end: the parent refreshes its plans
        "to_acknowledge": sum(len(c.plan.to_acknowledge) for c in everyone),
        "to_endorse": sum(len(c.plan.to_endorse) for c in everyone),
    }
    return result


def run_open(
    base_url: str, actors: dict[str, list[Plan]], arrivals: list[tuple[float, str]], measure_from: float, stop: float
) -> dict[str, Any]:
    """Send these arrivals (due time, persona) from this process, each on a free connection of its persona."""
    return _on_an_event_loop(_run_open(base_url, actors, arrivals, measure_from, stop))


def _serve_open(inbox: Any, outbox: Any) -> None:
    _serve_jobs(inbox, outbox, run_open)


class OpenLoopPool(ClientPool):
    """Long-lived client processes sending a step's arrivals, each its share (`share_out`)."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.inboxes = [context.Queue() for _ in range(processes)]
        self.outbox = context.Queue()
        self.workers = [
            context.Process(target=_serve_open, args=(inbox, self.outbox), daemon=True) for inbox in self.inboxes
        ]
        for worker in self.workers:
            worker.start()

    def run_open(
        self,
        base_url: str,
        actors: dict[str, list[Plan]],
        arrivals: list[tuple[float, str]],
        measure_from: float,
        stop: float,
    ) -> dict[str, Any]:
        """Send `arrivals` (due times are `time.perf_counter` values, the same clock in every process); the
        processes' results merged, with how many requests waited for a free connection and by how long each was
        handed to one after it was due."""
        shares = share_out(arrivals, actors, len(self.workers))
        for inbox, (held, due) in zip(self.inboxes, shares, strict=False):
            inbox.put((base_url, held, due, measure_from, stop))
        results: list[dict[str, Any]] = []
        deadline = stop + DRAIN_SECONDS + 60
        while len(results) < len(shares):
            try:
                outcome, value = self.outbox.get(timeout=1.0)
            except queue.Empty:
                if not all(worker.is_alive() for worker in self.workers) or time.perf_counter() > deadline:
                    raise RuntimeError("a client process died or did not answer") from None
                continue
            if outcome != "ok":
                raise RuntimeError(f"a client process failed: {value}")
            results.append(value)
        merged = merge(results)
        merged["answered"] = sum((Counter(r["answered"]) for r in results), Counter())
        merged["waited"] = sum((Counter(r["waited"]) for r in results), Counter())
        merged["late_by"] = sorted(lag for r in results for lag in r["late_by"])
        merged["leftover"] = {key: sum(r["leftover"][key] for r in results) for key in ("to_acknowledge", "to_endorse")}
        return merged
