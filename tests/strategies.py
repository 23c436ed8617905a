"""Hypothesis strategies for the request dialects: valid events, events broken in one named field,
and anything at all. Shared by the dialect properties (unit) and the endpoint properties
(integration)."""

from __future__ import annotations

import json
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
        # identities are trimmed and must not be blank (dialects.suprsend_identities)
        "$inbox": st.lists(ids().filter(str.strip), min_size=1, max_size=2),
        "$androidpush": st.lists(ids().filter(str.strip), min_size=1, max_size=2),
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


# --- Hostile JSON -----------------------------------------------------------------------------
# JSON texts, not values: what a hostile or careless client can send that Python's json module
# would accept (or crash on) and the strict reader (clarion.api.body) refuses with a 4xx.

HOSTILE = "\x00hostile\x00"  # stands in for the hostile text while a body is built as a value


def nested(depth: int, opener: str = "[") -> str:
    """`depth` levels of arrays (`[`) or objects (`{`), innermost empty."""
    if opener == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


deep_nesting = st.builds(nested, st.integers(65, 12_000), st.sampled_from(["[", "{"]))
huge_integers = st.builds(
    lambda sign, digits, first: f"{sign}{first}{'7' * (digits - 1)}",
    st.sampled_from(["", "-"]),
    st.integers(39, 6_000),
    st.sampled_from("123456789"),
)
non_finite_numbers = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E309", "2e9999"])
lone_surrogates = st.builds(  # a string holding one unpaired \udXXX escape, among other characters
    lambda before, code, after: json.dumps(before)[:-1] + f"\\u{code:04x}" + json.dumps(after)[1:],
    st.text(max_size=5),
    st.integers(0xD800, 0xDFFF),
    st.text(max_size=5),
)
# Past each route family's limit (api.body): 256 KB management, 800 KB SuprSend, 5 MB triggers,
# and the 9 MB (under API Gateway's 10 MB, so that it reaches the function).
oversized_strings = st.sampled_from([300_000, 900_000, 5_300_000, 9_000_000]).map(
    lambda n: '"' + "x" * n + '"'
)
hostile_values = deep_nesting | huge_integers | non_finite_numbers | lone_surrogates
hostile_or_oversized_values = hostile_values | oversized_strings

# Odd but valid: the strict reader accepts each, as json.loads reads it (61 levels: 64 once put
# in a body by with_value_at_a_field, at most 3 levels down).
odd_valid_values = st.sampled_from(
    [
        nested(61),
        nested(61, "{"),
        "9" * 38,
        "-" + "9" * 38,
        "1e308",
        "-0.0",
        "1e-400",  # underflows to 0.0: finite
        json.dumps("\U0001f600"),  # a surrogate pair, escaped as ensure_ascii writes it
        '"\\\\ud800"',  # an escaped backslash before "ud800": no surrogate at all
        '"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["',  # brackets in a string
    ]
)


@st.composite
def with_value_at_a_field(
    draw: st.DrawFn, bodies: st.SearchStrategy[Any], values: st.SearchStrategy[str]
) -> tuple[str, str]:
    """(JSON text, field): a body of `bodies` with `values`' text put at one of its fields (a
    top-level field, a new one, or a field nested in an object), and that field's dotted name."""
    body = draw(bodies)
    path: list[str] = []
    if isinstance(body, list) and body and isinstance(body[0], dict):
        path.append("0")
        holder = body[0] = dict(body[0])
    elif isinstance(body, dict):
        holder = body = dict(body)
    else:
        return draw(values), "body"
    key = draw(st.sampled_from([*sorted(holder), "payload", "data", "extra"]))
    if draw(st.booleans()):
        holder[key] = {"nested": HOSTILE}
        path += [key, "nested"]
    else:
        holder[key] = HOSTILE
        path.append(key)
    text = json.dumps(body).replace(json.dumps(HOSTILE), draw(values), 1)
    return text, ".".join(part or '""' for part in path)  # the empty key named as errors name it
