"""Novu's v1 workflow definitions (`POST /v1/workflows` in Novu: CreateWorkflowRequestDto with
NotificationStep steps), converted to the one workflow model, so a Novu workflow's JSON can be
pasted as it is.

A Novu step is `{name?, active?, shouldStopOnFail?, template: {type, content, subject?, ...},
filters?, metadata?}`: `template` becomes `type` and `content`, `filters` become conditions (a
step runs when any filter passes; a filter is the AND or OR of its children; one without children
passes; `isNegated` inverts it), delay and digest `metadata` becomes their content. What Clarion
cannot do is refused by name, never dropped (timed and backoff digests, reply callbacks,
variants, template variables' defaults)."""

from __future__ import annotations

import html
import re
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from clarion.model.strict import StrictModel
from clarion.model.workflow import Condition, OperatorName, Step, StepType

Unit = Literal["seconds", "minutes", "hours", "days", "weeks", "months"]
NovuOperator = OperatorName  # Novu's filters take the full names only
_NOVU_ID = "Novu's internal id; Clarion keeps its own ids: leave it out"
_PATH = r"^[A-Za-z_$][A-Za-z0-9_$-]*(\.[A-Za-z0-9_$-]+)*$"


class NovuFilterPart(StrictModel):
    """One of a filter's children: `{on, field, operator, value}`; `on` is where `field` is read."""

    on: Literal["payload", "subscriber", "tenant"]
    field: str = Field(min_length=1, max_length=200, pattern=_PATH)
    operator: NovuOperator = "EQUAL"
    value: Any = None

    @model_validator(mode="after")
    def _operand_fits(self) -> NovuFilterPart:
        self.to_condition()  # BETWEEN needs two bounds, LIKE a text, ...
        return self

    def to_condition(self) -> Condition:
        return Condition(field=f"{self.on}.{self.field}", operator=self.operator, value=self.value)


class NovuStepFilter(StrictModel):
    """`type` is a hint for Novu's editor; values are compared by the actual value's type."""

    is_negated: bool = Field(default=False, alias="isNegated")
    type: Literal["BOOLEAN", "TEXT", "DATE", "NUMBER", "STATEMENT", "LIST", "MULTI_LIST", "GROUP"] | None = (
        None
    )
    value: Literal["AND", "OR"]
    children: list[NovuFilterPart] = Field(default_factory=list, max_length=50)

    def to_condition(self) -> Condition:
        members = [child.to_condition() for child in self.children]
        kind = "any" if self.value == "OR" and members else "all"  # no children: passes
        return Condition.model_validate({kind: members, "not": self.is_negated})


class NovuEmailBlock(StrictModel):
    type: Literal["text", "button"]
    content: str = Field(max_length=100_000)
    url: str | None = Field(default=None, max_length=2048)
    styles: dict[Literal["textAlign"], Literal["left", "right", "center"]] | None = None

    def to_html(self) -> str:
        align = (self.styles or {}).get("textAlign")
        style = f' style="text-align:{align}"' if align else ""
        if self.type == "button":
            return f'<p{style}><a href="{html.escape(self.url or "", quote=True)}">{self.content}</a></p>'
        return f"<p{style}>{self.content}</p>"


class NovuTemplate(StrictModel):
    """Novu's MessageTemplate. `cta` and `actor` go into an in-app message's content as they are."""

    refused: ClassVar[dict[str, str]] = {
        name: _NOVU_ID
        for name in ("_id", "_creatorId", "_environmentId", "_organizationId", "_feedId", "_layoutId")
    }

    type: Literal["in_app", "email", "sms", "chat", "push", "delay", "digest"]
    content: str | list[NovuEmailBlock] = ""
    content_type: Literal["editor", "customHtml"] | None = Field(default=None, alias="contentType")
    subject: str | None = Field(default=None, max_length=2048)
    title: str | None = Field(default=None, max_length=2048)
    preheader: str | None = Field(default=None, max_length=2048)
    sender_name: str | None = Field(default=None, alias="senderName", max_length=256)
    name: str | None = Field(default=None, max_length=256)
    cta: dict[str, Any] | None = None
    actor: dict[str, Any] | None = None
    variables: list[dict[str, Any]] = Field(default_factory=list)
    feed_id: None = Field(default=None, alias="feedId")
    layout_id: None = Field(default=None, alias="layoutId")

    @field_validator("variables")
    @classmethod
    def _no_declarations(cls, variables: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if variables:
            raise ValueError(
                "template variables are not supported: templates need no declarations; "
                "give a default in the template ({{ x | default: 'y' }})"
            )
        return variables

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(block.to_html() for block in self.content)

    def to_content(self) -> dict[str, Any]:
        body = self.text()
        kind = self.type
        fields: dict[str, Any]
        if kind == "email":
            if self.preheader:
                body = f'<span style="display:none">{self.preheader}</span>{body}'
            fields = {"subject": self.subject, "body": body, "senderName": self.sender_name}
        elif kind == "push":
            fields = {"title": self.title or self.subject, "body": body}
        elif kind == "in_app":
            fields = {"subject": self.subject, "body": body, "cta": self.cta, "actor": self.actor}
        else:
            fields = {"body": body}
        return {name: value for name, value in fields.items() if value not in (None, "")}


class DelayRegular(StrictModel):
    type: Literal["regular"]
    amount: float = Field(ge=0)
    unit: Unit


class DelayScheduled(StrictModel):
    """`delayPath`: the payload field holding the date (ISO 8601) to wait until."""

    type: Literal["scheduled"]
    delay_path: str = Field(alias="delayPath", min_length=1, max_length=200, pattern=_PATH)


class DigestMetadata(StrictModel):
    """Regular digests (and timed ones given only amount and unit): the events of each window of
    `amount` `unit`, per `digestKey` value, are sent as one. Backoff and scheduled (`timed`)
    digests are refused: Clarion does not run them."""

    type: Literal["regular", "backoff", "timed"] = "regular"
    amount: float = Field(ge=0)
    unit: Unit
    digest_key: str | None = Field(default=None, alias="digestKey", max_length=200)
    backoff: Literal[False] | None = None
    update_mode: Literal[False] | None = Field(default=None, alias="updateMode")

    refused: ClassVar[dict[str, str]] = {
        name: "backoff digests are not supported: use a regular digest"
        for name in ("backoffAmount", "backoffUnit")
    } | {"timed": "scheduled (timed) digests are not supported: give amount and unit"}

    @field_validator("type")
    @classmethod
    def _not_backoff(cls, value: str) -> str:
        if value == "backoff":
            raise ValueError("backoff digests are not supported: use a regular digest")
        return value


_METADATA: dict[str, tuple[type[StrictModel], ...]] = {
    "delay": (DelayRegular, DelayScheduled),
    "digest": (DigestMetadata,),
}


class NovuStep(StrictModel):
    refused: ClassVar[dict[str, str]] = {
        "_id": _NOVU_ID,
        "_templateId": _NOVU_ID,
        "_parentId": _NOVU_ID,
        "replyCallback": "reply callbacks are not supported",
        "variants": "step variants are not supported: give each case its own step with filters",
    }

    step_id: str | None = Field(default=None, alias="stepId", max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    uuid: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str | None = Field(default=None, max_length=256)
    active: bool = True
    should_stop_on_fail: bool = Field(default=False, alias="shouldStopOnFail")
    template: NovuTemplate
    filters: list[NovuStepFilter] = Field(default_factory=list, max_length=50)
    metadata: dict[str, Any] | None = Field(default=None, validate_default=True)

    @classmethod
    def misplaced(cls, name: str, data: dict[str, Any]) -> str | None:
        if name in NovuTemplate.model_fields or name in ("contentType", "senderName"):
            return f"template.{name}"
        if name in ("amount", "unit", "digestKey", "delayPath"):
            return f"metadata.{name}"
        return "filters" if name == "conditions" else None

    @field_validator("metadata")
    @classmethod
    def _metadata_fits(cls, metadata: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        template = info.data.get("template")
        kind = template.type if isinstance(template, NovuTemplate) else None
        shapes = _METADATA.get(kind or "")
        if shapes is None:
            return metadata  # Novu keeps metadata on any step; only delay and digest read it
        if metadata is None:
            raise ValueError(f"a {kind} step needs metadata (type, amount, unit)")
        shape = shapes[-1] if metadata.get("type") == "scheduled" else shapes[0]
        return shape.model_validate(metadata).model_dump(by_alias=True, exclude_none=True)

    def to_step(self, step_id: str) -> Step:
        kind = StepType(self.template.type)
        metadata = self.metadata or {}
        if kind is StepType.DELAY and metadata.get("type") == "scheduled":
            content: dict[str, Any] = {"until": "{{ payload." + metadata["delayPath"] + " }}"}
        elif kind in (StepType.DELAY, StepType.DIGEST):
            content = {"amount": metadata["amount"], "unit": metadata["unit"]}
            if metadata.get("digestKey"):
                content["digestKey"] = metadata["digestKey"]
        else:
            content = self.template.to_content()
        conditions = [f.to_condition() for f in self.filters]
        return Step(
            step_id=step_id,
            type=kind,
            active=self.active,
            content=content,
            conditions=[Condition.model_validate({"any": conditions})] if len(conditions) > 1 else conditions,
            on_failure="halt" if self.should_stop_on_fail else "continue",
        )


def slug(text: str) -> str:
    """Novu's identifier for a name: lower case, runs of other characters as one `-`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def to_steps(given: list[Step | NovuStep]) -> list[Step]:
    """Clarion steps as they are; each Novu step gets an id from its stepId, name, uuid or type,
    made unique among the workflow's steps."""
    taken = {step.step_id for step in given if isinstance(step, Step)}
    steps: list[Step] = []
    for step in given:
        if isinstance(step, Step):
            steps.append(step)
            continue
        base = step.step_id or slug(step.name or step.template.name or "") or step.uuid or step.template.type
        step_id, n = base[:120], 1
        while step_id in taken:
            n += 1
            step_id = f"{base[:120]}-{n}"
        taken.add(step_id)
        steps.append(step.to_step(step_id))
    return steps
