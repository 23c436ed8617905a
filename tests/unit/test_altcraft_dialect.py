"""Altcraft's adapter on its own: XML read as the JSON request, answers written in Altcraft's
shapes, each data item's target, attachments in SuprSend's shape, values as the index keeps them."""

from __future__ import annotations

import base64
from xml.etree import ElementTree

import pytest
from clarion.dialects import altcraft, altcraft_xml
from clarion.dialects.altcraft import AltcraftError, Item
from clarion.model import RecordOutcome, RecordStatus, TriggerRecord
from clarion.model.trigger import Attachment as TriggerAttachment
from clarion.model.trigger import MatchedProfile
from clarion.store.profile_match import MatchBy, normalised


def test_xml_request_reads_as_the_json_one() -> None:
    text = (
        "<xml><token>t</token><trigger_id>85</trigger_id><format>xml</format><matching>custom</matching>"
        "<field_name>Custom_ID</field_name><data><field_value>YY</field_value></data>"
        "<content><name>Ada</name><order><id>7</id></order></content></xml>"
    )
    body = altcraft_xml.parse_xml(text)
    assert body["data"] == [{"field_value": "YY"}]  # one <data> is still a list
    request = altcraft.parse(body)
    assert request.trigger_id == 85 and request.field_name == "Custom_ID"
    assert request.content == {"name": "Ada", "order": {"id": "7"}}
    assert request.target(request.data[0]) == MatchedProfile(field="data", data_field="Custom_ID", value="YY")


@pytest.mark.parametrize(
    "text",
    [
        '<!DOCTYPE x [<!ENTITY a "b">]><xml><token>&a;</token></xml>',
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>',
        '<!DOCTYPE x SYSTEM "http://example.com/x.dtd"><xml/>',
        "<xml>" + "<a>" * 40 + "</a>" * 40 + "</xml>",
        "<xml><token>",
        "<xml>text only</xml>",
    ],
)
def test_hostile_or_malformed_xml_is_an_altcraft_400(text: str) -> None:
    with pytest.raises(AltcraftError) as refused:
        altcraft_xml.parse_xml(text)
    assert refused.value.status_code == 400 and refused.value.error_text == "Invalid request"


def test_answer_in_xml_has_the_documented_shape() -> None:
    body = altcraft.envelope([{"profile_id": "a"}, altcraft.failure(404, "Profile not found", "why")])
    root = ElementTree.fromstring(altcraft_xml.to_xml(body))
    assert root.tag == "xml" and root.findtext("error") == "0"
    assert root.findtext("error_text") == "Successful operation"
    results = root.findall("result")
    assert [r.findtext("profile_id") for r in results] == ["a", None]
    assert results[1].findtext("error") == "404"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"email": " Ada@Example.com "}, MatchedProfile(field="email", value="Ada@Example.com")),
        (
            {"email": "a@x.io", "matching": "phone", "phone": 4915},
            MatchedProfile(field="phone", value="4915"),
        ),
        (
            {"profile_id": "sub-1", "matching": "profile_id"},
            MatchedProfile(field="subscriber_id", value="sub-1"),
        ),
        ({"phone": "1"}, "email: required with matching email"),
        ({"matching": "custom", "field_value": "1"}, "field_name: required with matching custom"),
        ({"email": True}, "email: a string (or a number)"),
        ({"email": {"a": 1}}, "email: a string (or a number)"),
        ({"email": "a@x.io", "matching": "nope"}, "matching: one of email, phone, profile_id, custom"),
    ],
)
def test_each_item_names_its_target_or_says_why_not(item: dict[str, object], expected: object) -> None:
    request = altcraft.parse({"trigger_id": 1, "data": [item]})
    assert request.target(request.data[0]) == expected


def test_attach_becomes_the_records_attachments_checked_by_suprsends_rules() -> None:
    content = base64.b64encode(b"hi").decode()
    request = altcraft.parse(
        {
            "trigger_id": 1,
            "data": [{"email": "a@x.io"}],
            "content": {"x": 1, "$attachments": ["smuggled"]},
            "attach": [{"name": "a.txt", "content": content}, {"name": "b.pdf", "url": "https://x.io/b.pdf"}],
        }
    )
    assert request.attachments() == [  # only `attach` attaches: the content's key is plain data
        TriggerAttachment(filename="a.txt", data=content),
        TriggerAttachment(filename="b.pdf", url="https://x.io/b.pdf"),
    ]
    parse = altcraft.record_parser(request, "welcome", task=False)
    record = parse(
        Item(MatchedProfile(field="email", value="a@x.io"), "sub-1"),
        environment_id="dev",
        bulk_id="b",
        index=0,
        accepted_at="now",
    )
    assert isinstance(record, TriggerRecord) and record.attachments == request.attachments()
    for bad in ({"name": "c", "url": "ftp://x.io/c"}, {"name": "d", "content": "not base64!"}, {"name": "e"}):
        with pytest.raises(AltcraftError, match=r"attach\.0"):
            altcraft.parse({"trigger_id": 1, "data": [{"email": "a@x.io"}], "attach": [bad]}).attachments()


def test_record_parser_builds_one_record_per_item_or_a_refusal() -> None:
    request = altcraft.parse({"trigger_id": 1, "data": [{"email": "a@x.io"}], "custom_data": {"crm": 1}})
    parse = altcraft.record_parser(request, "welcome", task=False)
    where = {"environment_id": "dev", "bulk_id": "b", "accepted_at": "now"}
    target = MatchedProfile(field="email", value="a@x.io")
    record = parse(Item(target, "sub-1"), index=0, **where)
    assert isinstance(record, TriggerRecord) and record.custom_data == {"crm": 1}
    assert [r.subscriber_id for r in record.recipients] == ["sub-1"]  # type: ignore[union-attr]
    unmatched = parse(Item(target), index=1, **where)
    assert isinstance(unmatched, RecordOutcome) and unmatched.status is RecordStatus.ERROR
    assert altcraft.record_answer(unmatched, Item(target))["error_text"] == "Profile not found"
    task = altcraft.record_parser(request, "welcome", task=True)(Item(target), index=0, **where)
    assert isinstance(task, TriggerRecord) and task.recipients == [target]


def test_values_are_normalised_as_the_index_keeps_them() -> None:
    assert normalised(MatchBy.EMAIL, " Ada@Example.COM ") == "ada@example.com"
    assert normalised(MatchBy.PHONE, "+49 (151) 234-56") == "+4915123456"
    assert normalised(MatchBy.DATA, 3) == "3"
    assert normalised(MatchBy.DATA, True) is None and normalised(MatchBy.DATA, [1]) is None
    assert normalised(MatchBy.EMAIL, "   ") is None
