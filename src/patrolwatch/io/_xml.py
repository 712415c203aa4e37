"""A small XML tree with line numbers, for the GPX and KML readers.

Built on :mod:`xml.parsers.expat`; document type declarations with entities are refused
(no entity expansion, no external resources). Tags are local names (namespace dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from ..errors import ParseError

__all__ = ["Node", "parse_xml"]


@dataclass
class Node:
    """One element: local ``tag``, attributes, text, 1-based start ``line`` and children."""

    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return "".join(self.text_parts).strip()

    def find(self, tag: str) -> Node | None:
        """The first child named ``tag``."""
        for c in self.children:
            if c.tag == tag:
                return c
        return None

    def iter(self, tag: str) -> list[Node]:
        """All descendants named ``tag``, in document order."""
        out: list[Node] = []
        stack = list(reversed(self.children))
        while stack:
            node = stack.pop()
            if node.tag == tag:
                out.append(node)
            stack.extend(reversed(node.children))
        return out


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1].rsplit(":", 1)[-1]


def parse_xml(data: bytes, *, path: str) -> Node:
    """Parse XML bytes into a :class:`Node` tree.

    Raises
    ------
    ParseError
        Malformed or truncated XML (with its line), or a DTD declaring entities.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    root = Node("#document", {}, 0)
    stack = [root]

    def start(name: str, attrs: dict[str, str]) -> None:
        node = Node(
            _local(name),
            {_local(k): v for k, v in attrs.items()},
            parser.CurrentLineNumber,
            parent=stack[-1],
        )
        stack[-1].children.append(node)
        stack.append(node)

    def end(name: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        stack[-1].text_parts.append(text)

    def entity(*args: object) -> None:
        raise ParseError(
            "XML entity declarations are not accepted", path=path, line=parser.CurrentLineNumber
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = entity
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ParseError(
            f"malformed XML: {expat.ErrorString(exc.code)} (truncated file?)",
            path=path,
            line=exc.lineno,
        ) from exc
    return root
