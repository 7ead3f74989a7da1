"""What finding examples from approved work costs a draft, with many approved tasks (issue 18).

A kind with ``learn = { examples = N }`` searches its approved tasks for those most like
each new one (store/examples.py) before every draft. This loads ``--tasks`` approved tasks
(three in four of the searched kind, each input twelve words of a small vocabulary and one
rarer word) straight into a fresh database, with their example rows, and times:

* the first search in a process, which first gives any approved task without a row one
  (``Store.index_examples``; here every task has one, so this is the cost of looking);
* a search by many common words, by one rare word and a common one, and by words no input
  has (the latest approved then fill up), each the median of ``--runs``, through the store.

On SQLite (FTS5) and, when a server answers, PostgreSQL (a stored tsvector, GIN).

    .venv/bin/python bench/examples_search.py [--tasks 100000] [--runs 9] [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import time

import pgcommon
import sqlalchemy as sa
from common import machine_info, median, print_table, scratch_dir

from placet.domain.examples import example_text, search_terms
from placet.domain.ids import new_id
from placet.store import schema
from placet.store.sql import SqlStore

KIND = "reply"
WORDS = (  # noqa: SIM905 - a vocabulary reads better as a sentence
    "the a my order kettle parcel refund broken late password reset account invoice delivery "
    "tracking number shop open sunday price discount coupon cancel subscription email address "
    "change name phone screen battery charger cable warranty repair"
).split()
QUERIES = {
    "many common words": "My order is late and the parcel tracking number does not work, "
    "refund please",
    "a rare word and a common one": "item4242 battery",
    "no word any input has": "zyxwv qwertz",
}
BATCH = 5000


def rows(count: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Approved tasks and their example rows, as a store would have written them."""
    random.seed(7)
    tasks, examples = [], []
    for n in range(count):
        question = " ".join(random.choice(WORDS) for _ in range(12)) + f" item{n % 5000}"
        task_id, kind = new_id(), KIND if n % 4 else "other"
        tasks.append(
            {
                "id": task_id,
                "kind": kind,
                "input": json.dumps({"question": question}),
                "requester": "bench",
                "status": "approved",
                "version": 4,
                "attempt": 1,
                "max_attempts": 3,
                "created_at": float(n),
                "updated_at": float(n),
                "head_hash": "0" * 64,
                "event_count": 4,
                "final_output": f"Answered: {question}",
            }
        )
        body = example_text({"question": question})
        examples.append({"task_id": task_id, "kind": kind, "excluded": False, "body": body})
    return tasks, examples


def load(url: str, count: int) -> float:
    """Fill the database; seconds taken."""
    SqlStore(url).close()  # migrated
    tasks, examples = rows(count)
    engine = sa.create_engine(url)
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            for start in range(0, count, BATCH):
                conn.execute(sa.insert(schema.tasks), tasks[start : start + BATCH])
                conn.execute(sa.insert(schema.examples), examples[start : start + BATCH])
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("ANALYZE tasks")
                conn.exec_driver_sql("ANALYZE examples")
    finally:
        engine.dispose()
    return time.perf_counter() - started


def measure(url: str, label: str, count: int, runs: int) -> list[list[object]]:
    """One row per measurement, in milliseconds."""
    loaded = load(url, count)
    store = SqlStore(url)
    try:
        started = time.perf_counter()
        store.index_examples(KIND)
        first = (time.perf_counter() - started) * 1000
        found = [[label, "first search's look for rows missing", f"{first:.1f}", "", ""]]
        for name, text in QUERIES.items():
            terms = search_terms({"question": text})
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                got = store.similar_examples(KIND, terms, 3, "none")
                times.append((time.perf_counter() - started) * 1000)
            found.append([label, name, f"{median(times):.1f}", len(terms), len(got)])
    finally:
        store.close()
    print(f"({label}: {count:,} tasks loaded in {loaded:.1f} s)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="approved tasks loaded")
    parser.add_argument("--runs", type=int, default=9, help="searches timed per query")
    parser.add_argument("--quick", action="store_true", help="10,000 tasks, 3 runs")
    args = parser.parse_args()
    count, runs = (10_000, 3) if args.quick else (args.tasks, args.runs)
    print(f"# examples_search  ({machine_info()})")
    table: list[list[object]] = []
    with scratch_dir("placet-examples-") as folder:
        table += measure(f"sqlite:///{folder / 'placet.db'}", "SQLite", count, runs)
    problem = pgcommon.unavailable()
    if problem is None:
        with pgcommon.fresh_schema("examples") as url:
            table += measure(url, "PostgreSQL", count, runs)
    else:
        print(f"(PostgreSQL skipped: {problem})")
    print_table(
        f"Finding 3 examples among {count * 3 // 4:,} approved tasks of the kind "
        f"({count:,} in all), median of {runs}",
        ["database", "search", "ms", "terms", "found"],
        table,
    )


if __name__ == "__main__":
    main()
