"""The review queue at a million tasks: server time of the queue pages and the API's task list.

A SQLite database of 1,000,000 tasks (most final, ~10,000 awaiting review
across four kinds) is built once with raw ``sqlite3`` on Placet's own schema
and cached under ``.bench/``, keyed by a hash of that schema and of the rows
this file writes, so reruns start in seconds. The app is the real one
(``create_app``: middleware, session sign-in, CSRF, templates), driven
in-process by Starlette's ``TestClient`` and signed in as a reviewer. Server
time is measured by a clock wrapped around the app (first byte of the
request to the last byte of the response); the endpoints take turns, request
by request, so noise falls on all of them alike.

Beside the pages, in the same run: the store calls the pages make, timed
alone (the floor), and the queue page with the shared counts turned off
(every request pays the GROUP BY), the way it was.

    .venv/bin/python bench/web_queue.py [--quick] [--requests N] [--rebuild]

The cached database takes ~0.5 GB and 1-2 minutes to build; ``--tasks`` makes
a smaller one (its own cache file). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from common import ROOT, machine_info, median, percentile, print_table, scratch_dir, verdict

BUILD_VERSION = 1  # bump when the rows written here change
CACHE_DIR = ROOT / ".bench"
TASKS = 1_000_000
AWAITING = 10_000
ENGINE_MADE = 200  # awaiting tasks drafted through the engine: real drafts, events, chains
REVIEWER, OLD_REQUESTER = "rita", "olga"
PASSWORD = "bench password 1"
SECRET_KEY = "bench-secret-key"
TARGET_P95_MS = 50.0
KINDS = {
    "onboarding_email": "Write a short onboarding email to {name}.",
    "policy_answer": "Answer {name}'s question using the leave policy.",
    "moderation": "Decide whether {name}'s post breaks the community rules.",
    "refund_tool": "Propose the arguments of a refund for {name}'s order.",
}
# The mix of final states among tasks that are not awaiting review (weights).
FINAL_MIX = (("approved", 82), ("rejected", 12), ("cancelled", 3), ("expired", 2), ("failed", 1))
OUTPUT = (
    "Hello {name},\n\nWelcome aboard! This note covers your first week: who to ask, "
    "where the handbook lives, and how to book time with your mentor. "
) * 3


def settings_for(url: str) -> Any:
    """Placet settings with the benchmark's four kinds."""
    from placet.config import Settings
    from placet.domain.models import TaskKind

    kinds = {
        name: TaskKind(name=name, template=template, system="You are careful and brief.")
        for name, template in KINDS.items()
    }
    return Settings(database_url=url, kinds=kinds)


# -- the cached database ------------------------------------------------------------------


def schema_key() -> str:
    """A short hash of Placet's schema (as its migrations make it) and of this file's rows."""
    from placet.store.sql import SqlStore

    with scratch_dir("placet-bench-schema-") as folder:
        store = SqlStore(f"sqlite:///{folder / 'schema.db'}")
        store.close()
        conn = sqlite3.connect(folder / "schema.db")
        try:
            rows = conn.execute(
                "SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name"
            ).fetchall()
        finally:
            conn.close()
    text = json.dumps([BUILD_VERSION, rows])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def database(tasks: int, rebuild: bool = False) -> Path:
    """The benchmark database for ``tasks`` tasks, built if it is not cached yet."""
    path = CACHE_DIR / f"web_queue-{tasks}-{schema_key()}.db"
    if path.exists() and not rebuild:
        print(f"(web_queue: using the cached {path.relative_to(ROOT)})")
        return path
    CACHE_DIR.mkdir(exist_ok=True)
    building = path.with_suffix(".building")
    for leftover in CACHE_DIR.glob(f"{building.name}*"):
        leftover.unlink()
    started = time.monotonic()
    _build(building, tasks, max(1, tasks * AWAITING // TASKS))
    building.rename(path)
    print(f"(web_queue: built {path.relative_to(ROOT)} in {time.monotonic() - started:.0f} s)")
    return path


def _build(path: Path, tasks: int, awaiting: int) -> None:
    from placet.engine import Engine
    from placet.engine.accounts import Accounts
    from placet.store.sql import SqlStore
    from placet.testing import FakeProvider

    url = f"sqlite:///{path}"
    settings = settings_for(url)
    store = SqlStore(url)  # the schema, by Placet's migrations
    try:
        accounts = Accounts(store.accounts())
        accounts.add_user(REVIEWER, PASSWORD, ["reviewer"])
        accounts.add_user(OLD_REQUESTER, PASSWORD, ["requester"])
    finally:
        store.close()
    bulk = tasks - min(ENGINE_MADE, awaiting)
    _bulk_rows(path, bulk, awaiting - min(ENGINE_MADE, awaiting))
    # The newest tasks go through the engine: real drafts, decisions-to-be and hash chains.
    store = SqlStore(url)
    try:
        provider = FakeProvider()
        engine = Engine(store, settings, provider_for=lambda _model: provider)
        for index in range(min(ENGINE_MADE, awaiting)):
            kind = list(KINDS)[index % len(KINDS)]
            task = engine.submit(kind, {"name": f"user{index}"}, f"user{index % 200}", claim_as="w")
            engine.draft(task, "w")
    finally:
        store.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _bulk_rows(path: Path, tasks: int, awaiting: int) -> None:
    from placet.store import schema

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        task_sql = _insert_sql(conn, schema.tasks)
        draft_sql = _insert_sql(conn, schema.drafts)
        conn.execute("BEGIN")
        drafts: list[tuple[Any, ...]] = []
        batch: list[tuple[Any, ...]] = []
        for row, draft in _task_rows(tasks, awaiting):
            batch.append(row)
            if draft is not None:
                drafts.append(draft)
            if len(batch) == 50_000:
                conn.executemany(task_sql, batch)
                batch.clear()
        conn.executemany(task_sql, batch)
        conn.executemany(draft_sql, drafts)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _insert_sql(conn: sqlite3.Connection, table: Any) -> str:
    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table.name})")]
    assert columns == list(table.c.keys()), f"{table.name}: the schema changed; bump BUILD_VERSION"
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )


def _task_rows(
    tasks: int, awaiting: int
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """(task row, draft row or None), oldest first, ids time-ordered like Placet's ULIDs."""
    from placet.domain.ids import new_id

    rng = random.Random(7)
    now = time.time() - 3600
    span = 365 * 86400.0
    # Most tasks awaiting review are recent; some have waited for months.
    recent = range(max(0, tasks - tasks // 50), tasks)
    chosen = set(rng.sample(recent, min(len(recent), awaiting * 7 // 10)))
    while len(chosen) < awaiting:
        chosen.add(rng.randrange(tasks))
    statuses = [status for status, _ in FINAL_MIX]
    weights = [weight for _, weight in FINAL_MIX]
    kinds = list(KINDS)
    digest = "0" * 64
    for index in range(tasks):
        created = now - span + span * index / tasks
        task_id = new_id(at=created)
        kind = kinds[rng.randrange(len(kinds)) if rng.random() < 0.7 else 0]
        # OLD_REQUESTER asked for a few things, long ago: their own list is all in the past.
        requester = OLD_REQUESTER if index < 10 else f"user{rng.randrange(200)}"
        draft_id = new_id(at=created + 2)
        name = f"customer {index}"
        if index in chosen:
            status, output, version = "awaiting_review", None, 3
        else:
            status = rng.choices(statuses, weights)[0]
            output = OUTPUT.format(name=name) if status == "approved" else None
            version = 4
        row = (
            task_id,
            kind,
            json.dumps({"name": name}, separators=(",", ":")),
            requester,
            status,
            version,
            1,
            3,
            created,
            created + (5 if status == "awaiting_review" else 600),
            digest,
            version,
            None,
            None if status in ("cancelled", "failed") else draft_id,
            output,
            None,
            None,
            None,
        )
        draft = None
        if status == "awaiting_review":
            messages = [
                {"role": "system", "content": "You are careful and brief."},
                {"role": "user", "content": KINDS[kind].format(name=name)},
            ]
            draft = (
                draft_id,
                task_id,
                1,
                "fake:echo",
                "fake",
                json.dumps(messages, separators=(",", ":")),
                OUTPUT.format(name=name),
                40,
                120,
                800.0,
                created + 2,
                None,
            )
        yield row, draft


# -- measuring ----------------------------------------------------------------------------


class ServerClock:
    """An ASGI wrapper that notes how long the app took for the last request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()

        async def timed(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = time.perf_counter() - started

        await self.app(scope, receive, timed)


@dataclass
class Endpoint:
    """One page or API call, and its server times in milliseconds."""

    name: str
    urls: list[str]
    target: bool = True  # held to the p95 target
    times: list[float] = field(default_factory=list)
    status: int = 0

    def url(self, index: int) -> str:
        """The URL for the index-th request (task pages rotate over their tasks)."""
        return self.urls[index % len(self.urls)]


def _ids(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        one = conn.execute
        total = one("SELECT max(rowid) FROM tasks").fetchone()[0]
        waiting = one("SELECT count(*) FROM tasks WHERE status='awaiting_review'").fetchone()[0]
        return {
            "total": total,
            "awaiting": waiting,
            "deep_all": one(
                "SELECT id FROM tasks ORDER BY id LIMIT 1 OFFSET ?", (total * 9 // 10,)
            ).fetchone()[0],
            "deep_newest": one(
                "SELECT id FROM tasks ORDER BY id LIMIT 1 OFFSET ?", (total // 20,)
            ).fetchone()[0],
            "deep_awaiting": one(
                "SELECT id FROM tasks WHERE status='awaiting_review' ORDER BY id LIMIT 1 OFFSET ?",
                (waiting * 9 // 10,),
            ).fetchone()[0],
            "engine_made": [
                r[0]
                for r in one(
                    "SELECT id FROM tasks WHERE status='awaiting_review' ORDER BY id DESC LIMIT 50"
                )
            ],
        }
    finally:
        conn.close()


def endpoints(ids: dict[str, Any]) -> list[Endpoint]:
    """What a reviewer's browser and an API client ask for."""
    from placet.web.api.schemas import encode_cursor

    deep_newest = encode_cursor(ids["deep_newest"])
    return [
        Endpoint("queue page /, first page (awaiting, oldest first)", ["/"]),
        Endpoint(
            "queue page, deep in the awaiting queue (cursor 90% in)",
            [f"/?after={ids['deep_awaiting']}"],
        ),
        Endpoint(
            "queue page, all statuses, deep (cursor 90% into 1M)",
            [f"/?status=all&after={ids['deep_all']}"],
        ),
        Endpoint("queue page, one kind, all statuses", ["/?status=all&kind=moderation"]),
        Endpoint("queue live fragment /queue/rows", ["/queue/rows"]),
        Endpoint("GET /api/v1/tasks (newest first)", ["/api/v1/tasks"]),
        Endpoint(
            "GET /api/v1/tasks?status=awaiting_review", ["/api/v1/tasks?status=awaiting_review"]
        ),
        Endpoint("GET /api/v1/tasks?cursor= (95% deep)", [f"/api/v1/tasks?cursor={deep_newest}"]),
        Endpoint("GET /api/v1/tasks?kind= (any status)", ["/api/v1/tasks?kind=moderation"]),
        Endpoint(
            "GET /api/v1/tasks?kind&status&cursor= (deep)",
            [f"/api/v1/tasks?kind=moderation&status=approved&cursor={deep_newest}"],
        ),
        Endpoint("task page /tasks/{id}", [f"/tasks/{task_id}" for task_id in ids["engine_made"]]),
    ]


@dataclass
class Run:
    """Everything one run measured."""

    ids: dict[str, Any]
    pages: list[Endpoint]
    floor: dict[str, list[float]]
    uncached: Endpoint
    requester: list[Endpoint]
    plans: dict[str, list[str]]


@contextlib.contextmanager
def app_client(path: Path) -> Iterator[tuple[Any, ServerClock, Any]]:
    """The real app over the database, a signed-in reviewer's client, and the server clock."""
    from starlette.responses import Response
    from starlette.testclient import TestClient

    from placet.engine import Engine
    from placet.engine.accounts import Accounts
    from placet.store.sql import SqlStore
    from placet.testing import FakeProvider
    from placet.web.app import AppOptions, create_app
    from placet.web.auth import SESSION_COOKIE

    url = f"sqlite:///{path}"
    settings = settings_for(url)
    store = SqlStore(url)
    provider = FakeProvider()
    engine = Engine(store, settings, provider_for=lambda _model: provider)
    accounts = Accounts(store.accounts())
    options = AppOptions(SECRET_KEY, run_worker=False, watch_folder=False)
    app = create_app(engine, accounts, options)
    clock = ServerClock(app)
    try:
        with TestClient(clock) as client:  # runs the lifespan: the broker watches commits
            response = Response()
            app.state.services.sessions.start(response, REVIEWER)
            cookie: SimpleCookie = SimpleCookie(response.headers["set-cookie"])
            client.cookies.set(SESSION_COOKIE, cookie[SESSION_COOKIE].value)
            yield client, clock, app.state.services
    finally:
        engine.close()
        store.close()


def measure(path: Path, requests: int, budget: float) -> Run:
    """Time every endpoint ``requests`` times, interleaved, within ``budget`` seconds."""
    from placet.web.counts import CountsCache

    ids = _ids(path)
    pages = endpoints(ids)
    with app_client(path) as (client, clock, services):
        for entry in pages:  # warm up: templates, statements, page cache
            for index in range(3):
                entry.status = client.get(entry.url(index)).status_code
        started = time.monotonic()
        for index in range(requests):
            if index >= 50 and time.monotonic() - started > budget:
                print(f"(web_queue: stopped after {index} rounds, over its {budget:.0f} s budget)")
                break
            for entry in pages if index % 2 else reversed(pages):
                response = client.get(entry.url(index))
                entry.status = response.status_code
                entry.times.append(clock.last * 1000)
        floor = _floor(services, ids, max(20, requests // 10))
        # The page as it was: every request counts the tasks itself.
        shared = services.count_cache
        services.count_cache = CountsCache(services.engine.store.count_by_status, 0.0, 0.0, 0.0)
        uncached = Endpoint("queue page /, counts not shared (as before)", ["/"], False)
        for _ in range(max(10, requests // 20)):
            uncached.status = client.get("/").status_code
            uncached.times.append(clock.last * 1000)
        services.count_cache = shared
    requester = [
        _requester_listing(path, "", "(own tasks, all old)"),
        # A status besides: SQLite walked every approved task for the requester's few.
        _requester_listing(path, "?status=approved", "(own, all old)"),
    ]
    return Run(ids, pages, floor, uncached, requester, _plans(path, ids))


def _floor(services: Any, ids: dict[str, Any], repeats: int) -> dict[str, list[float]]:
    """The store calls behind the pages, alone."""
    from placet.domain.models import TaskStatus
    from placet.domain.queries import TaskFilter

    store = services.engine.store
    awaiting = (TaskStatus.AWAITING_REVIEW,)
    calls = {
        "store.count_by_status() (GROUP BY kind, status)": store.count_by_status,
        "store.list_tasks(awaiting, 200, oldest first)": lambda: store.list_tasks(
            TaskFilter(statuses=awaiting, limit=200)
        ),
        "store.list_tasks(51, newest first, deep cursor)": lambda: store.list_tasks(
            TaskFilter(after_id=ids["deep_newest"], limit=51, newest_first=True)
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    for index in range(repeats):
        for name, call in calls.items():
            if index >= 10 and "count_by_status" in name:
                continue
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def _requester_listing(path: Path, query: str, label: str) -> Endpoint:
    """A requester listing their own tasks, which all lie far in the past."""
    from starlette.testclient import TestClient

    entry = Endpoint(f"GET /api/v1/tasks{query} as a requester {label}", [], False)
    with app_client(path) as (_client, clock, services):
        secret, _token = services.accounts.create_token(OLD_REQUESTER, "bench")
        client = TestClient(clock)
        client.headers["Authorization"] = f"Bearer {secret}"
        for _ in range(3):
            response = client.get(f"/api/v1/tasks{query}")
            entry.status = response.status_code
            entry.times.append(clock.last * 1000)
            assert 0 < len(response.json()["items"]) <= 10, response.text[:200]
            if sum(entry.times) > 5000:  # seconds a request: one or two tell the story
                break
        client.close()
    return entry


def _plans(path: Path, ids: dict[str, Any]) -> dict[str, list[str]]:
    """SQLite's plans for the queries behind the pages (the statements list_tasks builds)."""
    from sqlalchemy.dialects import sqlite

    from placet.domain.models import TaskStatus
    from placet.domain.queries import TaskFilter
    from placet.store.listing import list_query
    from placet.store.statements import compile_statement

    def store_query(task_filter: TaskFilter) -> tuple[str, Any]:
        sql = compile_statement(list_query(task_filter, status_under_kind=True), sqlite.dialect())
        return sql.text, sql.bind({})

    deep_awaiting = TaskFilter(
        statuses=(TaskStatus.AWAITING_REVIEW,), after_id=ids["deep_awaiting"], limit=200
    )
    kind_and_status = TaskFilter(
        statuses=(TaskStatus.APPROVED,),
        kinds=("moderation",),
        after_id=ids["deep_newest"],
        limit=51,
        newest_first=True,
    )
    queries = {
        "awaiting, oldest first": store_query(deep_awaiting),
        "all, newest first, cursor": store_query(
            TaskFilter(after_id=ids["deep_newest"], limit=51, newest_first=True)
        ),
        "kind+status, newest first, cursor": store_query(kind_and_status),
        "counts": ("SELECT kind, status, count(*) FROM tasks GROUP BY kind, status", ()),
        "a requester's own": (
            "SELECT * FROM tasks WHERE requester = ? ORDER BY id DESC LIMIT 51",
            (OLD_REQUESTER,),
        ),
    }
    conn = sqlite3.connect(path)
    try:
        return {
            name: [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            for name, (sql, params) in queries.items()
        }
    finally:
        conn.close()


# -- reporting ----------------------------------------------------------------------------


def report(run: Run) -> bool:
    """Print the tables; True when every targeted page's p95 is within the target."""
    ok = True
    rows = []
    for entry in [*run.pages, run.uncached, *run.requester]:
        p95 = percentile(entry.times, 95)
        met = p95 <= TARGET_P95_MS
        if entry.target:
            ok = ok and met and entry.status == 200
        rows.append(
            [
                entry.name,
                entry.status,
                len(entry.times),
                median(entry.times),
                p95,
                percentile(entry.times, 99),
                max(entry.times),
                verdict(met) if entry.target else "(info)",
            ]
        )
    print_table(
        f"Server time, ms, over {run.ids['total']:,} tasks "
        f"({run.ids['awaiting']:,} awaiting review); target p95 <= {TARGET_P95_MS:.0f} ms",
        ["request", "status", "n", "p50", "p95", "p99", "max", "p95 target"],
        rows,
    )
    first = median(run.pages[0].times)
    floor_rows = [[name, len(t), median(t), percentile(t, 95)] for name, t in run.floor.items()]
    floor_rows.append(
        ["queue page p50 / counts not shared p50", "", first / median(run.uncached.times), ""]
    )
    print_table("Beside it: the store calls alone, ms", ["call", "n", "p50", "p95"], floor_rows)
    print("\nQuery plans (EXPLAIN QUERY PLAN):")
    for name, plan in run.plans.items():
        print(f"  {name}: {' / '.join(plan)}")
    return ok


def run(tasks: int, requests: int, budget: float, rebuild: bool = False) -> bool:
    """Build or reuse the database, measure, report; True when the targets are met."""
    path = database(tasks, rebuild)
    return report(measure(path, requests, budget))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (the same database)")
    parser.add_argument("--requests", type=int, help="requests per endpoint (default 300)")
    parser.add_argument("--tasks", type=int, default=TASKS, help="tasks in the database")
    parser.add_argument("--budget", type=float, help="seconds of measuring, at most")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    args = parser.parse_args(argv)
    requests = args.requests or (60 if args.quick else 300)
    print(f"# web_queue  ({machine_info()})")
    run(args.tasks, requests, args.budget or (30 if args.quick else 180), args.rebuild)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
