"""Recipients named by a field's value (model.trigger.MatchedProfile) become the subscribers
they match, when the record runs: one indexed read per field and record (store.profile_match)."""

from __future__ import annotations

from collections.abc import Callable

from clarion.model import RecordOutcome, RecordStatus, SubscriberProfile, TriggerRecord
from clarion.model.refusal import RefusalType
from clarion.model.trigger import MatchedProfile, Recipient
from clarion.store import profile_match


def matched(record: TriggerRecord, run: Callable[[TriggerRecord], RecordOutcome]) -> RecordOutcome:
    """`run` the record with its matched recipients resolved; a record none of whose recipients
    remain is FAILED as profile_not_found, naming what matched nobody."""
    wanted = [r for r in record.recipients if isinstance(r, MatchedProfile)]
    if not wanted:
        return run(record)
    recipients: list[Recipient] = [r for r in record.recipients if not isinstance(r, MatchedProfile)]
    unmatched: list[str] = []
    try:
        found = profile_match.find_targets(record.environment_id, wanted)
    except profile_match.UndeclaredFieldError as error:
        return RecordOutcome.of(record, RecordStatus.FAILED, str(error), RefusalType.PROFILE_NOT_FOUND)
    for recipient in wanted:
        subscriber = found.get(recipient)
        if subscriber is None:
            unmatched.append(f"{recipient.data_field or recipient.field} '{recipient.value}'")
        else:
            recipients.append(SubscriberProfile(subscriber_id=subscriber["subscriberId"]))
    if not recipients:
        message = "no profile matches " + ", ".join(unmatched)
        return RecordOutcome.of(record, RecordStatus.FAILED, message, RefusalType.PROFILE_NOT_FOUND)
    unique = list({r.subscriber_id: r for r in recipients if isinstance(r, SubscriberProfile)}.values())
    others = [r for r in recipients if not isinstance(r, SubscriberProfile)]
    return run(record.model_copy(update={"recipients": others + unique}))
