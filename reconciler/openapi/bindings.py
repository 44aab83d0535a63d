"""Worker binding kinds as Cloudflare's OpenAPI schema defines them, and checks derived from it.

Every binding type, its required fields and their shapes come from `workers-bindings.json`
(verbatim from cloudflare/api-schemas): the manifest validator, the editor schema, the
emulator and the comparison all read them here, so a refreshed schema refreshes all four.
The schema's own annotations drive comparison: `default` values equal their absence,
`x-stainless-collection-type: set` lists compare unordered, a field the server fills in
when left out (`x-stainless-terraform-configurability: computed_optional`) is compared only
when declared, and a deprecated field renamed to another (d1's `id`) is read as the new one.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

PathKey = tuple[str | int, ...]

_DOC: dict[str, Any] = json.loads(
    files("reconciler.openapi").joinpath("workers-bindings.json").read_text("utf-8")
)
SCHEMAS: dict[str, Any] = _DOC["components"]["schemas"]
SOURCE: dict[str, Any] = _DOC["x-source"]
_RENAMED = re.compile(r"renamed to `([a-z_]+)`")
_REF = "#/components/schemas/"


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A property schema with `$ref`s followed and `allOf` parts merged into one."""
    if "$ref" in schema:
        return resolve(SCHEMAS[schema["$ref"].removeprefix(_REF)])
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(resolve(part))
        merged.update({k: v for k, v in schema.items() if k != "allOf"})
        return merged
    return schema


@dataclass(frozen=True)
class Kind:
    """One binding type: its fields (besides `name` and `type`) as the schema gives them."""

    type: str
    properties: dict[str, dict[str, Any]]
    required: tuple[str, ...]
    deprecated: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)
    computed: frozenset[str] = frozenset()
    sets: frozenset[str] = frozenset()
    write_only: frozenset[str] = frozenset()
    # deprecated field -> the field it was renamed to
    aliases: dict[str, str] = field(default_factory=dict)


def _kind(type_: str, schema: dict[str, Any]) -> Kind:
    props = {k: resolve(v) for k, v in schema.get("properties", {}).items()}
    type_schema = props.pop("type", {})
    props.pop("name", None)
    aliases = {}
    for key, prop in props.items():
        found = _RENAMED.search(prop.get("x-stainless-deprecation-message", ""))
        if prop.get("deprecated") and found and found.group(1) in props:
            aliases[key] = found.group(1)
    return Kind(
        type=type_,
        properties=props,
        required=tuple(r for r in schema.get("required", ()) if r not in ("name", "type")),
        deprecated=bool(type_schema.get("deprecated")),
        defaults={k: p["default"] for k, p in props.items() if "default" in p},
        computed=frozenset(
            k
            for k, p in props.items()
            if p.get("x-stainless-terraform-configurability") == "computed_optional"
        ),
        sets=frozenset(
            k for k, p in props.items() if p.get("x-stainless-collection-type") == "set"
        ),
        write_only=frozenset(k for k, p in props.items() if p.get("writeOnly")),
        aliases=aliases,
    )


KINDS: dict[str, Kind] = {
    type_: _kind(type_, SCHEMAS[ref.removeprefix(_REF)])
    for type_, ref in sorted(SCHEMAS["workers_binding_item"]["discriminator"]["mapping"].items())
}
TYPES: tuple[str, ...] = tuple(KINDS)


@dataclass(frozen=True)
class Issue:
    """One thing wrong with a binding, at `path` inside it.

    `at_key` says the path names a key that should not be there (point at the key);
    `expected` and `value` let a front end say more about a wrong scalar (what YAML made of it).
    """

    path: PathKey
    message: str
    at_key: bool = False
    expected: str = ""
    value: Any = None


_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


def unknown_type_message(type_: object) -> str:
    got = f"unknown binding type {type_!r}" if type_ is not None else "a binding needs a `type`"
    return f"{got}; expected one of: {', '.join(TYPES)}"


def check(binding: object, *, strict: bool = True) -> list[Issue]:
    """What is wrong with one binding as the API would receive it (`name` is the caller's).

    `strict` (manifests): keys the schema does not name are errors, and values must be
    plain JSON. Not strict (the emulator): unknown keys are the server's to ignore.
    """
    if not isinstance(binding, dict):
        return [Issue((), "a binding is a mapping with `type`, `name` and the fields of its type")]
    type_ = binding.get("type")
    if not isinstance(type_, str) or type_ not in KINDS:
        return [Issue(("type",) if "type" in binding else (), unknown_type_message(type_))]
    kind = KINDS[type_]
    issues: list[Issue] = []
    for key in kind.required:
        renamed_from = [old for old, new in kind.aliases.items() if new == key and old in binding]
        if key not in binding and not renamed_from:
            issues.append(Issue((key,), f"missing required key {key!r} for a {type_} binding"))
    for key, value in binding.items():
        if key in ("type", "name"):
            continue
        prop = kind.properties.get(key)
        if prop is None:
            if strict:
                issues.append(
                    Issue(
                        (key,),
                        f"unknown key {key!r} for a {type_} binding; "
                        + _expected_keys(key, kind.properties),
                        at_key=True,
                    )
                )
            continue
        issues.extend(_check_value(value, prop, (key,), strict))
    return issues


def _expected_keys(key: str, props: dict[str, Any]) -> str:
    names = ["name", *sorted(props)]
    near = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return f"{hint}it takes type, {', '.join(names)}"


def _check_value(value: Any, schema: dict[str, Any], path: PathKey, strict: bool) -> list[Issue]:
    schema = resolve(schema)
    where = str(path[-1])
    if value is None:
        return [Issue(path, f"{where}: null is not a value here; leave the key out instead")]
    if schema.get("x-stainless-any"):
        return _plain_json(value, path) if strict else []
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"])
        return [Issue(path, f"{where}: expected one of {allowed}; got {value!r}", value=value)]
    kind = schema.get("type")
    if kind is not None and not _is_type(value, kind):
        return [
            Issue(
                path,
                f"{where}: expected {_TYPE_WORDS.get(kind, kind)}, got {_describe(value)}",
                expected=kind,
                value=value,
            )
        ]
    if kind == "string":
        return _check_string(value, schema, path)
    if kind == "array":
        items = schema.get("items", {})
        return [
            i for n, item in enumerate(value) for i in _check_value(item, items, (*path, n), strict)
        ]
    if kind == "object" and "properties" in schema:
        return _check_object(value, schema, path, strict)
    if kind == "object" and strict:
        return _plain_json(value, path)
    return []


def _check_object(
    value: dict[str, Any], schema: dict[str, Any], path: PathKey, strict: bool
) -> list[Issue]:
    props: dict[str, Any] = schema["properties"]
    issues = [
        Issue((*path, req), f"{path[-1]}: missing required key {req!r}")
        for req in schema.get("required", ())
        if req not in value
    ]
    for key, item in value.items():
        if key in props:
            issues.extend(_check_value(item, props[key], (*path, key), strict))
        elif strict:
            issues.append(
                Issue(
                    (*path, key),
                    f"unknown key {key!r} in {path[-1]}; "
                    f"expected one of: {', '.join(sorted(props))}",
                    at_key=True,
                )
            )
    return issues


def _check_string(value: str, schema: dict[str, Any], path: PathKey) -> list[Issue]:
    limit = schema.get("maxLength")
    if isinstance(limit, int) and len(value) > limit:
        return [Issue(path, f"{path[-1]}: at most {limit} characters; got {len(value)}")]
    if schema.get("format") == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        return [Issue(path, f"{path[-1]}: expected an email address; got {value!r}")]
    return []


def _is_type(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return True


def _plain_json(value: Any, path: PathKey) -> list[Issue]:
    """Values YAML can hold but JSON cannot (dates, binary, non-text keys) are refused."""
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            if not isinstance(k, str):
                out.append(Issue(path, f"{path[-1]}: keys must be text, got {k!r}"))
            else:
                out.extend(_plain_json(v, (*path, k)))
        return out
    if isinstance(value, list):
        return [i for n, v in enumerate(value) for i in _plain_json(v, (*path, n))]
    if value is None or isinstance(value, str | bool | int | float):
        return []
    return [Issue(path, f"{path[-1]}: not a JSON value", expected="string", value=value)]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


# --- comparison ---------------------------------------------------------------------------

_EMPTY: tuple[Any, ...] = (None, "", [], {})


def normal_form(type_: str, params: dict[str, Any]) -> dict[str, Any]:
    """A binding's fields as compared: the same meaning always gives the same dict.

    Renamed fields under their new name, empty values and schema defaults left out, set
    lists sorted, whole floats as integers. Applied to both sides, so never lossy for a diff.
    """
    kind = KINDS.get(type_)
    if kind is None:
        return {k: _number(v) for k, v in params.items() if v not in _EMPTY}
    out: dict[str, Any] = {}
    for key, value in params.items():
        renamed = kind.aliases.get(key)
        if renamed is not None:
            if renamed in params:  # both spellings: the new one wins
                continue
            key = renamed
        value = _number(value)
        if kind.properties.get(key, {}).get("x-stainless-any"):
            if value is not None:  # the user's data (a json binding's value): {} is a value
                out[key] = value
            continue
        if value in _EMPTY or kind.defaults.get(key, _NO_DEFAULT) == value:
            continue
        if key in kind.sets and isinstance(value, list):
            value = sorted(value, key=lambda v: json.dumps(v, sort_keys=True))
        out[key] = value
    return dict(sorted(out.items()))


_NO_DEFAULT = object()


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


def undeclared_computed(type_: str, desired: dict[str, Any]) -> frozenset[str]:
    """Fields the server fills in that `desired` leaves out: not compared (no perpetual diff)."""
    kind = KINDS.get(type_)
    if kind is None:
        return frozenset()
    return frozenset(k for k in kind.computed if k not in desired)


def editor_schema(type_: str, name_schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema (2020-12) for one binding type, for editors: fields, required, no others."""
    kind = KINDS[type_]
    properties: dict[str, Any] = {
        "type": {"const": type_},
        "name": name_schema,
        **{k: _editor(v) for k, v in sorted(kind.properties.items())},
    }
    schema: dict[str, Any] = {
        "type": "object",
        "title": f"{type_} binding",
        "properties": properties,
        "required": ["type", "name", *kind.required],
        "additionalProperties": False,
    }
    for old, new in kind.aliases.items():  # either spelling satisfies `required`
        schema["required"] = ["type", "name", *(r for r in kind.required if r != new)]
        schema["anyOf"] = [{"required": [new]}, {"required": [old]}]
    return schema


_EDITOR_KEYS = ("type", "enum", "description", "maxLength", "format", "default", "required")


def _editor(schema: dict[str, Any]) -> dict[str, Any]:
    schema = resolve(schema)
    if schema.get("x-stainless-any"):
        return {"description": schema.get("description", "")}
    out: dict[str, Any] = {k: schema[k] for k in _EDITOR_KEYS if k in schema}
    if "items" in schema:
        out["items"] = _editor(schema["items"])
    if "properties" in schema:
        out["properties"] = {k: _editor(v) for k, v in sorted(schema["properties"].items())}
        out["additionalProperties"] = False
    return out


def check_shape(value: object, schema_name: str, path: PathKey = ()) -> list[Issue]:
    """`value` against one named component of the vendored schema (unknown keys allowed)."""
    return _check_value(value, SCHEMAS[schema_name], path or (schema_name,), strict=False)
