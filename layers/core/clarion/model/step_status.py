"""What a step item (one step for one recipient of a transaction) says happened to it."""

from __future__ import annotations

from enum import StrEnum


class StepStatus(StrEnum):
    """A step's status, as its stored item and the record's outcome carry it.

    sending:   claimed for a provider, not yet answered (a worker that stops here leaves the
               outcome unknown: a redelivery records it failed, never sends again);
    sent:      delivered (or stored in the in-app feed);
    skipped:   a condition, preference or channel filter left it out;
    failed:    the provider refused, the template failed, or the outcome is unknown;
    pending:   a delay waiting to resume, or the digest window its run owns;
    digested:  its event joined another run's digest window;
    resumed:   a delay that resumed, or a digest that was sent;
    cancelled: a pending delay or digest cancelled by the caller.
    """

    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    PENDING = "pending"
    DIGESTED = "digested"
    RESUMED = "resumed"
    CANCELLED = "cancelled"
