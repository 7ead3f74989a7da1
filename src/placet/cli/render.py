"""Terminal rendering. Model output is untrusted: it is cleaned before it is shown."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from placet.domain import examples, jsontext, supervision
from placet.domain.deliveries import DeliveryRecord
from placet.domain.diffs import unified_diff
from placet.domain.executions import UNFINISHED_ADVICE, Execution, execution_of
from placet.domain.holds import Hold, hold_of
from placet.domain.models import Decision, Draft, Task, TaskDetail, TaskStatus
from placet.domain.notifications import NotificationRecord
from placet.domain.quorum import Tally
from placet.domain.supervision import HIGH_RISK

# markup=False: a message with brackets in it (a path, a URL, "[a]pprove") is printed
# as it is; styling is always an explicit Text.
out = Console(highlight=False, markup=False)
err = Console(stderr=True, highlight=False, markup=False)
# Piped or logged output has no width to wrap to: Rich would assume 80 columns and
# split ids and commands across lines. A terminal keeps Rich's word wrapping.
for _console in (out, err):
    _console.soft_wrap = not _console.is_terminal

# ESC-introduced sequences (CSI, OSC, and two-character escapes), then any other
# control character but newline and tab: enough to stop a model's output from
# moving the cursor, retitling the window or hiding text in the terminal.
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

STATUS_STYLE = {
    "queued": "cyan",
    "drafting": "blue",
    "awaiting_review": "bold yellow",
    "approved": "green",
    "rejected": "red",
    "failed": "bold red",
    "cancelled": "dim",
    "expired": "dim",
}


def safe(text: str) -> str:
    """Text with terminal escape sequences and control characters removed."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def plain(text: str, style: str = "") -> Text:
    """Untrusted text as a Rich Text: no markup is interpreted."""
    return Text(safe(text), style=style)


def status_text(task: Task) -> Text:
    """The task's status, coloured."""
    return Text(task.status.value, style=STATUS_STYLE.get(task.status.value, ""))


def _status_and_holder(task: Task) -> Text:
    """The status, the supervisor's risk when it read the draft, and who is reviewing it."""
    text = status_text(task)
    if task.risk is not None and task.status is TaskStatus.AWAITING_REVIEW:
        text.append(f" r{task.risk}", style="red" if task.risk >= HIGH_RISK else "dim")
    hold = hold_of(task, time.time())
    if hold is not None:
        text.append(f" ({safe(hold.holder)})", style="cyan")
    return text


def attempts(count: int) -> str:
    """``1 attempt``, ``2 attempts``."""
    return f"{count} attempt{'' if count == 1 else 's'}"


def when(timestamp: float) -> str:
    """A local timestamp to the second."""
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def age(timestamp: float) -> str:
    """How long ago, roughly."""
    seconds = max(0.0, time.time() - timestamp)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def input_summary(task: Task, width: int = 40) -> str:
    """The task input on one short line."""
    line = ", ".join(f"{key}={jsontext.readable(value)}" for key, value in task.input.items())
    line = safe(line).replace("\n", " ")
    return line if len(line) <= width else line[: width - 1] + "…"


_UNLIMITED_WIDTH = 10_000
_PROGRESS_FROM = 200  # tasks: below this the work is over before a bar is worth drawing


@contextmanager
def progress(label: str, total: int) -> Iterator[Callable[[], None]]:
    """A bar on stderr for work over ``total`` items, advanced by the function it yields.

    Only on a terminal (and only for long work): piped or logged output stays clean.
    """
    if not err.is_terminal or total < _PROGRESS_FROM:
        yield lambda: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        job = bar.add_task(label, total=total)
        yield lambda: bar.advance(job)


def print_table(table: Table) -> None:
    """A table on stdout: fitted to a terminal; whole, never cut, when piped or logged.

    With no terminal Rich would fit the table to an assumed 80 columns,
    shortening values and dropping whole columns from what a script greps.
    """
    if out.is_terminal:
        out.print(table)
    else:
        Console(highlight=False, markup=False, width=_UNLIMITED_WIDTH).print(table)


def task_table(tasks: list[Task]) -> Table:
    """The task list: narrow enough for an 80-column terminal; whole when piped."""
    fit = out.is_terminal
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("id", no_wrap=True, min_width=26)  # ids are copied: never cut them
    table.add_column("status", no_wrap=True, min_width=15)
    table.add_column("kind", no_wrap=True, overflow="ellipsis", max_width=16 if fit else None)
    table.add_column("draft", no_wrap=True, min_width=5)
    table.add_column("age", no_wrap=True)
    table.add_column("input", no_wrap=True, overflow="ellipsis", ratio=1 if fit else None)
    for task in tasks:
        table.add_row(
            task.id,
            _status_and_holder(task),
            plain(task.kind),
            f"{task.attempt}/{task.max_attempts}",
            age(task.created_at),
            plain(input_summary(task)),
        )
    return table


def print_boxed(console: Console, panel: Panel) -> None:
    """A box of text, wrapped inside its box also when piped.

    Piped output is soft-wrapped (nothing is wrapped, see above), which inside
    a box would crop every line at the box's edge: the text would be lost.
    """
    console.print(panel, soft_wrap=False)


def draft_panel(draft: Draft, title: str | None = None) -> Panel:
    """One draft, in a box."""
    heading = title or f"draft {draft.attempt} · {draft_source(draft)}"
    return Panel(plain(draft.output), title=plain(heading), title_align="left")


def draft_source(draft: Draft) -> str:
    """Who wrote a draft: the provider, and the seed it sampled with when it had one."""
    return draft.provider if draft.seed is None else f"{draft.provider} · seed {draft.seed}"


def diff_text(diff: str) -> Text:
    """A unified diff, coloured by line."""
    text = Text()
    for line in safe(diff).splitlines():
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        text.append(line + "\n", style=style)
    return text


def decision_line(decision: Decision) -> Text:
    """One decision: who, when, what and why."""
    line = Text(f"{when(decision.created_at)}  ")
    line.append(decision.kind.value, style="bold")
    line.append(f" by {safe(decision.actor)} ({safe(decision.role)})")
    why = decision.feedback or decision.reason
    if why:
        line.append(f": {safe(why)}")
    return line


def show_detail(
    detail: TaskDetail,
    approvals: Tally | None = None,
    timers: str | None = None,
    hold: Hold | None = None,
) -> None:
    """Everything about one task, for ``placet show`` (its quorum's count, timers, hold)."""
    task = detail.task
    header = Text(f"{task.id}  ")
    header.append(plain(task.kind, "bold"))
    header.append("  ")
    header.append(status_text(task))
    header.append(f"  draft {task.attempt}/{task.max_attempts}  by {safe(task.requester)}")
    out.print(header)
    out.print(Text(f"created {when(task.created_at)}, updated {when(task.updated_at)}", "dim"))
    if approvals is not None:
        out.print(plain(approvals.shown(), "bold yellow"))
    if timers is not None:
        out.print(plain(f"timers: {timers}", "yellow"))
    if hold is not None:
        out.print(plain(hold.shown(time.time()), "cyan"))
    out.print(Text("input", "bold"))
    for key, value in task.input.items():
        out.print(plain(f"  {key}: {jsontext.readable(value)}"))
    _show_drafts(detail)
    _show_examples(detail)
    _show_reading(detail)
    if task.final_output is not None:
        print_boxed(out, Panel(plain(task.final_output), title="final text", title_align="left"))
    if detail.decisions:
        out.print(Text("decisions", "bold"))
        for decision in detail.decisions:
            out.print(Text("  ").append(decision_line(decision)))
            if decision.diff:
                out.print(diff_text(decision.diff))
    run = execution_of(detail.events)
    if run is not None:
        out.print(Text("execution", "bold"))
        out.print(Text("  ").append(execution_line(run)))


def _show_examples(detail: TaskDetail) -> None:
    """The approved tasks the current draft was shown as examples; an approved task's mark."""
    current = detail.current_draft
    used = examples.used_examples(detail.events, current.id) if current is not None else ()
    if used:
        out.print(plain(f"made with examples: {', '.join(used)}"))
    copies = examples.copied_example(detail.events, current.id) if current is not None else None
    if copies is not None:
        out.print(plain(copies.said(), "yellow"))
    mark = examples.mark_of(detail.events)
    if mark is not None and mark.excluded and detail.task.status is TaskStatus.APPROVED:
        said = f"not an example (marked by {mark.by}, {when(mark.at)}; placet example --again)"
        out.print(plain(said, "yellow"))


def _show_reading(detail: TaskDetail) -> None:
    """The supervisor's reading of the current draft: risk, and each finding with its place."""
    reading = supervision.reading_for(detail.events, detail.task.current_draft_id)
    if reading is None:
        return
    if reading.unavailable is not None:
        out.print(plain(f"supervisor: unavailable ({reading.unavailable})", "yellow"))
        return
    found = len(reading.flags) + reading.dropped
    heading = f"supervisor: risk {reading.risk}/100, {found} finding{'s' if found != 1 else ''}"
    out.print(plain(heading, "bold red" if reading.risk >= HIGH_RISK else "bold"))
    for flag in reading.flags:
        place = "draft" if flag.field is None else f"input {flag.field}"
        line = f"  {flag.type} in the {place} at {flag.start}-{flag.end}: {flag.why}"
        out.print(plain(line))
    if reading.model is not None:
        _show_checks(reading.model)


def _show_checks(model: supervision.ModelReading) -> None:
    """The model's answer to each check: pass or fail, and the sentence that shows it."""
    if model.unavailable is not None:
        said = f"  checks: could not be made by {model.model} ({model.unavailable})"
        out.print(plain(said, "yellow"))
        return
    failed = len(model.failed())
    out.print(plain(f"  checks by {model.model}: {failed} of {len(model.checks)} failed"))
    for result in model.checks:
        verdict = "pass" if result.passed else "FAIL"
        evidence = f': "{result.evidence}"' if result.evidence else ""
        out.print(plain(f"    {verdict} {result.check}{evidence}", "" if result.passed else "red"))
    if model.summary:
        out.print(plain(f"  summary: {model.summary}"))


def execution_line(run: Execution) -> Text:
    """How an approved call's one run went, for ``placet show``."""
    line = Text(f"started {when(run.started_at)} by {safe(run.started_by)}: ")
    if run.finished_at is None:  # run.unfinished, spelt out so mypy narrows finished_at
        line.append("no outcome recorded", "bold yellow").append(f". {UNFINISHED_ADVICE}")
    elif run.ok:
        line.append("ran", "green").append(f", done {when(run.finished_at)}")
    else:
        line.append("failed", "bold red").append(f" {when(run.finished_at)}: ")
        line.append(plain(run.error or "", "red"))
    return line


def _show_drafts(detail: TaskDetail) -> None:
    current = detail.current_draft
    previous: Draft | None = None
    for draft in detail.drafts:
        if draft is not current:
            out.print(Text(f"earlier draft {draft.attempt}", "bold dim"))
            if previous is not None:
                before, after = f"draft {previous.attempt}", f"draft {draft.attempt}"
                out.print(diff_text(unified_diff(previous.output, draft.output, before, after)))
            else:
                out.print(plain(draft.output, "dim"))
        previous = draft
    if current is not None:
        if len(detail.drafts) > 1:
            earlier = detail.drafts[-2]
            names = (f"draft {earlier.attempt}", f"draft {current.attempt}")
            out.print(Text(f"changes from draft {earlier.attempt}", "bold"))
            out.print(diff_text(unified_diff(earlier.output, current.output, *names)))
        heading = f"current draft {current.attempt} · {draft_source(current)}"
        print_boxed(out, draft_panel(current, heading))


_DELIVERY_STYLES = {"delivered": "green", "pending": "yellow", "failed": "bold red"}


def show_deliveries(records: list[DeliveryRecord]) -> None:
    """How the outcome handlers fared with the task's decision, for ``placet show``."""
    if not records:
        return
    out.print(Text("handlers", "bold"))
    for record in records:
        line = Text("  ").append(plain(record.handler, "bold")).append("  ")
        line.append(record.status.value, _DELIVERY_STYLES.get(record.status.value, ""))
        line.append(f"  {attempts(record.attempts)}")
        if record.status.value == "pending" and record.attempts:
            line.append(f", next try {when(record.next_try_at)}")
        if record.last_error:
            line.append(": ").append(plain(record.last_error, "red"))
        out.print(line)


def show_notifications(records: list[NotificationRecord]) -> None:
    """What the task's channels were told and whether it got there, for ``placet show``."""
    if not records:
        return
    out.print(Text("notifications", "bold"))
    for record in records:
        line = Text("  ").append(plain(record.channel, "bold")).append(f" ({record.recipient})  ")
        line.append(record.event).append("  ")
        line.append(record.status.value, _DELIVERY_STYLES.get(record.status.value, ""))
        tries = "1 try" if record.attempts == 1 else f"{record.attempts} tries"
        line.append(f"  {tries}  {record.webhook_id}")
        if record.status.value == "pending" and record.attempts:
            line.append(f", next try {when(record.next_try_at)}")
        if record.last_error:
            line.append(": ").append(plain(record.last_error, "red"))
        out.print(line)
