"""Dataset rows, pure: which task gives which rows, in whose format, and what is dropped."""

from __future__ import annotations

import json
from typing import Any

import pytest

from placet.domain.datasets import (
    APPROVED_BEFORE,
    DECIDED_BEFORE,
    DUPLICATE,
    NO_PROMPT,
    NOT_APPROVED,
    NOTHING_TO_PAIR,
    SAME_TEXT,
    UNDECIDED,
    Dataset,
    DatasetQuery,
    RowFormat,
    Tally,
    feedback_rows,
    iso_time,
    jsonl_line,
    parse_since,
    preference_row,
    preference_rows,
    sft_row,
    sft_rows,
)
from placet.domain.models import (
    Decision,
    DecisionKind,
    Draft,
    Event,
    TaskDetail,
    TaskStatus,
    Usage,
)
from placet.errors import InvalidInputError
from tests.unit.records import awaiting_task

SYSTEM = {"role": "system", "content": "You write replies."}
ASK = {"role": "user", "content": "Reply to Maya."}
FIRST = [SYSTEM, ASK]
DAY = 86_400.0


def draft(number: int, output: str, messages: list[dict[str, str]] | None = None) -> Draft:
    if messages is None:
        messages = FIRST
    return Draft(
        id=f"d{number}",
        task_id="t1",
        attempt=number,
        provider="fake:echo",
        model="local:smollm2",
        messages=messages,
        output=output,
        usage=Usage(),
        latency_ms=1.0,
        created_at=float(number),
    )


def decision(number: int, kind: DecisionKind, at: float = 10.0, **fields: Any) -> Decision:
    return Decision(
        id=f"x{number}",
        task_id="t1",
        draft_id=f"d{number}",
        kind=kind,
        actor="ana",
        created_at=at,
        **fields,
    )


def task_detail(
    drafts: list[Draft],
    decisions: list[Decision],
    status: TaskStatus = TaskStatus.APPROVED,
    final: str | None = None,
    events: list[Event] | None = None,
) -> TaskDetail:
    task = awaiting_task(
        status=status,
        final_output=final,
        current_draft_id=drafts[-1].id if drafts else None,
        input={"customer": "Maya"},
    )
    return TaskDetail(task, drafts, decisions, events or [])


def revised_then_edited() -> TaskDetail:
    """Draft 1 sent back with feedback, draft 2 approved with an edit."""
    second = [*FIRST, {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "More"}]
    return task_detail(
        [draft(1, "Hi."), draft(2, "Hello Maya.", second)],
        [
            decision(1, DecisionKind.REVISE, at=5.0, feedback="More"),
            decision(2, DecisionKind.EDIT, text="Hello Maya, thanks.", diff="-a\n+b\n"),
        ],
        final="Hello Maya, thanks.",
    )


def query(dataset: Dataset, **fields: Any) -> DatasetQuery:
    return DatasetQuery(dataset, "reply", **fields)


def test_an_openai_sft_row_is_the_prompt_then_the_approved_text_trained_alone() -> None:
    example = [
        {"role": "user", "content": "Reply to Ravi."},
        {"role": "assistant", "content": "Hi"},
    ]
    row = sft_row([SYSTEM, *example, ASK], "Hello Maya.", RowFormat.OPENAI)
    assert row == {
        "messages": [
            SYSTEM,
            example[0],
            {"role": "assistant", "content": "Hi", "weight": 0},  # in the prompt: not learned
            ASK,
            {"role": "assistant", "content": "Hello Maya.", "weight": 1},
        ]
    }


def test_a_trl_sft_row_is_a_conversational_prompt_and_completion() -> None:
    row = sft_row(FIRST, "Hello Maya.", RowFormat.TRL)
    assert row == {"prompt": FIRST, "completion": [{"role": "assistant", "content": "Hello Maya."}]}


def test_preference_rows_in_openai_and_trl_formats() -> None:
    said = [{"role": "assistant", "content": "Good"}], [{"role": "assistant", "content": "Bad"}]
    assert preference_row(FIRST, "Good", "Bad", RowFormat.OPENAI) == {
        "input": {"messages": FIRST},
        "preferred_output": said[0],
        "non_preferred_output": said[1],
    }
    assert preference_row(FIRST, "Good", "Bad", RowFormat.TRL) == {
        "prompt": FIRST,
        "chosen": said[0],
        "rejected": said[1],
    }


def test_the_sft_row_of_an_edited_task_is_its_approved_drafts_prompt_and_the_edit() -> None:
    detail = revised_then_edited()
    tally = Tally(Dataset.SFT)
    (row,) = sft_rows(detail, query(Dataset.SFT, row_format=RowFormat.TRL), tally)
    assert row["prompt"] == detail.drafts[1].messages  # the exact messages draft 2 was made with
    assert row["completion"] == [{"role": "assistant", "content": "Hello Maya, thanks."}]


def test_a_revised_then_edited_task_gives_a_pair_for_each_draft_people_sent_back() -> None:
    detail = revised_then_edited()
    tally = Tally(Dataset.PREFERENCES)
    rows = preference_rows(detail, query(Dataset.PREFERENCES, row_format=RowFormat.TRL), tally)
    assert [(r["prompt"], r["rejected"][0]["content"]) for r in rows] == [
        (FIRST, "Hi."),  # the revised draft, with the prompt it was made with
        (detail.drafts[1].messages, "Hello Maya."),  # the draft as written, before the edit
    ]
    assert {r["chosen"][0]["content"] for r in rows} == {"Hello Maya, thanks."}
    assert tally.written == 0 and not any(tally.dropped.values())


def test_a_task_approved_as_first_drafted_has_nothing_to_pair() -> None:
    detail = task_detail([draft(1, "Hi.")], [decision(1, DecisionKind.APPROVE)], final="Hi.")
    tally = Tally(Dataset.PREFERENCES)
    assert preference_rows(detail, query(Dataset.PREFERENCES), tally) == []
    assert tally.dropped[NOTHING_TO_PAIR] == 1
    (row,) = sft_rows(detail, query(Dataset.SFT), Tally(Dataset.SFT))
    assert row["messages"][-1] == {"role": "assistant", "content": "Hi.", "weight": 1}


def test_pairs_without_a_prompt_or_with_the_approved_text_are_dropped() -> None:
    detail = task_detail(
        [draft(1, "Hi.", messages=[]), draft(2, "Same."), draft(3, "Same.")],
        [
            decision(1, DecisionKind.REVISE, feedback="x"),
            decision(2, DecisionKind.REVISE, feedback="y"),
            decision(3, DecisionKind.APPROVE),
        ],
        final="Same.",
    )
    tally = Tally(Dataset.PREFERENCES)
    assert preference_rows(detail, query(Dataset.PREFERENCES), tally) == []
    assert (tally.dropped[NO_PROMPT], tally.dropped[SAME_TEXT]) == (1, 1)


def test_a_draft_the_caller_wrote_gives_no_sft_row() -> None:
    approved = [decision(1, DecisionKind.APPROVE)]
    detail = task_detail([draft(1, "Hi.", messages=[])], approved, final="Hi.")
    tally = Tally(Dataset.SFT)
    assert sft_rows(detail, query(Dataset.SFT), tally) == []
    assert tally.dropped[NO_PROMPT] == 1


def test_rejected_tasks_give_no_training_rows() -> None:
    detail = task_detail(
        [draft(1, "Hi.")],
        [decision(1, DecisionKind.REJECT, reason="Wrong customer")],
        status=TaskStatus.REJECTED,
    )
    for dataset, rows_of in ((Dataset.SFT, sft_rows), (Dataset.PREFERENCES, preference_rows)):
        tally = Tally(dataset)
        assert rows_of(detail, query(dataset), tally) == []
        assert tally.dropped[NOT_APPROVED] == 1


def test_since_is_the_time_of_approval_for_training_rows_and_of_each_decision_for_feedback() -> (
    None
):
    detail = revised_then_edited()  # revised at 5, approved at 10
    tally = Tally(Dataset.SFT)
    assert sft_rows(detail, query(Dataset.SFT, since=11.0), tally) == []
    assert tally.dropped[APPROVED_BEFORE] == 1
    assert sft_rows(detail, query(Dataset.SFT, since=10.0), Tally(Dataset.SFT))
    tally = Tally(Dataset.FEEDBACK)
    rows = feedback_rows(detail, query(Dataset.FEEDBACK, since=6.0), tally)
    assert [row["decision"] for row in rows] == ["edit"]
    assert tally.dropped[DECIDED_BEFORE] == 1


def test_a_feedback_row_holds_the_decision_its_draft_and_who_decided() -> None:
    event = Event("t1", 3, "edit", "ana", 10.0, {"decision_id": "x2", "channel": "web"})
    detail = revised_then_edited()
    detail = TaskDetail(detail.task, detail.drafts, detail.decisions, [event])
    rows = feedback_rows(detail, query(Dataset.FEEDBACK), Tally(Dataset.FEEDBACK))
    assert rows[0]["feedback"] == "More" and rows[0]["draft"] == "Hi." and rows[0]["attempt"] == 1
    assert rows[1] == {
        "task_id": "t1",
        "kind": "email",
        "input": {"customer": "Maya"},
        "requester": "rita",
        "task_status": "approved",
        "final_output": "Hello Maya, thanks.",
        "draft_id": "d2",
        "attempt": 2,
        "draft": "Hello Maya.",
        "provider": "fake:echo",
        "model": "local:smollm2",
        "decision_id": "x2",
        "decision": "edit",
        "reviewer": "ana",
        "role": "reviewer",
        "channel": "web",
        "decided_at": "1970-01-01T00:00:10.000+00:00",
        "feedback": None,
        "reason": None,
        "edited_text": "Hello Maya, thanks.",
        "diff": "-a\n+b\n",
    }


def test_a_task_with_no_decision_gives_no_feedback_rows() -> None:
    detail = task_detail([draft(1, "Hi.")], [], status=TaskStatus.AWAITING_REVIEW)
    tally = Tally(Dataset.FEEDBACK)
    assert feedback_rows(detail, query(Dataset.FEEDBACK), tally) == []
    assert tally.dropped[UNDECIDED] == 1


def test_a_line_is_kept_once_and_the_summary_names_every_filter() -> None:
    tally = Tally(Dataset.SFT)
    assert tally.keep("a") and not tally.keep("a") and tally.keep("b")
    tally.drop(NOT_APPROVED, 3)
    assert tally.written == 2 and tally.dropped[DUPLICATE] == 1
    assert tally.summary() == (
        "wrote 2 rows; dropped 3 tasks not approved, 0 tasks approved before --since, "
        "0 drafts without a prompt (written by the caller, not a model), 1 duplicate row"
    )


def test_a_line_has_sorted_keys_no_spaces_and_text_as_itself() -> None:
    line = jsonl_line({"b": "Grüße\nwieder", "a": [{"role": "user", "content": "x"}]})
    assert line == '{"a":[{"content":"x","role":"user"}],"b":"Grüße\\nwieder"}'
    assert json.loads(line)["b"] == "Grüße\nwieder"


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("2025-03-01", 1_740_787_200.0),
        ("2025-03-01T00:00:00Z", 1_740_787_200.0),
        ("2025-03-01T00:00", 1_740_787_200.0),  # no offset: UTC
        ("2025-03-01T02:00:00+02:00", 1_740_787_200.0),
        (" 2025-03-01T00:00:01.5 ", 1_740_787_201.5),
    ],
)
def test_since_takes_a_date_or_an_iso_time(given: str, seconds: float) -> None:
    assert parse_since(given) == seconds


@pytest.mark.parametrize("given", ["yesterday", "2025-13-01", "01/03/2025", "", "2025-03-01T25:00"])
def test_a_bad_since_is_refused_saying_what_it_takes(given: str) -> None:
    with pytest.raises(InvalidInputError, match=r"--since takes a date \(2025-03-01\)"):
        parse_since(given)


def test_times_are_iso_in_utc_to_the_millisecond() -> None:
    assert iso_time(DAY + 0.25) == "1970-01-02T00:00:00.250+00:00"
