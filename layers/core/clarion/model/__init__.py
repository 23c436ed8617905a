"""The ONE internal model. Dialects convert to and from it; nothing below them knows a dialect."""

from clarion.model.outcome import RecordOutcome, RecordStatus, StepOutcome
from clarion.model.trigger import Continuation, Recipient, SubscriberProfile, TopicRef, TriggerRecord
from clarion.model.workflow import Condition, Step, StepType, Workflow

__all__ = [
    "Condition",
    "Continuation",
    "Recipient",
    "RecordOutcome",
    "RecordStatus",
    "Step",
    "StepOutcome",
    "StepType",
    "SubscriberProfile",
    "TopicRef",
    "TriggerRecord",
    "Workflow",
]
