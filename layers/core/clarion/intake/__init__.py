"""Accepting a bulk: decide each record against its workflow, record the bulk, fan out to SQS."""
