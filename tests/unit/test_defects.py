"""Telling which candidate first draft has the fewest plain defects."""

from __future__ import annotations

import pytest

from placet.domain import choice, defects

POLICY = "Staff may work remotely up to three days a week with their manager's approval."


@pytest.mark.parametrize(
    ("candidates", "chosen"),
    [
        (["Hi [Your Name], welcome!", "Hi Ana, welcome!"], 1),
        (["Here is the email: Hi Ana.", "Hi Ana."], 1),
        # A quotation the policy does not hold loses to one it does.
        (
            [
                'The policy says: "Staff must work in the office every day." So no.',
                'The policy says: "Staff may work remotely up to three days a week." So yes.',
            ],
            1,
        ),
        # A grounded quotation beats no quotation; no quotation beats a made-up one.
        (["Yes, you may.", 'It says "up to three days a week with their manager\'s approval".'], 1),
        (['It says "remote work is never allowed for anyone".', "Yes, you may."], 1),
        (["", "Hi."], 1),
        (["Hi Ana.", "Hi Ben."], 0),  # nothing tells them apart: the first
        (["See [the guide](https://example.com).", "See the guide [here]."], 0),  # a link
    ],
)
def test_the_candidate_with_fewest_defects_is_chosen(candidates: list[str], chosen: int) -> None:
    assert choice.best(candidates, choice.Reading(POLICY)) == chosen


def test_quotations_are_looked_up_in_every_input_value_any_case_and_punctuation() -> None:
    given = defects.given_text({"policy": POLICY, "question": "Can I work from home?"})
    draft = 'The policy says "STAFF MAY WORK remotely, up to three days a week".'
    assert defects.score(draft, given) == 1.0
