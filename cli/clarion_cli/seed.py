"""The development environment: its API key and a sample workflow, written with the same code
the functions use (clarion.store)."""

from __future__ import annotations

import contextlib

DEVELOPMENT = "development"
DEFAULT_API_KEY = "clarion-dev-key"
WELCOME_WORKFLOW = {
    "workflowId": "welcome",
    "name": "Welcome",
    "steps": [
        {
            "stepId": "inbox",
            "type": "in_app",
            "content": {
                "subject": "Welcome, {{ subscriber.firstName | default: 'friend' }}",
                "body": "{{ payload.message | default: 'Hello from Clarion' }}",
            },
        }
    ],
}


def seed(api_key: str) -> str:
    """Configured as the ApiFunction is (CLARION_* variables set by the caller). Returns the
    environment's applicationIdentifier (for Novu's <Inbox />)."""
    from clarion import aws, config
    from clarion.model import Workflow
    from clarion.store import environment_settings, environments, workflows

    config.settings.cache_clear()
    aws.reset_clients()
    # On every start, also against a running emulator: keeps the environment's limits and keys.
    environments.create_environment(DEVELOPMENT, api_key, allow_loopback_urls=True, force=True)
    with contextlib.suppress(workflows.WorkflowExistsError):
        workflows.create(DEVELOPMENT, Workflow.model_validate(WELCOME_WORKFLOW))
    # Local development: an Inbox session needs no subscriberHash (unless turned on since).
    environment_settings.set_inbox_settings(DEVELOPMENT, subscriber_hash_required=False, only_if_unset=True)
    return environment_settings.application_identifier(DEVELOPMENT)
