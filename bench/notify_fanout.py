"""Notification fan-out: review requests, each told to several channels, delivered from the
outbox to real receivers on loopback, with one receiver down for a while in the middle.

``--requests`` review requests (10,000 by default) are committed at ``--rate`` per
second by one thread (``engine.propose``: each commit records one notification per
channel); ``--threads`` outbox runners (``NotificationPool``, as ``placet worker
--notify-threads``) send them meanwhile, through the real senders: two Standard
Webhooks receivers and the loopback Slack Web API (``placet.testing_slack``) through
the real ``slack_sdk``. The channels are a parameter (``--channels``), so e-mail can
join. Two runs on fresh SQLite files, in this order: the **baseline** (every receiver
up), then **one down** (``--down``, stopped once half the requests are in, for
``--down-seconds``, then started again on the same port). Each receiver records the
first arrival of every message id; the delay is arrival minus the notification's
commit time (the event's time, which the change's transaction records). Every
delivery must arrive (``all arrived``) and be recorded delivered, however long the
outage; duplicates (a try whose answer was lost) are counted.

    .venv/bin/python bench/notify_fanout.py [--requests 10000] [--rate 100] [--threads 8]
        [--channels webhook:a webhook:b slack:#reviews] [--down slack:#reviews]
        [--down-seconds 60]
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from common import machine_info, percentile, print_table, scratch_dir

KIND = "reply"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "xoxb-bench"
WAIT_SECONDS = 900.0


class Arrivals:
    """The first arrival time of every message id, and how many came more than once."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.repeats = 0
        self._lock = threading.Lock()

    def arrive(self, message_id: str) -> None:
        now = time.time()
        with self._lock:
            if message_id in self.first:
                self.repeats += 1
            else:
                self.first[message_id] = now


class WebhookReceiver:
    """A loopback receiver that answers 204 and notes each webhook-id; stoppable."""

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals
        self.port = 0
        self.down = False
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        arrivals, receiver = self.arrivals, self
        self.down = False

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # kept-alive connections, as httpx uses them

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                if receiver.down:  # a kept-alive connection outlives the listener: cut it
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                arrivals.arrive(self.headers["webhook-id"])
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.down = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class SlackReceiver:
    """The loopback Slack Web API, noting each posted message's Placet id."""

    def __init__(self, arrivals: Arrivals) -> None:
        from placet.testing_slack import LoopbackSlack

        self.arrivals = arrivals
        outer = self

        class Noting(LoopbackSlack):
            def answer(self, method: str, args: dict[str, Any], token: str | None) -> Any:
                found = super().answer(method, args, token)
                if method == "chat.postMessage":
                    outer.arrivals.arrive(str(args["metadata"]["event_payload"]["id"]))
                return found

        self.slack = Noting(TOKEN)
        self.calls_kept = self.slack.calls

    def start(self) -> None:
        self.slack.start()
        self.slack.calls.clear()  # a long run keeps only counts, not every call

    def stop(self) -> None:
        self.slack.stop()


def channel_settings(addresses: list[str], receivers: dict[str, Any]) -> Any:
    """The ChannelSettings for these addresses, each pointed at its receiver."""
    from placet.domain.channels import ChannelSettings, Slack, Webhook

    hooks, slack = {}, None
    for address in addresses:
        kind, _, name = address.partition(":")
        if kind == "webhook":
            hooks[name] = Webhook(
                name, receivers[address].url, SECRET, timeout=2.0, max_attempts=30,
                retry_delay=1.0,
            )  # fmt: skip
        elif kind == "slack":
            slack = Slack(
                bot_token=TOKEN, signing_secret="bench", base_url=receivers[address].slack.base_url,
                timeout=2.0, max_attempts=30, retry_delay=1.0,
                channels=tuple(a.partition(":")[2] for a in addresses if a.startswith("slack:")),
            )  # fmt: skip
        else:
            raise SystemExit(f"no loopback receiver for {address} in this benchmark yet")
    return ChannelSettings(hooks, 600.0, slack)


def receiver_for(address: str, arrivals: Arrivals) -> Any:
    return SlackReceiver(arrivals) if address.startswith("slack:") else WebhookReceiver(arrivals)


def one_run(
    folder: Path, args: argparse.Namespace, down: str | None, say: Callable[[str], None]
) -> dict[str, Any]:
    """One fan-out; its figures."""
    from placet.channels.outbox import NotificationPool
    from placet.config import Settings
    from placet.domain.models import TaskKind
    from placet.engine import Engine
    from placet.testing import temp_store

    arrivals = Arrivals()
    receivers = {address: receiver_for(address, arrivals) for address in args.channels}
    for receiver in receivers.values():
        receiver.start()
    store = temp_store(folder)
    settings = Settings(
        database_url=store.url,
        kinds={KIND: TaskKind(KIND, template="Answer {q}")},
        channels=channel_settings(args.channels, receivers),
        notify=tuple(args.channels),
    )
    engine = Engine(store, settings)
    stop = threading.Event()
    pool = NotificationPool(engine, args.threads, report=lambda _line: None)
    sending = threading.Thread(target=pool.run, args=(stop,), daemon=True)
    sending.start()
    expected = args.requests * len(args.channels)
    started = time.time()
    outage: list[float] = []
    for n in range(args.requests):
        if down is not None and n == args.requests // 2:
            receivers[down].stop()
            outage.append(time.time())
            say(f"  {down} down at request {n}")
        if outage and len(outage) == 1 and time.time() - outage[0] >= args.down_seconds:
            receivers[down].start()
            outage.append(time.time())
            say(f"  {down} up again after {outage[1] - outage[0]:.0f} s")
        engine.propose(KIND, {"q": f"question {n}"}, "bench", f"Draft answer {n}.")
        pause = started + (n + 1) / args.rate - time.time()
        if pause > 0:
            time.sleep(pause)
    if outage and len(outage) == 1:  # the requests ran out first: wait out the outage
        time.sleep(max(0.0, outage[0] + args.down_seconds - time.time()))
        receivers[down].start()
        outage.append(time.time())
        say(f"  {down} up again after {outage[1] - outage[0]:.0f} s")
    committed = time.time()
    deadline = committed + WAIT_SECONDS
    while len(arrivals.first) < expected and time.time() < deadline:
        time.sleep(0.05)
    finished = time.time()
    time.sleep(0.5)  # let the last tries record themselves
    stop.set()
    sending.join(timeout=60)
    records = [r for task in engine.iter_tasks() for r in engine.notifications().for_task(task.id)]
    engine.close(store_too=True)
    for receiver in receivers.values():
        receiver.stop()
    delays = [
        arrivals.first[r.webhook_id] - r.created_at
        for r in records
        if r.webhook_id in arrivals.first
    ]
    last = max(arrivals.first.values(), default=finished)
    return {
        "deliveries": len(arrivals.first),
        "expected": expected,
        "all_arrived": len(arrivals.first) == expected
        and all(r.status.value == "delivered" for r in records),
        "repeats": arrivals.repeats,
        "seconds": last - started,
        "per_second": len(arrivals.first) / max(1e-9, last - started),
        "p50_ms": percentile(delays, 50) * 1000,
        "p99_ms": percentile(delays, 99) * 1000,
        "max_s": max(delays, default=float("nan")),
        "tries": sum(r.attempts for r in records),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="review requests per second")
    parser.add_argument("--threads", type=int, default=8, help="outbox runner threads")
    parser.add_argument(
        "--channels", nargs="+", default=["webhook:a", "webhook:b", "slack:#reviews"]
    )
    parser.add_argument("--down", default="slack:#reviews", help="the receiver taken down")
    parser.add_argument("--down-seconds", type=float, default=60.0)
    args = parser.parse_args()
    if args.down not in args.channels:
        raise SystemExit(f"--down {args.down} is not one of --channels {args.channels}")
    print(machine_info())
    print(
        f"{args.requests} review requests at {args.rate:g}/s, {len(args.channels)} channels each "
        f"({', '.join(args.channels)}), {args.threads} outbox threads; "
        f"{args.down} down for {args.down_seconds:g} s in the second run"
    )
    results = {}
    for name, down in (("baseline (all up)", None), (f"{args.down} down", args.down)):
        print(f"{name} ...", flush=True)
        with scratch_dir("placet-fanout-") as folder:
            results[name] = one_run(folder, args, down, print)
    rows = [
        [
            name, f"{r['deliveries']}/{r['expected']}", "yes" if r["all_arrived"] else "NO",
            r["repeats"], r["tries"], r["seconds"], r["per_second"], r["p50_ms"], r["p99_ms"],
            r["max_s"],
        ]
        for name, r in results.items()
    ]  # fmt: skip
    print_table(
        "Notification fan-out (delay: commit to first arrival)",
        ["run", "delivered", "all arrived", "repeats", "tries", "seconds", "deliveries/s",
         "p50 ms", "p99 ms", "max s"],
        rows,
    )  # fmt: skip
    base, hit = results.values()
    print(
        "\nratios, one down / baseline: "
        f"deliveries/s {hit['per_second'] / base['per_second']:.2f}, "
        f"p50 {hit['p50_ms'] / base['p50_ms']:.2f}, p99 {hit['p99_ms'] / base['p99_ms']:.2f}"
    )


if __name__ == "__main__":
    main()
