"""The ONE internal model. Dialects convert to and from it; nothing below them knows a dialect."""

from clarion.model.outcome import RecordOutcome, RecordStatus, StepOutcome, Verdict
from clarion.model.step_status import StepStatus
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
    "StepStatus",
    "StepType",
    "SubscriberProfile",
    "TopicRef",
    "TriggerRecord",
    "Verdict",
    "Workflow",
]
