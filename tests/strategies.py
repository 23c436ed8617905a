"""Hypothesis strategies for the request dialects: valid events, events broken in one named field,
and anything at all. Shared by the dialect properties (unit) and the endpoint properties
(integration)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

# --- JSON -------------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
json_values = st.recursive(
    scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=5)
not_objects = scalars | st.lists(json_values, max_size=3)
not_strings = st.none() | st.booleans() | st.integers() | st.lists(scalars, max_size=2) | json_objects


_ID_CHARACTERS = st.characters(exclude_categories=("Cc", "Cs"))  # ids refuse NUL and control characters
CONTROL_CHARACTER_IDS = st.sampled_from(["a\x00b", "\x00", "line\nbreak", "tab\t", "del\x7f", "c1\x85"])


def ids(max_size: int = 256) -> st.SearchStrategy[str]:
    return st.text(_ID_CHARACTERS, min_size=1, max_size=min(max_size, 40)) | st.text(
        _ID_CHARACTERS, min_size=max_size, max_size=max_size
    )


# --- Novu -------------------------------------------------------------------------------------

novu_subscriber = st.fixed_dictionaries(
    {"subscriberId": ids()},
    optional={
        "email": st.emails(),
        "firstName": st.text(max_size=20),
        "lastName": st.text(max_size=20),
        "phone": st.from_regex(r"\+[1-9][0-9]{7,12}", fullmatch=True),
        "avatar": st.text(max_size=20),
        "locale": st.sampled_from(["en", "de-DE", "fr"]),
        "timezone": st.sampled_from(["UTC", "Europe/Berlin"]),
        "data": json_objects,
        "x-custom": json_values,  # Novu subscribers allow any extra field
    },
)
novu_topic = st.fixed_dictionaries({"type": st.just("Topic"), "topicKey": ids()})
novu_recipient = ids() | novu_subscriber | novu_topic
novu_to = (
    novu_recipient
    | st.lists(novu_recipient, min_size=1, max_size=12)
    | st.lists(novu_recipient, min_size=100, max_size=100)
)
novu_events = st.fixed_dictionaries(
    {"name": ids(128), "to": novu_to},
    optional={
        "payload": json_objects,
        "overrides": json_objects,
        "actor": ids() | novu_subscriber,
        "tenant": ids() | json_objects,
        "transactionId": ids(),
        "bridgeUrl": st.text(max_size=30),
        "unknownField": json_values,  # Novu ignores unknown top-level fields
    },
)

# One field made invalid: (field named in the refusal, invalid value, or MISSING to drop it).
MISSING = object()


def _broken_in_one_field(
    valid: st.SearchStrategy[dict[str, Any]], breakages: dict[str, st.SearchStrategy[Any]]
) -> Callable[[], st.SearchStrategy[tuple[str, dict[str, Any]]]]:
    """A valid record with one field given a bad value (or MISSING: removed), and that field."""

    @st.composite
    def broken(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
        record = dict(draw(valid))
        field = draw(st.sampled_from(sorted(breakages)))
        value = draw(breakages[field])
        if value is MISSING:
            record.pop(field, None)
        else:
            record[field] = value
        return field, record

    return broken


novu_breakages: dict[str, st.SearchStrategy[Any]] = {
    "name": st.just(MISSING)
    | st.just("")
    | CONTROL_CHARACTER_IDS
    | st.text(min_size=129, max_size=140)
    | not_strings.filter(lambda v: not isinstance(v, str)),
    "to": st.just(MISSING)
    | st.just([])
    | st.lists(st.just("x"), min_size=101, max_size=101)
    | st.none()
    | st.integers()
    | st.booleans()
    | st.lists(
        st.just("") | st.just({"subscriberId": ""}) | st.just({"type": "Topic"}), min_size=1, max_size=3
    )
    | st.lists(CONTROL_CHARACTER_IDS | CONTROL_CHARACTER_IDS.map(lambda i: {"subscriberId": i}), min_size=1),
    "payload": not_objects,
    "overrides": not_objects,
    "actor": st.just("") | st.integers() | st.lists(scalars, min_size=1, max_size=2) | st.just({"x": 1}),
    "tenant": st.just("")
    | st.integers()
    | st.booleans()
    | st.lists(scalars, max_size=2)
    | CONTROL_CHARACTER_IDS
    | CONTROL_CHARACTER_IDS.map(lambda i: {"identifier": i}),
    "transactionId": st.just("") | st.text(min_size=257, max_size=260) | st.integers() | st.lists(scalars),
    "bridgeUrl": st.integers() | st.lists(scalars, min_size=1, max_size=2) | json_objects,
}


broken_novu_events = _broken_in_one_field(novu_events, novu_breakages)


# --- SuprSend ---------------------------------------------------------------------------------

suprsend_user = st.fixed_dictionaries(
    {"distinct_id": ids()},
    optional={
        "$email": st.lists(st.emails(), min_size=1, max_size=2),
        "$sms": st.lists(st.from_regex(r"\+[1-9][0-9]{7,12}", fullmatch=True), min_size=1, max_size=2),
        "$inbox": st.lists(ids(), min_size=1, max_size=2),
        "$androidpush": st.lists(ids(), min_size=1, max_size=2),
        "$channels": st.lists(st.sampled_from(["email", "sms", "inbox", "slack", "webpush"]), max_size=3),
        "$timezone": st.sampled_from(["UTC", "America/New_York"]),
        "$locale": st.sampled_from(["en", "es"]),
        "plan": st.sampled_from(["free", "pro"]),  # any other key is a user property
    },
)
suprsend_transient = st.fixed_dictionaries(
    {"is_transient": st.just(True)}, optional={"$email": st.lists(st.emails(), min_size=1, max_size=1)}
)
suprsend_recipient = ids() | suprsend_user | suprsend_transient
suprsend_records = st.fixed_dictionaries(
    {"workflow": ids(128), "recipients": st.lists(suprsend_recipient, min_size=1, max_size=12)},
    optional={
        "actor": ids() | suprsend_user,
        "data": json_objects.filter(lambda d: "$attachments" not in d),
        "tenant_id": ids(),
        "$idempotency_key": ids(255),
        "cancellation_key": ids(255),
        "unknownField": json_values,
    },
)
suprsend_breakages: dict[str, st.SearchStrategy[Any]] = {
    "workflow": st.just(MISSING)
    | st.just("")
    | CONTROL_CHARACTER_IDS
    | st.text(min_size=129, max_size=130)
    | not_strings.filter(lambda v: not isinstance(v, str)),
    "recipients": st.just(MISSING)
    | st.just([])
    | st.lists(st.just("u"), min_size=101, max_size=101)
    | st.lists(st.just("") | st.just({"$email": ["a@example.com"]}), min_size=1, max_size=2)
    | st.lists(CONTROL_CHARACTER_IDS | CONTROL_CHARACTER_IDS.map(lambda i: {"distinct_id": i}), min_size=1)
    | not_objects.filter(lambda v: not isinstance(v, list)),
    "data": not_objects
    | st.just({"$attachments": "not a list"})
    | st.just({"$attachments": [{"url": "ftp://x"}]}),
    "tenant_id": st.just("")
    | st.integers()
    | st.lists(scalars, min_size=1, max_size=2)
    | CONTROL_CHARACTER_IDS,
    "$idempotency_key": st.just("") | st.text(min_size=256, max_size=260) | st.integers(),
    "actor": st.just("") | st.integers() | st.just({"plan": "pro"}),
}


broken_suprsend_records = _broken_in_one_field(suprsend_records, suprsend_breakages)
