"""Dialects are adapters: a request in a service's shape -> the internal model, and an outcome
back into that service's answer. Nothing below them knows which dialect a record came from."""
