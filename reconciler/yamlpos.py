"""YAML to plain data while remembering where every value came from.

Validation errors must name file, line and column, so each document is composed
into nodes first and converted by hand, recording the position of every path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from reconciler.errors import Location, Problem
from reconciler.yaml_errors import explain

PathKey = tuple[str | int, ...]
# libyaml composes about 5x faster (a 500-worker manifest: 0.28 s -> 0.05 s); same nodes and marks.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A manifest is a few levels deep (JSON bindings a few more); deeper is an attack or a mistake.
MAX_DEPTH = 64
# Values per file after alias expansion: 500 workers take about 10,000; a billion-laughs bomb
# takes 10^9. Checked on the event stream, before anything is composed or expanded.
MAX_VALUES = 100_000


@dataclass
class PositionedDocument:
    """A YAML document as plain data plus the position of every mapping key and value."""

    file: str
    data: Any
    values: dict[PathKey, Location] = field(default_factory=dict)
    keys: dict[PathKey, Location] = field(default_factory=dict)

    def locate(self, path: PathKey) -> Location:
        """The closest known position for a path (a missing key points at its parent)."""
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Location(self.file, 1, 1))


def _loc(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.constructor = yaml.constructor.SafeConstructor()
        self.problems: list[Problem] = []

    def convert(self, node: yaml.Node, path: PathKey, doc: PositionedDocument) -> Any:
        doc.values[path] = _loc(self.file, node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, doc)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), doc) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: PathKey, doc: PositionedDocument) -> Any:
        # `<<: *anchor` merge keys: PyYAML puts the merged pairs first; a later pair
        # overrides a merged one (as yaml.safe_load does), two explicit ones are duplicates.
        explicit = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        self.constructor.flatten_mapping(node)
        first_explicit = len(node.value) - explicit
        result: dict[Any, Any] = {}
        from_merge: set[str] = set()
        for i, (key_node, value_node) in enumerate(node.value):
            key = self.constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                self.problems.append(
                    Problem(_loc(self.file, key_node), f"keys must be text, got {key!r}")
                )
                continue
            if key in result and key not in from_merge:
                self.problems.append(
                    Problem(
                        _loc(self.file, key_node),
                        f"duplicate key {key!r} in the same mapping",
                        (doc.keys[(*path, key)],),
                    )
                )
                continue
            if i < first_explicit:
                from_merge.add(key)
            else:
                from_merge.discard(key)
            doc.keys[(*path, key)] = _loc(self.file, key_node)
            result[key] = self.convert(value_node, (*path, key), doc)
        return result


def _mark(file: str, mark: Any) -> Location:
    """A yaml.Mark (Python or libyaml flavour) as our Location."""
    return Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)


def _check_size(file: str, text: str) -> Problem | None:
    """Refuse nesting deeper than MAX_DEPTH and more than MAX_VALUES values after alias
    expansion, from the parser's events: linear in the text, nothing expanded or recursed.

    Every event adds the values it stands for to a running count (an alias: the count its
    anchor added when it was defined), so a bomb is caught at the alias that crosses the line,
    even under an ignored `x-` key.
    """
    expanded = 0
    anchored: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_nodes) >= MAX_DEPTH:
                return Problem(
                    _mark(file, event.start_mark),
                    _TOO_DEEP,
                )
            open_nodes.append((event.anchor, expanded))
            expanded += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, start = open_nodes.pop()
            if anchor is not None:
                anchored[anchor] = expanded - start
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1
            if event.anchor is not None:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            expanded += anchored.get(event.anchor or "", 1)
            if expanded > MAX_VALUES:
                return Problem(
                    _mark(file, event.start_mark),
                    f"YAML aliases here expand the file to more than {MAX_VALUES:,} values; "
                    "use fewer nested aliases (an alias bomb is refused)",
                )
        if expanded > MAX_VALUES:
            return Problem(
                _mark(file, event.start_mark),
                f"the file holds more than {MAX_VALUES:,} YAML values; split it into smaller files",
            )
    return None


_TOO_DEEP = f"YAML nested too deep (the limit is {MAX_DEPTH} levels); a manifest needs a few"


def load_documents(file: str, text: str) -> tuple[list[PositionedDocument], list[Problem]]:
    """Parse every document in a YAML text. Problems are returned, not raised."""
    converter = _Converter(file)
    documents: list[PositionedDocument] = []
    try:
        too_big = _check_size(file, text)
        if too_big is not None:
            return [], [too_big]
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        if "nesting depth" in what:  # libyaml's own limit, met while scanning ahead
            return [], [Problem(_mark(file, mark), _TOO_DEEP)]
        words = explain(text, exc.context, exc.problem, exc.context_mark, exc.problem_mark)
        return [], [Problem(_mark(file, mark), f"malformed YAML: {words}")]
    except yaml.YAMLError as exc:
        return [], [Problem(Location(file), f"malformed YAML: {exc}")]
    for node in nodes:
        if node is None:
            continue
        doc = PositionedDocument(file=file, data=None)
        try:
            doc.data = converter.convert(node, (), doc)
        except yaml.YAMLError as exc:
            converter.problems.append(Problem(_loc(file, node), f"malformed YAML value: {exc}"))
            continue
        documents.append(doc)
    return documents, converter.problems
