"""The two body formats of message push, XML and JSON, read into plain dicts and written back.

No Django here, so the sandbox can build pushes and read replies with it. XML is parsed with
``defusedxml`` and no DTD at all (no entity expansion, no external references: an XML bomb
is malformed); nesting deeper than :data:`MAX_DEPTH` is malformed in either format.

An XML element with children becomes a dict, a repeated element a list, any other element
its text (so XML numbers arrive as strings, JSON numbers as numbers). Written XML puts text in
CDATA sections and numbers as they are, as WeChat writes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml.ElementTree import fromstring

Format = Literal["xml", "json"]
XML: Format = "xml"
JSON: Format = "json"

#: No push nests this deep; anything deeper is refused before it is walked.
MAX_DEPTH = 32


class MalformedBody(ValueError):
    """The body is neither well-formed XML nor a JSON object; the message says where it fails."""


def detect_format(body: bytes) -> Format:
    """``"xml"`` or ``"json"`` from the body's first character; MalformedBody for anything else."""
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return XML
    if head == b"{":
        return JSON
    raise MalformedBody("The body is neither XML nor a JSON object.")


def parse_body(body: bytes) -> tuple[Format, dict[str, Any]]:
    """The body's format and its fields."""
    fmt = detect_format(body)
    return fmt, (parse_xml(body) if fmt == XML else parse_json(body))


def parse_xml(body: bytes) -> dict[str, Any]:
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise MalformedBody("The XML body declares a DTD or entities, which pushes never do.") from None
    except ParseError as exc:
        raise MalformedBody(f"The XML body is not well-formed: {exc}.") from None
    value = _element_value(root, 1)
    return value if isinstance(value, dict) else {}


def _element_value(element: Element, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise MalformedBody(f"The XML body nests deeper than {MAX_DEPTH} levels.")
    children = list(element)
    if not children:
        return (element.text or "").strip()
    fields: dict[str, Any] = {}
    for child in children:
        value = _element_value(child, depth + 1)
        if child.tag in fields:
            previous = fields[child.tag]
            fields[child.tag] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[child.tag] = value
    return fields


def _refuse_constant(name: str) -> Any:
    raise MalformedBody(f"The JSON body contains {name}, which is not JSON.")


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise MalformedBody("The JSON body is not UTF-8.") from None
    except RecursionError:
        raise MalformedBody(f"The JSON body nests deeper than {MAX_DEPTH} levels.") from None
    except json.JSONDecodeError as exc:
        raise MalformedBody(f"The JSON body is not valid JSON: {exc.msg} at line {exc.lineno}.") from None
    if not isinstance(value, dict):
        raise MalformedBody("The JSON body is not an object.")
    if _depth(value) > MAX_DEPTH:
        raise MalformedBody(f"The JSON body nests deeper than {MAX_DEPTH} levels.")
    return value


def _depth(value: Any) -> int:
    # Iterative, so a deep body cannot exhaust the stack here.
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def dump_body(fields: Mapping[str, Any], fmt: Format) -> bytes:
    """``fields`` as a body of format ``fmt``."""
    if fmt == JSON:
        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: JSON can still carry it, escaped
            return json.dumps(fields, separators=(",", ":")).encode("ascii")
    text = "<xml>" + "".join(_xml_field(k, v) for k, v in fields.items()) + "</xml>"
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def _xml_field(name: str, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "".join(_xml_field(name, item) for item in value)
    if isinstance(value, Mapping):
        inner = "".join(_xml_field(k, v) for k, v in value.items())
    elif isinstance(value, bool):
        inner = str(int(value))
    elif isinstance(value, (int, float)):
        inner = str(value)
    elif value is None:
        inner = ""
    else:
        inner = "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return f"<{name}>{inner}</{name}>"
