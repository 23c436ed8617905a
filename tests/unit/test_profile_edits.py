"""Profile edits on a stored subscriber (model.profile), as SuprSend's `/event/` route makes them."""

from __future__ import annotations

import pytest
from clarion.dialects.suprsend_events import EventError, parse_item
from clarion.model.profile import MAX_LIST_ITEMS, ProfileEdit, ProfileEditError, apply_edit

SLACK = {"incoming_webhook": {"url": "https://hooks.slack.com/services/T/B/X"}}


def edit(*operations: dict[str, object]) -> ProfileEdit:
    item = parse_item({"distinct_id": "u", "$user_operations": list(operations)})
    assert isinstance(item, ProfileEdit)
    return item


def test_chat_identities_are_added_once_and_removed_by_value() -> None:
    added = apply_edit(
        {"subscriberId": "u"}, edit({"$append": {"$slack": SLACK}}, {"$append": {"$slack": SLACK}})
    )
    assert added["channels"] == [
        {"providerId": "slack", "credentials": {"webhookUrl": SLACK["incoming_webhook"]["url"]}}
    ]
    removed = apply_edit(added, edit({"$remove": {"$slack": SLACK}}))
    assert "channels" not in removed
    assert added["channels"]  # the argument is not changed


def test_unset_of_a_push_key_clears_only_that_platforms_tokens() -> None:
    both = apply_edit(
        {"subscriberId": "u"},
        edit({"$append": {"$androidpush": "a", "$id_provider": "xiaomi"}}, {"$append": {"$iospush": "i"}}),
    )
    assert {c["providerId"] for c in both["channels"]} == {"xiaomi", "apns"}
    assert apply_edit(both, edit({"$unset": ["$androidpush"]}))["channels"] == [
        {"providerId": "apns", "credentials": {"deviceTokens": ["i"]}}
    ]


def test_a_provider_entry_tied_to_an_integration_is_left_alone() -> None:
    tied = {"providerId": "fcm", "integrationIdentifier": "other", "credentials": {"deviceTokens": ["x"]}}
    after = apply_edit({"subscriberId": "u", "channels": [tied]}, edit({"$append": {"$androidpush": "y"}}))
    assert after["channels"] == [tied, {"providerId": "fcm", "credentials": {"deviceTokens": ["y"]}}]


def test_lists_are_bounded() -> None:
    full = {"subscriberId": "u", "data": {"tags": list(range(MAX_LIST_ITEMS))}}
    with pytest.raises(ProfileEditError, match="tags"):
        apply_edit(full, edit({"$append": {"tags": "one more"}}))


@pytest.mark.parametrize(
    ("operation", "field"),
    [
        ({"$set": {"a": 1}, "$unset": ["b"]}, "$user_operations.0"),
        ({"$unset": [1]}, "$user_operations.0.$unset"),
        ({"$append": {"$email": ["a@x.io"] * 11}}, "$user_operations.0.$append.$email"),
        ({"$append": {"$slack": {"access_token": "xoxb"}}}, "$user_operations.0.$append.$slack.0"),
        ({"$unset": ["$whatever"]}, "$user_operations.0.$unset.$whatever"),
    ],
)
def test_refused_operations_name_their_field(operation: dict[str, object], field: str) -> None:
    with pytest.raises(EventError) as refused:
        edit(operation)
    assert refused.value.field == field, str(refused.value)
