"""Open-loop benchmark: the mixed workload's latency at half the rate the service can sustain, in one run on loopback.

    .venv/bin/python -m bench.open_loop [--handovers 20000] [--caseload realistic|heavy] [--cases N] [--seconds 10]
        [--step-seconds 3] [--warmup 1] [--connections 100] [--client-processes 2] [--ping-start 200]
        [--mix-start 50] [--keep]

A script run by hand, not a timed test. It

1. seeds a database (`bench.seed.build`, as bench/load_benchmark.py does) and adds, for the managers who endorse in
   the mix, submitted handovers of teams of their own (`bench.seed.add_action_sets`);
2. starts `handover serve` as bench/load_benchmark.py does (production settings, one worker, its e-mails delivered
   to a mail server on loopback that only counts them) and signs everyone in beforehand: sign-ins, which hash
   passwords on purpose, are not part of the workload;
3. finds GET /ping's sustainable rate, then the mix's: each step offers one rate for `--warmup` + `--step-seconds`,
   rising by `--growth` from `--ping-start` (`--mix-start`) until a step is not answered in full, then bisecting
   between the last step answered in full and the first that was not (`highest_sustained`). A step is answered in
   full when the correct answers that arrived in its window reach 95% of the rate offered and no request failed or
   was answered wrongly. The mix's sustainable rate is printed as a ratio to GET /ping's;
4. sends the mix at 50% of its sustainable rate for `--seconds` and prints p50/p95/p99 of every endpoint against the
   target, p99 < 50 ms for every endpoint; writes every step and the final run to
   bench/results/open-loop-<timestamp>.json.

The mix is the mixed phase's people (bench/load_benchmark.py: `choose_people`, `MIX`), each request going to one
of them in the proportions of real use: outgoing workers (60%: dashboard, task list, section save, task list, save,
task list, in turn), receiving workers (20%: the inbox, and every other turn one endorsed handover taken a request
at a time: its review page, a confirmation of each critical item still unconfirmed, the acknowledgement), managers
(12%: two thirds on the queue alone, one third alternating the queue and an endorsement of their team's submitted
handover) and auditors (the rest: the incomplete-handovers report, first page). Per request that is about 10%
dashboards, 30% task lists, 20% section saves, 10% queue views, 2% endorsements, 8% reports and the receivers' 20%
(a handover's review, its confirmations and acknowledgement take one turn each, so with two items to confirm about
4% inbox views, 4% reviews, 8% confirmations and 4% acknowledgements; the run at half the rate prints the counts).
Only the answers a browser would get on the happy path count (200 for pages, 303 to the right place for forms);
anything else is a failure, and a step with one is not answered in full.

Why open-loop: a closed-loop client (N connections, each sending its next request when the last is answered) slows
down when the service does, so a stall delays the requests that would have met it and is never measured
("coordinated omission"), and its mean latency is at least connections / throughput, which measures the client.
Here requests arrive on a fixed schedule, request i due at start + i / rate (evenly spaced, not Poisson: a step
then offers exactly the rate asked for; whose request each is is drawn with a fixed seed), whatever the answers
do. Each person's requests go out on their own keep-alive connection (`--connections` of them, shared out by the
mix's proportions); a request due while every connection of its kind is busy waits for one, and its latency is
counted from when it was due, so that waiting, in the client or in the server, is in the figures. How many requests
waited, how late the client handed requests to a connection, and the client's CPU are printed with each step: the
client runs in `--client-processes` processes of its own (bench/load_client.py) and must not be what limits the
rate.

Figures on this 2-core machine are noisy (the client and the server share the cores, and other work may run): the
sustainable rate is reported as a ratio to GET /ping's measured in the same run, with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import seed
from bench.load_benchmark import (
    MIX,
    MailServer,
    Server,
    Worker,
    choose_people,
    latency_figures,
    section_forms,
    section_version,
    sign_in_all,
    summarise,
    summary_form,
)
from bench.load_client import OpenLoopPool, Plan, arrival_times, personas_drawn
from bench.store import Store, placeholders
from service.settings import PROJECT_ROOT

TARGET_P99_MS = 50.0
ANSWERED_IN_FULL = 0.95  # achieved over offered, at least, for a step to count as sustained
TOLERANCE = 0.05  # the bisection stops when the bracket is this narrow, relative to the rate sustained
HALF = 0.5
SET_NAME = "open loop"
ENDORSEMENTS_PER_MANAGER = 150  # submitted handovers added for each endorsing manager's team
# the mix's people, by how much of the traffic is theirs (bench/load_benchmark.py's MIX: auditors take the rest)
WEIGHTS = {
    "outgoing": MIX["outgoing"],
    "receiving": MIX["receiving"],
    "queue": MIX["manager"] * 2 / 3,
    "approving": MIX["manager"] / 3,
    "report": 1.0 - sum(MIX.values()),
}
ALL = "all requests"
# every endpoint the mix sends to: each is judged, and one with no answer in the run at half the rate is named
ENDPOINTS = [
    "dashboard", "task list", "section save", "inbox", "review", "confirm", "acknowledge", "queue", "endorse", "report"
]  # fmt: skip


# ---------------------------------------------------------------- the arithmetic


def answered_in_full(offered: float, achieved: float, failures: int) -> bool:
    """Whether a step was sustained: every request answered correctly, and the correct answers that arrived in the
    window (requests a second) at least 95% of the rate offered."""
    return failures == 0 and achieved >= ANSWERED_IN_FULL * offered


def highest_sustained(
    sustained: Callable[[float], bool],
    start: float,
    growth: float = 1.5,
    bisections: int = 4,
    max_ramp: int = 16,
) -> float:
    """The highest rate (requests a second) for which `sustained` held: a ramp from `start`, multiplying by `growth`
    while steps hold (dividing while they do not, if the first does not), at most `max_ramp` steps, then up to
    `bisections` halvings of the bracket between the highest rate that held and the lowest above it that did not,
    stopping once that bracket is within `TOLERANCE` of the rate that held. 0.0 if none held."""
    if start <= 0 or growth <= 1:
        raise ValueError("the ramp needs a positive start and a growth above 1")
    passed: float | None = None
    failed: float | None = None
    rate = start
    for _ in range(max_ramp):
        if sustained(rate):
            passed = rate
            if failed is not None:
                break
            rate *= growth
        else:
            failed = rate
            if passed is not None:
                break
            rate /= growth
    if passed is None:
        return 0.0
    if failed is None:
        return passed
    for _ in range(bisections):
        if failed - passed <= TOLERANCE * passed:
            break
        middle = (passed + failed) / 2
        if sustained(middle):
            passed = middle
        else:
            failed = middle
    return passed


def failures_of(merged: dict[str, Any]) -> int:
    """Every request answered wrongly or not at all (the warm-up's too), and every crash of the client."""
    wrong = sum(sum(figures["unexpected"].values()) for figures in merged["endpoints"].values())
    failed = sum(sum(figures["errors"].values()) for figures in merged["endpoints"].values())
    return int(wrong + failed + sum(merged["crashed"].values()))


# ---------------------------------------------------------------- the people and their requests


class Mix:
    """The mix's people and their connections' plans, built afresh from the store before each step (the versions of
    the sections saved, the handovers still waiting to be acknowledged or endorsed), so that nothing one step did
    makes the next send a stale form."""

    def __init__(
        self,
        store: Store,
        workers: list[Worker],
        managers: list[dict[str, str]],
        auditors: list[dict[str, str]],
        approvers: list[tuple[dict[str, str], list[int]]],
        connections: int,
    ) -> None:
        self.store = store
        self.forms = section_forms()
        self.managers = managers
        self.auditors = auditors
        self.approvers = approvers
        counts = {role: max(1, round(connections * weight)) for role, weight in WEIGHTS.items()}
        counts["approving"] = len(approvers)
        by_received = sorted(workers, key=lambda worker: -len(worker.received))
        self.receivers = by_received[: counts["receiving"]]
        self.outgoing = by_received[counts["receiving"] :][: counts["outgoing"]]
        self.counts = counts

    def still(self, state: str, ids: list[int]) -> dict[int, int]:
        """Of these handovers, those still in `state`, with their versions."""
        if not ids:
            return {}
        found = self.store.rows(
            f"SELECT id, version FROM handovers WHERE state = ? AND id IN ({placeholders(ids)})", [state, *ids]
        )
        return {int(h): int(version) for h, version in found}

    def actors(self, final: bool = False) -> dict[str, list[Plan]]:
        """Each role's connections. During the search (`final` False) each receiver and endorsing manager is offered
        only the first half of their handovers, so that the run at half the sustainable rate, which takes any left,
        still has acknowledgements and endorsements in its mix however many the search took."""
        received = self.still("endorsed", [h for worker in self.receivers for h in worker.received])
        submitted = self.still("submitted", [h for _, ids in self.approvers for h in ids])

        def offered(ids: list[int]) -> list[int]:
            return ids if final else ids[: len(ids) // 2]

        actors: dict[str, list[Plan]] = {
            "outgoing": [self.save_plan(worker) for worker in self.outgoing],
            "receiving": [
                Plan("receiving", w.cookies, to_acknowledge=[h for h in offered(w.received) if h in received])
                for w in self.receivers
            ],
            "queue": [
                Plan("get", self.managers[i % len(self.managers)], steps=[("queue", "/queue")])
                for i in range(self.counts["queue"])
            ],
            "approving": [
                Plan("approving", cookies, to_endorse=[(h, submitted[h]) for h in offered(ids) if h in submitted])
                for cookies, ids in self.approvers
            ],
            "report": [
                Plan("get", self.auditors[i % len(self.auditors)], steps=[("report", "/audit/incomplete")])
                for i in range(self.counts["report"])
            ],
        }
        for role in actors.values():
            for index, plan in enumerate(role):
                plan.offset = index  # each connection starts at a different point of its round
        return actors

    def save_plan(self, worker: Worker) -> Plan:
        if worker.section_id == seed.CASE_SUMMARY:
            form = summary_form(self.store, worker.draft_id)
        else:
            form = self.forms[worker.section_id]
        return Plan(
            "outgoing",
            worker.cookies,
            handover_id=worker.draft_id,
            section_id=worker.section_id,
            form=form,
            version=section_version(self.store, worker.draft_id, worker.section_id),
        )

    def waiting(self) -> dict[str, int]:
        """Handovers still there to acknowledge and to endorse."""
        received = self.still("endorsed", [h for worker in self.receivers for h in worker.received])
        submitted = self.still("submitted", [h for _, ids in self.approvers for h in ids])
        return {"to_acknowledge": len(received), "to_endorse": len(submitted)}


# ---------------------------------------------------------------- a step


class Stepper:
    """Runs one step: a rate offered for warm-up + measured seconds, and what came of it."""

    def __init__(self, pool: OpenLoopPool, server: Server, warmup: float, seed_number: int) -> None:
        self.pool = pool
        self.server = server
        self.warmup = warmup
        self.seed_number = seed_number

    def run(
        self, label: str, rate: float, seconds: float, weights: dict[str, float], actors: dict[str, list[Plan]]
    ) -> dict[str, Any]:
        start_at = time.perf_counter() + 1.0  # time for the client processes to receive their share
        measure_from = start_at + self.warmup
        stop = measure_from + seconds
        due = arrival_times(rate, start_at, self.warmup + seconds)
        arrivals = list(zip(due, personas_drawn(weights, len(due), self.seed_number), strict=True))
        cpu: dict[str, float] = {}

        def watch() -> None:
            time.sleep(max(0.0, measure_from - time.perf_counter()))
            cpu["from"] = self.server.cpu_seconds()
            time.sleep(max(0.0, stop - time.perf_counter()))
            cpu["to"] = self.server.cpu_seconds()

        watcher = threading.Thread(target=watch)
        watcher.start()
        began = time.perf_counter()
        merged = self.pool.run_open(self.server.base_url, actors, arrivals, measure_from, stop)
        client_wall = time.perf_counter() - began
        watcher.join()
        endpoints = {name: summarise(figures, seconds) for name, figures in sorted(merged["endpoints"].items())}
        every = sorted(latency for figures in merged["endpoints"].values() for latency in figures["latencies"])
        offered = sum(measure_from <= d < stop for d in due) / seconds
        achieved = sum(merged["answered"].values()) / seconds
        failures = failures_of(merged)
        late = merged["late_by"]
        return {
            "label": label,
            "rate": rate,
            "offered": offered,
            "achieved": achieved,
            "failures": failures,
            "sustained": answered_in_full(offered, achieved, failures),
            "seconds": seconds,
            "warmup": self.warmup,
            ALL: {"ok": len(every), **latency_figures(every)},
            "endpoints": endpoints,
            "waited_for_a_connection": dict(merged["waited"]),
            "requests_in_window": sum(measure_from <= d < stop for d in due),
            "client_late_ms": {  # how long after its due time the client got round to each request of the window
                "p50": latency_figures(late)["p50_ms"],
                "p99": latency_figures(late)["p99_ms"],
                "max": latency_figures(late)["max_ms"],
            },
            "client_cpu_percent": merged["cpu_seconds"] / client_wall * 100,  # the processes' together (of 200%)
            "server_cpu_percent": (cpu["to"] - cpu["from"]) / seconds * 100,
            "client_crashes": dict(merged["crashed"]),
            "load_average": os.getloadavg()[0],
        }


def print_step(step: dict[str, Any]) -> None:
    every = step[ALL]
    waited = sum(step["waited_for_a_connection"].values())
    print(
        f"  {step['label']:<5} offered {step['offered']:7.1f}/s  achieved {step['achieved']:7.1f}/s  "
        f"p50 {every['p50_ms']:7.1f}  p95 {every['p95_ms']:7.1f}  p99 {every['p99_ms']:7.1f} ms  "
        f"failed {step['failures']:<4} waited {waited:<5} client late p99 {step['client_late_ms']['p99']:6.1f} ms  "
        f"CPU client {step['client_cpu_percent']:4.0f}% server {step['server_cpu_percent']:4.0f}%  "
        f"load {step['load_average']:.2f}  {'sustained' if step['sustained'] else 'NOT sustained'}",
        flush=True,
    )
    for name, summary in step["endpoints"].items():
        if summary["unexpected"] or summary["error_types"]:
            print(f"        {name}: {summary['unexpected']} {summary['error_types']}")
    if step["client_crashes"]:
        print(f"        client crashes: {step['client_crashes']}")


def search(
    stepper: Stepper,
    label: str,
    start: float,
    args: argparse.Namespace,
    weights: dict[str, float],
    actors: Callable[[], dict[str, list[Plan]]],
) -> tuple[float, list[dict[str, Any]]]:
    """The highest rate sustained, and every step that found it (the curve)."""
    curve: list[dict[str, Any]] = []

    def sustained(rate: float) -> bool:
        step = stepper.run(label, rate, args.step_seconds, weights, actors())
        curve.append(step)
        print_step(step)
        return bool(step["sustained"])

    found = highest_sustained(sustained, start, args.growth, args.bisections)
    return found, curve


def print_final(final: dict[str, Any]) -> list[dict[str, Any]]:
    """The table at half the sustainable rate, and each endpoint's verdict against p99 < 50 ms."""
    print(
        f"\nthe mix at {final['offered']:.1f} requests/s offered (50% of sustainable), {final['seconds']:g} s "
        f"after {final['warmup']:g} s warm-up: achieved {final['achieved']:.1f}/s, failed {final['failures']}, "
        f"waited for a connection {sum(final['waited_for_a_connection'].values())}, client late p99 "
        f"{final['client_late_ms']['p99']:.1f} ms, CPU client {final['client_cpu_percent']:.0f}% server "
        f"{final['server_cpu_percent']:.0f}%"
    )
    print(f"  {'endpoint':<14} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  p99 < 50 ms")
    for name, summary in final["endpoints"].items():
        if summary["unexpected"] or summary["error_types"]:
            print(f"  failed, {name}: {summary['unexpected']} {summary['error_types']}")
    verdicts = []
    missing = [name for name in ENDPOINTS if name not in final["endpoints"]]
    if missing:
        print(f"  no request answered of: {', '.join(missing)} (their people ran out of handovers, or all failed)")
    rows = [*final["endpoints"].items(), (ALL, final[ALL])]
    for name, figures in rows:
        met = figures["ok"] > 0 and figures["p99_ms"] < TARGET_P99_MS
        if name != ALL:
            verdicts.append({"endpoint": name, "p99_ms": figures["p99_ms"], "met": met})
        print(
            f"  {name:<14} {figures['ok']:>8} {figures['p50_ms']:>8.1f} {figures['p95_ms']:>8.1f} "
            f"{figures['p99_ms']:>8.1f} {figures['max_ms']:>8.1f}  {'met' if met else 'NOT met'}"
        )
    return verdicts


# ---------------------------------------------------------------- the run


def seed_database(folder: Path, args: argparse.Namespace) -> Store:
    """The seeded database (`bench.seed.build`, the one call of it here)."""
    began = time.perf_counter()
    seed.build(folder / "handover.db", args.handovers, cases=args.cases, caseload=args.caseload)
    print(f"seeded {args.handovers:,} handovers in {time.perf_counter() - began:.1f} s", flush=True)
    return Store(folder / "handover.db")


def run(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    store = seed_database(folder, args)
    workers, manager_names, auditor_name = choose_people(store, args.connections)
    endorsing = max(1, round(args.connections * WEIGHTS["approving"]))
    sets = seed.add_action_sets(
        store, endorsing, {"submit": 0, "endorse": ENDORSEMENTS_PER_MANAGER, "acknowledge": 0}, [SET_NAME]
    )
    mail = MailServer()
    server = Server(folder, audit_reads=True, label="open-loop", mail_port=mail.port)
    pool = OpenLoopPool(args.client_processes)
    try:
        mail.start()
        server.start()
        began = time.perf_counter()
        jars = asyncio.run(sign_in_all(server.base_url, [worker.username for worker in workers]))
        for worker, jar in zip(workers, jars, strict=True):
            worker.cookies = jar
        managers = asyncio.run(sign_in_all(server.base_url, manager_names[: args.connections]))
        auditors = asyncio.run(sign_in_all(server.base_url, [auditor_name] * 4))
        endorsers = asyncio.run(sign_in_all(server.base_url, [people.manager for people in sets.people]))
        approvers = list(zip(endorsers, sets.handovers[SET_NAME]["endorse"], strict=True))
        mix = Mix(store, workers, managers, auditors, approvers, args.connections)
        print(
            f"signed in {len(workers)} workers, {len(managers)} managers, {len(endorsers)} endorsing managers and "
            f"{len(auditors)} auditor sessions in {time.perf_counter() - began:.1f} s; connections by role: "
            + ", ".join(f"{role} {count}" for role, count in mix.counts.items())
            + f"; waiting: {mix.waiting()}",
            flush=True,
        )
        stepper = Stepper(pool, server, args.warmup, args.seed)
        pings = {"ping": [Plan("get", w.cookies, steps=[("ping", "/ping")]) for w in workers]}
        print("\nGET /ping, open loop:")
        ping_rate, ping_curve = search(stepper, "ping", args.ping_start, args, {"ping": 1.0}, lambda: pings)
        print(f"GET /ping sustained {ping_rate:.1f} requests/s")
        print("\nthe mix, open loop:")
        mix_rate, mix_curve = search(stepper, "mix", args.mix_start, args, WEIGHTS, mix.actors)
        ratio = mix_rate / ping_rate if ping_rate else math.nan
        print(f"the mix sustained {mix_rate:.1f} requests/s: {ratio:.3f} of GET /ping's {ping_rate:.1f}")
        final = None
        if mix_rate:
            final = stepper.run("half", mix_rate * HALF, args.seconds, WEIGHTS, mix.actors(final=True))
        else:
            print("the mix sustained no rate tried: lower --mix-start")
        verdicts = print_final(final) if final else []
        waiting = mix.waiting()
        errors_logged = server.errors_logged()
        memory = server.memory_mb()
    finally:
        pool.close()
        server.stop()
        mail.stop()
    print(f"handovers still waiting at the end: {waiting}; server log errors {errors_logged}; memory {memory}")
    return {
        "ping": {"sustained": ping_rate, "curve": ping_curve},
        "mix": {"sustained": mix_rate, "over_ping": ratio, "curve": mix_curve, "weights": WEIGHTS},
        "half_rate": final,
        "targets": verdicts,
        "connections_by_role": mix.counts,
        "still_waiting": waiting,
        "server_log_errors": errors_logged,
        "server_memory_mb": memory,
        "emails_delivered": mail.taken,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--handovers", type=int, default=20_000)
    seed.add_seed_arguments(parser)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds at half the sustainable rate")
    parser.add_argument("--step-seconds", type=float, default=3.0, help="measured seconds of each step of the search")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each step")
    parser.add_argument("--connections", type=int, default=100, help="keep-alive connections, shared out by role")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--ping-start", type=float, default=200.0, help="GET /ping's first rate, requests a second")
    parser.add_argument("--mix-start", type=float, default=50.0, help="the mix's first rate, requests a second")
    parser.add_argument("--growth", type=float, default=1.5, help="each step of the ramp over the last")
    parser.add_argument("--bisections", type=int, default=4)
    parser.add_argument("--seed", type=int, default=28, help="of the draw of whose request each arrival is")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, server log)")
    args = parser.parse_args()
    seed.resolve_cases(args)
    folder = Path(tempfile.mkdtemp(prefix="handover-open-loop-"))
    load_before = os.getloadavg()
    started = time.perf_counter()
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"load average {load_before[0]:.2f}; working in {folder}"
    )
    if load_before[0] > 1.0:
        print("WARNING: something else has been using the CPU; the figures may be lower and noisier")
    measured = run(folder, args)
    load_after = os.getloadavg()
    print(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        f"total {time.perf_counter() - started:.0f} s"
    )
    out = PROJECT_ROOT / "bench" / "results" / f"open-loop-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "settings": vars(args),
        **measured,
    }
    out.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"written to {out.relative_to(PROJECT_ROOT)}")
    if args.keep:
        print(f"kept {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
