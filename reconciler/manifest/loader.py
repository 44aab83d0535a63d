"""Find manifest files, parse them with positions and validate each document's shape.

Cross-file checks and the build of the Desired state live in merge.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from reconciler.errors import Location, Problem
from reconciler.file_policy import MAX_MANIFEST_BYTES, FileRefusedError, read_manifest_file
from reconciler.manifest.hints import SHAPES as _SHAPES
from reconciler.manifest.hints import expected_shape, suggestion, unknown_key
from reconciler.manifest.models import (
    BINDING_TYPES,
    EXTENSION_PREFIX,
    OWN_BINDING_TYPES,
    UNDECLARABLE_BINDINGS,
    AccountId,
    SecretSpec,
    StoreSpec,
    WorkerSpec,
)
from reconciler.openapi import bindings as openapi_bindings
from reconciler.state import SCOPES
from reconciler.yamlpos import PathKey, PositionedDocument, load_documents

SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadedDocument:
    """A document's valid items with their indexes, where it came from, and node positions.

    Items are validated one by one so that one bad entry hides nothing else; the
    names of invalid entries are kept so cross-checks do not call them undeclared.
    """

    path: Path
    positions: PositionedDocument
    account_id: str | None = None
    stores: list[tuple[int, StoreSpec]] = field(default_factory=list)
    secrets: list[tuple[int, SecretSpec]] = field(default_factory=list)
    workers: list[tuple[int, WorkerSpec]] = field(default_factory=list)
    invalid: set[tuple[str, str]] = field(default_factory=set)
    # Entries that failed validation, as written: their files are still checked, so a bad
    # name does not hide a missing script.
    rejected: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    # The file's bytes as read once; the manifest digest hashes these, never a second read.
    raw: bytes = b""

    def at(self, *path: str | int) -> Location:
        return self.positions.locate(path)


_SECTIONS: dict[str, type[BaseModel]] = {
    "stores": StoreSpec,
    "secrets": SecretSpec,
    "workers": WorkerSpec,
}
_ACCOUNT = TypeAdapter(AccountId)


def _validate_document(path: Path, doc: PositionedDocument) -> tuple[LoadedDocument, list[Problem]]:
    loaded = LoadedDocument(path, doc)
    problems: list[Problem] = []
    data = doc.data
    assert isinstance(data, dict)
    for key in data:
        if key != "account_id" and key not in _SECTIONS and not key.startswith(EXTENSION_PREFIX):
            problems.append(Problem(doc.keys[(key,)], unknown_key(doc.data, (key,))))
    if data.get("account_id") is not None:
        try:
            loaded.account_id = _ACCOUNT.validate_python(data["account_id"])
        except ValidationError as exc:
            problems.extend(_problem(doc, err, ("account_id",)) for err in exc.errors())
    for section, model in _SECTIONS.items():
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            shape = expected_shape(data, (section,), section, "list_type", items)
            problems.append(Problem(doc.locate((section,)), shape))
            continue
        for i, item in enumerate(items):
            found = _binding_problems(doc, (section, i), item) if section == "workers" else []
            try:
                spec = model.model_validate(item)
            except ValidationError as exc:
                found.extend(_item_problems(doc, exc.errors(), (section, i)))
            else:
                if not found:
                    getattr(loaded, section).append((i, spec))
                    continue
            problems.extend(found)
            if isinstance(item, dict):
                loaded.rejected.append((section, i, item))
                if isinstance(item.get("name"), str):
                    loaded.invalid.add((section, item["name"]))
    return loaded, problems


def _binding_problems(doc: PositionedDocument, at: PathKey, worker: Any) -> list[Problem]:
    """API-typed bindings checked against Cloudflare's schema, each problem at its spot."""
    bindings = worker.get("bindings") if isinstance(worker, dict) else None
    out: list[Problem] = []
    for j, binding in enumerate(bindings if isinstance(bindings, list) else []):
        if not isinstance(binding, dict) or not isinstance(binding.get("type"), str):
            continue  # the model says what is missing
        type_, prefix = binding["type"], (*at, "bindings", j)
        if type_ in OWN_BINDING_TYPES:
            continue
        if type_ in UNDECLARABLE_BINDINGS:
            out.append(
                Problem(
                    doc.locate((*prefix, "type")),
                    f"a {type_} binding cannot be declared: {UNDECLARABLE_BINDINGS[type_]}",
                )
            )
            continue
        if type_ not in BINDING_TYPES:
            out.append(
                Problem(
                    doc.locate((*prefix, "type")),
                    f"unknown binding type {type_!r}; expected one of: {', '.join(BINDING_TYPES)}",
                )
            )
            continue
        for issue in openapi_bindings.check(binding):
            path = (*prefix, *issue.path)
            where = doc.keys.get(path, doc.locate(path)) if issue.at_key else doc.locate(path)
            message = issue.message
            if issue.expected == "string" and _yaml_typed(issue.value):
                message = (
                    f"{issue.path[-1]}: YAML reads {_yaml_text(issue.value)} as a "
                    f"{_yaml_typed(issue.value)}; write it in quotes to keep it text"
                )
            out.append(Problem(where, message))
    return out


def discover(
    paths: Sequence[str | Path], *, allow_outside_files: bool = False
) -> tuple[list[Path], list[Problem]]:
    """Expand files and directories (recursively, sorted) into manifest files.

    A file found in a directory that is a symbolic link leading out of it is refused like any
    other file a manifest set names (a link to a credentials file would be parsed and echoed).
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            if not found:
                problems.append(
                    Problem(
                        Location(str(path)), "no *.yaml or *.yml manifest files in this directory"
                    )
                )
            if not allow_outside_files:
                found, outside = _inside(path, found)
                problems.extend(
                    Problem(
                        Location(str(p)),
                        f"this manifest file is a symbolic link that leads outside {path}; "
                        "remove it or pass --allow-outside-files",
                    )
                    for p in outside
                )
            files.extend(found)
        elif path.exists():  # a FIFO or device is refused when read, with its kind
            files.append(path)
        else:
            problems.append(Problem(Location(str(path)), "no such file or directory"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return [_display(p) for p in unique], problems


def _inside(root: Path, found: list[Path]) -> tuple[list[Path], list[Path]]:
    real_root = root.resolve()
    inside = [p for p in found if p.resolve().is_relative_to(real_root)]
    return inside, [p for p in found if p not in inside]


def _display(path: Path) -> Path:
    """Paths relative to the working directory read better in messages."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


_MANIFEST_TOO_LARGE = (
    f"is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB; split the manifests into "
    "smaller files"
)


def read_text(path: Path) -> tuple[bytes, str | None, Problem | None]:
    """A manifest file's bytes and text (bounded, regular files only), or the problem."""
    try:
        raw = read_manifest_file(
            path, root=None, limit=MAX_MANIFEST_BYTES, too_large=_MANIFEST_TOO_LARGE
        )
    except FileRefusedError as exc:
        return b"", None, Problem(Location(str(path)), f"this manifest file {exc}")
    if b"\0" in raw:
        return raw, None, Problem(Location(str(path)), "this is a binary file, not a YAML manifest")
    try:
        return raw, raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return (
            raw,
            None,
            Problem(
                Location(str(path)),
                f"not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8",
            ),
        )


def load_documents_from(files: Sequence[Path]) -> tuple[list[LoadedDocument], list[Problem]]:
    """Parse and validate every document of every file, collecting all problems."""
    documents: list[LoadedDocument] = []
    problems: list[Problem] = []
    for path in files:
        raw, text, problem = read_text(path)
        if problem is not None or text is None:
            problems.extend([problem] if problem else [])
            continue
        parsed, parse_problems = load_documents(str(path), text)
        problems.extend(parse_problems)
        for doc in parsed:
            if _is_sops_file(doc.data):
                continue  # an encrypted file beside the manifests, read by a sops source
            if not isinstance(doc.data, dict):
                kind = type(doc.data).__name__
                problems.append(
                    Problem(
                        doc.locate(()),
                        f"a manifest document must be a mapping with keys account_id, stores, "
                        f"secrets, workers; got a {kind}",
                    )
                )
                continue
            loaded, invalid = _validate_document(path, doc)
            loaded.raw = raw
            documents.append(loaded)
            problems.extend(invalid)
    return documents, problems


def _is_sops_file(data: Any) -> bool:
    """sops writes its metadata under a top-level `sops` key with a `mac`: no manifest has one."""
    return isinstance(data, dict) and isinstance(data.get("sops"), dict) and "mac" in data["sops"]


def _data_path(data: Any, loc: tuple[str | int, ...]) -> PathKey:
    """Pydantic locations include union tags; keep only the steps that index the data."""
    path: list[str | int] = []
    node = data
    for step in loc:
        in_dict = isinstance(node, dict) and step in node
        in_list = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if in_dict or in_list:
            node = node[step]
        elif step == "json_" and isinstance(node, dict) and "json" in node:
            step, node = "json", node["json"]
        else:
            continue
        path.append(step)
    return tuple(path)


def _problem(doc: PositionedDocument, err: ErrorDetails, prefix: PathKey) -> Problem:
    loc = (*prefix, *err["loc"])
    path = _data_path(doc.data, loc)
    field_name = str(loc[-1]) if loc else "document"
    kind = err["type"]
    if kind == "extra_forbidden":
        where = doc.keys.get(path, doc.locate(path))
        return Problem(where, unknown_key(doc.data, path))
    if kind == "missing":
        return Problem(doc.locate(path), f"missing required key {field_name!r}")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = err.get("input", {}).get("type") if isinstance(err.get("input"), dict) else None
        got = f"unknown binding type {tag!r}" if tag else "a binding needs a `type`"
        return Problem(
            doc.locate((*path, "type")), f"{got}; expected one of: {', '.join(BINDING_TYPES)}"
        )
    message = err["msg"].removeprefix("Value error, ")
    if kind == "too_short" and field_name == "scopes":
        message = f"scopes must list at least one of: {', '.join(SCOPES)}"
    elif kind == "literal_error" and isinstance(loc[-1], int) and "scopes" in loc:
        message = f"unknown scope {err.get('input')!r}; {err['msg'].lower()}"
    elif kind in ("string_type", "invalid-json-value") and _yaml_typed(err.get("input")):
        got = err.get("input")
        message = (
            f"{field_name}: YAML reads {_yaml_text(got)} as a {_yaml_typed(got)}; "
            "write it in quotes to keep it text"
        )
    elif kind in _SHAPES:
        message = expected_shape(doc.data, path, field_name, kind, err.get("input"))
    return Problem(doc.locate(path), message)


def _yaml_typed(value: object) -> str:
    """What YAML made of an unquoted scalar that was meant as text ('' if text)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, bytes):
        return "binary value"
    return ""


def _yaml_text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else repr(value)


def _item_problems(
    doc: PositionedDocument, errors: list[ErrorDetails], prefix: PathKey
) -> list[Problem]:
    """One entry's problems; a misspelt required key is one problem, not two ("unknown key
    'value_form'; did you mean 'value_from'?" says what "missing 'value_from'" would)."""
    problems = [_problem(doc, err, prefix) for err in errors]
    suggested = {
        (_data_path(doc.data, (*prefix, *e["loc"]))[:-1], nearest)
        for e in errors
        if e["type"] == "extra_forbidden" and e["loc"]
        for nearest in [suggestion(doc.data, _data_path(doc.data, (*prefix, *e["loc"])))]
        if nearest
    }
    kept = []
    for err, problem in zip(errors, problems, strict=True):
        path = _data_path(doc.data, (*prefix, *err["loc"]))
        if err["type"] == "missing" and err["loc"] and (path, str(err["loc"][-1])) in suggested:
            continue
        kept.append(problem)
    return kept
