"""Accepting a trigger request, for every dialect: rate limit, payload limits, the bulk's id
(Idempotency-Key), profile edits, then each record decided against its workflow, the bulk
recorded and the accepted records fanned out to SQS (intake.accept, the inner step)."""

from clarion.intake.request import (
    Accepted,
    Parser,
    PayloadLimit,
    accept_request,
    bulk_id_for,
    workflows_started_by,
)

__all__ = ["Accepted", "Parser", "PayloadLimit", "accept_request", "bulk_id_for", "workflows_started_by"]
