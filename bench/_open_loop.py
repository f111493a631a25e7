"""An open-loop HTTP load generator: requests leave on a fixed schedule, whatever the answers.

A dispatcher thread releases request i at start + i / rate into a queue; a pool of
worker threads, each with its own keep-alive connection, sends them. Latency is
measured from the *scheduled* time, so a slow server is charged for the requests
that queued behind it (no coordinated omission). Everything is bounded: a fixed
number of requests, a per-request timeout, and a deadline for stragglers.
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Planned:
    index: int
    kind: str  # "search" or "view"
    path: str
    offset: float  # seconds after the start
    measured: bool  # False during warm-up


@dataclass
class Outcome:
    planned: Planned
    status: int = 0  # 0: no answer (timeout, connection error)
    latency: float = 0.0  # seconds from the scheduled time to the last byte
    service: float = 0.0  # seconds from the actual send to the last byte
    lateness: float = 0.0  # seconds from the scheduled time to the send
    error: str = ""
    retried: bool = False  # resent once on a fresh connection after a stale keep-alive one


@dataclass
class RunResult:
    outcomes: list[Outcome] = field(default_factory=list)
    wall_seconds: float = 0.0  # of the measured window
    unfinished: int = 0
    dispatch_lag_max: float = 0.0  # how late the dispatcher itself released a request


class _Worker(threading.Thread):
    def __init__(
        self,
        host: str,
        port: int,
        headers: dict[str, str],
        jobs: queue.Queue,
        sink: list,
        start_at: float,
        timeout: float,
    ):
        super().__init__(daemon=True)
        self.host, self.port, self.headers = host, port, headers
        self.jobs, self.sink, self.start_at, self.timeout = jobs, sink, start_at, timeout
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                break
            scheduled = self.start_at + job.offset
            sent = time.perf_counter()
            outcome = Outcome(planned=job, lateness=sent - scheduled)
            for attempt in (1, 2):
                reused = self.conn is not None
                try:
                    conn = self._connection()
                    conn.request("GET", job.path, headers=self.headers)
                    response = conn.getresponse()
                    response.read()
                    outcome.status = response.status
                    outcome.error = ""
                    if response.will_close:
                        conn.close()
                        self.conn = None
                    break
                except (OSError, http.client.HTTPException) as exc:
                    outcome.error = f"{type(exc).__name__}: {exc}"[:200]
                    if self.conn is not None:
                        self.conn.close()
                    self.conn = None
                    # The server may close an idle keep-alive connection just as we reuse it:
                    # send once more on a fresh one, as browsers and HTTP libraries do for a GET.
                    stale = isinstance(
                        exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                    )
                    if not (reused and stale and attempt == 1):
                        break
                    outcome.retried = True
            done = time.perf_counter()
            outcome.latency = done - scheduled
            outcome.service = done - sent
            self.sink.append(outcome)  # list.append is atomic under the GIL
        if self.conn is not None:
            self.conn.close()


def run_open_loop(
    plan: list[Planned],
    *,
    host: str,
    port: int,
    headers: dict[str, str],
    concurrency: int = 64,
    timeout: float = 10.0,
    drain_seconds: float = 30.0,
) -> RunResult:
    """Send every planned request at its offset; return each outcome (unanswered ones with status 0)."""
    jobs: queue.Queue = queue.Queue()
    sink: list[Outcome] = []
    start_at = time.perf_counter() + 0.2
    workers = [
        _Worker(host, port, headers, jobs, sink, start_at, timeout) for _ in range(concurrency)
    ]
    for w in workers:
        w.start()
    lag = 0.0
    for job in plan:
        delay = start_at + job.offset - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            lag = max(lag, -delay)
        jobs.put(job)
    for _ in workers:
        jobs.put(None)
    deadline = time.perf_counter() + timeout + drain_seconds
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.perf_counter()))
    result = RunResult(outcomes=list(sink), dispatch_lag_max=lag)
    answered = {o.planned.index for o in result.outcomes}
    for job in plan:
        if job.index not in answered:
            result.outcomes.append(Outcome(planned=job, error="unfinished at the deadline"))
            result.unfinished += 1
    measured = [o for o in result.outcomes if o.planned.measured and o.status]
    if measured:
        first = min(o.planned.offset for o in measured)
        last_done = max(o.planned.offset + o.latency for o in measured)
        result.wall_seconds = last_done - first
    return result


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]
