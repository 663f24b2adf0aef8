"""The one guidance-action vocabulary (genomics.pgx.actions)."""

from __future__ import annotations

import pytest

from genomics.pgx.actions import ACTION_COLOURS, ACTION_DESCRIPTIONS, ACTION_LABELS, ACTIONS, worst_action


def test_every_action_has_colour_label_and_description():
    assert set(ACTIONS) == set(ACTION_COLOURS) == set(ACTION_LABELS) == set(ACTION_DESCRIPTIONS)


def test_gap_is_amber_and_between_standard_and_stated_actions():
    assert ACTION_COLOURS["not_assessed"] == "amber"
    assert ACTIONS.index("standard") < ACTIONS.index("not_assessed") < ACTIONS.index("caution")
    assert worst_action([]) == "no_guidance"
    assert worst_action(["no_guidance", "standard", "not_assessed"]) == "not_assessed"
    assert worst_action(["not_assessed", "avoid"]) == "avoid"


def test_unknown_word_is_refused():
    with pytest.raises(KeyError):
        worst_action(["green"])
