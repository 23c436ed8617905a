"""Altcraft's XML (dialects.altcraft): a request `<xml><token>..</token><data><email>..</email>
</data>...</xml>` read as the JSON one (an element per field, a repeated element per list item),
with defusedxml refusing DTDs, entities and external references; answers written the same way."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from clarion.dialects.altcraft import INVALID_REQUEST, AltcraftError

MAX_XML_DEPTH = 32
_LISTS = frozenset({"data", "attach"})  # top-level elements that are always lists


def parse_xml(text: str) -> dict[str, Any]:
    """An XML request as the JSON one: `<xml><token>..</token><data><email>..</email></data>...`.
    DTDs, entities and external references are refused (defusedxml), as is nesting over 32."""
    try:
        root = safe_xml.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise AltcraftError(
            400, INVALID_REQUEST, f"body: {type(error).__name__}: DTDs and entities are refused"
        ) from None
    except ParseError as error:
        raise AltcraftError(400, INVALID_REQUEST, f"body: not well-formed XML ({error})") from None
    except ValueError as error:  # e.g. an encoding the parser cannot read
        raise AltcraftError(400, INVALID_REQUEST, f"body: unreadable XML ({error})") from None
    body = _element(root, 0)
    if not isinstance(body, dict):
        raise AltcraftError(400, INVALID_REQUEST, "body: <xml> holds the request's fields")
    return {k: (v if k not in _LISTS or isinstance(v, list) else [v]) for k, v in body.items()}


def _element(element: Element, depth: int) -> Any:
    if depth > MAX_XML_DEPTH:
        raise AltcraftError(400, INVALID_REQUEST, f"body: nested deeper than {MAX_XML_DEPTH} levels")
    children = list(element)
    if not children:
        return (element.text or "").strip()
    found: dict[str, Any] = {}
    for child in children:
        value = _element(child, depth + 1)
        if child.tag in found:
            previous = found[child.tag]
            found[child.tag] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            found[child.tag] = value
    return found


def to_xml(body: dict[str, Any]) -> str:
    root = Element("xml")
    for name, value in body.items():
        _append(root, name, value)
    return tostring(root, encoding="unicode")


def _append(parent: Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _append(parent, name, item)
        return
    element = SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    else:
        element.text = "" if value is None else str(value)
