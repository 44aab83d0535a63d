"""The YAML parser's errors in plain words, with the usual fix.

PyYAML says `while parsing a block mapping ... did not find expected key`; a user needs to
hear which line is out of line with which, that a list item lacks its `- `, or that a tab
crept into the indentation. The parser's own words stay at the end, for a search engine.
"""

from __future__ import annotations

from typing import Any


def _line(lines: list[str], number: int) -> str:
    """Line `number` (1-based), or '' past the end."""
    return lines[number - 1] if 0 < number <= len(lines) else ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _tab_line(lines: list[str], numbers: tuple[int, ...]) -> int | None:
    for number in numbers:
        line = _line(lines, number)
        if "\t" in line[: len(line) - len(line.lstrip(" \t"))]:
            return number
    return None


def _item_key_column(line: str) -> int | None:
    """The 1-based column of the first key of a `- key: value` list item line."""
    stripped = line.lstrip(" ")
    if not stripped.startswith("-"):
        return None
    rest = stripped[1:]
    if not rest.strip():
        return None
    return _indent(line) + 1 + (len(rest) - len(rest.lstrip(" "))) + 1


def plain_words(
    text: str, context: str | None, problem: str | None, context_mark: Any, mark: Any
) -> str:
    """One sentence for a YAML syntax error at `mark`: what is wrong, and what usually fixes it."""
    lines = text.splitlines()
    at = mark.line + 1 if mark is not None else 0
    column = mark.column + 1 if mark is not None else 0
    opened = context_mark.line + 1 if context_mark is not None else 0
    opened_column = context_mark.column + 1 if context_mark is not None else 0
    what = problem or ""
    where = context or ""

    tab = _tab_line(lines, (at, at - 1) if at else ())
    if tab is not None or (mark is not None and _line(lines, at)[column - 1 : column] == "\t"):
        number = tab or at
        return (
            f"line {number} is indented with a tab; YAML indents with spaces only: "
            "replace the tab with spaces (most editors have a setting to insert spaces)"
        )
    if "cannot start any token" in what:
        char = _line(lines, at)[column - 1 : column]
        return (
            f"a plain value cannot start with {char!r} (line {at}, column {column}): "
            f'put the value in quotes, e.g. "{char}..."'
        )
    if "did not find expected '-' indicator" in what:
        line = _line(lines, at)
        first = _line(lines, opened)
        key_column = _item_key_column(first)
        where_keys = (
            f"under the item's first key (column {key_column})" if key_column else "under the item"
        )
        return (
            f"line {at} breaks the list that starts at line {opened}: a list item starts with "
            f"`- ` at column {opened_column}; to continue the item above, indent line {at} "
            f"{where_keys}; to start a new item, begin it with `- ` "
            f"(line {at} starts at column {_indent(line) + 1})"
        )
    if "did not find expected key" in what:
        line = _line(lines, at)
        return (
            f"line {at} is not lined up with the keys before it: the keys of one mapping start "
            f"in the same column (this one starts at column {_indent(line) + 1}); fix its "
            "indentation (spaces only), or, if it starts a new list item, begin it with `- `"
        )
    if "mapping values are not allowed" in what:
        line, above = _line(lines, at), _line(lines, at - 1)
        if at > 1 and _indent(line) > _indent(above) and ": " in above.strip():
            return (
                f"line {at} is indented more than the key on line {at - 1}, so YAML reads it "
                f"as more of that key's value: line it up with line {at - 1} "
                f"(column {_indent(above) + 1})"
            )
        return (
            f"unexpected ':' at line {at}, column {column}: a value that contains ': ' needs "
            'quotes (key: "text: more text"), and a key goes on a line of its own; also check '
            "that the line above is not a key without its ':'"
        )
    if "could not find expected ':'" in what:
        return (
            f"line {opened} has a key without ':' (or a value that runs onto the next line): "
            "write `key: value`, and put a value that spans lines in quotes"
        )
    if "quoted scalar" in where and "end of stream" in what:
        return (
            f"the quote opened at line {opened}, column {opened_column} is never closed: "
            "add the closing quote"
        )
    if "flow sequence" in where or "flow mapping" in where:
        pair = "[ ]" if "sequence" in where else "{ }"
        return (
            f"the {pair[0]} opened at line {opened}, column {opened_column} is not closed where "
            f"expected (at line {at}, column {column}): close it with {pair[2]}, and separate "
            "its items with ','"
        )
    if "undefined alias" in what:
        return (
            f"line {at}, column {column} uses an alias `*name` whose anchor `&name` is not "
            "defined before it: define the anchor first, or quote a value that starts with '*'"
        )
    return "check the indentation (spaces only) and quote values that contain ': ' or ' #'"


def explain(
    text: str, context: str | None, problem: str | None, context_mark: Any, mark: Any
) -> str:
    """The message: plain words first, the parser's words after them."""
    parser = " ".join(p for p in (context, problem) if p)
    return f"{plain_words(text, context, problem, context_mark, mark)} (YAML parser: {parser})"
