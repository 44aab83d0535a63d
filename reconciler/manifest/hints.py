"""What a validation message teaches: the nearest known key, the expected shape with an example.

The keys known at a spot come from the pydantic models themselves (walked along the path,
a binding narrowed by its `type`), so a new manifest key is suggested without a table here.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from reconciler.manifest.models import ManifestDocument
from reconciler.yamlpos import PathKey

# Examples for keys whose shape is not obvious from their name; others are built from the input.
_EXAMPLES: dict[str, str] = {
    "scopes": "scopes: [workers]",
    "compatibility_flags": "compatibility_flags: [nodejs_compat]",
    "modules": "modules: [lib/util.js]",
    "bindings": "bindings: [{type: plain_text, name: GREETING, text: hello}]",
    "command": "command: [op, read, op://vault/stripe/key]",
    "value_from": "value_from: {env: STRIPE_KEY}",
    "sops": "sops: {file: secrets.enc.yaml, key: stripe.live}",
    "aws_secretsmanager": "aws_secretsmanager: {secret_id: prod/stripe, key: api_key}",
    "stores": "stores: [{name: main}]",
    "secrets": (
        "secrets: [{name: STRIPE_KEY, store: main, scopes: [workers], "
        "value_from: {env: STRIPE_KEY}}]"
    ),
    "workers": "workers: [{name: api, script: workers/api.js}]",
}
SHAPES = ("list_type", "dict_type", "model_type", "model_attributes_type", "string_type")


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an annotation, Annotated and Optional removed."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [a for arg in get_args(annotation) for a in _unwrap(arg) if a is not type(None)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _narrow(models: list[Any], node: Any) -> list[Any]:
    """Of a union of models, the ones whose `type` literal matches the data's `type`."""
    if not isinstance(node, dict) or "type" not in node or len(models) < 2:
        return models
    matching = [
        m
        for m in models
        if _is_model(m)
        and any(
            node["type"] in get_args(a)
            for a in _unwrap(_field(m, "type"))
            if get_origin(a) is Literal
        )
    ]
    return matching or models


def _child(node: Any, step: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


def models_at(data: Any, path: PathKey) -> list[type[BaseModel]]:
    """The models that describe the mapping at `path` of a document (empty if none does)."""
    current: list[Any] = [ManifestDocument]
    node = data
    for step in path:
        following: list[Any] = []
        for annotation in current:
            origin = get_origin(annotation)
            if isinstance(step, int) and origin in (list, tuple):
                following += _unwrap(get_args(annotation)[0])
            elif isinstance(step, str) and origin is dict:
                following += _unwrap(get_args(annotation)[1])
            elif isinstance(step, str) and _is_model(annotation):
                found = _field(annotation, step)
                following += _unwrap(found) if found is not None else []
        node = _child(node, step)
        current = _narrow(following, node)
    return [m for m in current if _is_model(m)]


def known_keys(data: Any, parent: PathKey) -> list[str]:
    keys: list[str] = []
    for model in models_at(data, parent):
        keys += [k for k in _keys(model) if k not in keys]
    return keys


def suggestion(data: Any, path: PathKey) -> str | None:
    """The known key nearest to the unknown one at `path`, if one is near enough."""
    if not path or not isinstance(path[-1], str):
        return None
    found = difflib.get_close_matches(path[-1], known_keys(data, path[:-1]), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_key(data: Any, path: PathKey) -> str:
    """`unknown key 'value_form'; did you mean 'value_from'? ...` for the key at `path`."""
    key = str(path[-1])
    keys = known_keys(data, path[:-1])
    nearest = suggestion(data, path)
    guess = f"did you mean {nearest!r}? " if nearest else ""
    if not keys:
        return f"unknown key {key!r}; remove it"
    required = ""
    if nearest:
        for model in models_at(data, path[:-1]):
            for name, info in model.model_fields.items():
                if nearest in (name, info.alias) and info.is_required():
                    required = f" ({nearest!r} is required)"
    return f"unknown key {key!r}; {guess}expected one of: {', '.join(keys)}{required}"


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _model_example(field_name: str, data: Any, path: PathKey) -> str:
    for model in models_at(data, path):
        required = [k for k, info in model.model_fields.items() if info.is_required()]
        keys = [model.model_fields[k].alias or k for k in required] or _keys(model)[:2]
        return f"{field_name}: {{{', '.join(f'{k}: ...' for k in keys)}}}"
    return f"{field_name}: {{key: value}}"


def expected_shape(data: Any, path: PathKey, field_name: str, kind: str, given: Any) -> str:
    """`scopes: workers` -> "scopes must be a list, e.g. `scopes: [workers]`"."""
    got = _describe(given)
    if kind == "list_type":
        value = _scalar(given)
        example = f"{field_name}: [{value}]" if value else _EXAMPLES.get(field_name)
        example = example or f"{field_name}: [first, second]"
        return (
            f"{field_name} must be a list, not {got}; write it in brackets or one `- ` line "
            f"per item, e.g. `{example}`"
        )
    if kind == "string_type":
        return f"{field_name} must be text, not {got}, e.g. `{field_name}: some-text`"
    example = _EXAMPLES.get(field_name) or _model_example(field_name, data, path)
    return f"{field_name} must be a mapping of keys to values, not {got}, e.g. `{_inline(example)}`"


def _inline(example: str) -> str:
    """A multi-line example as one line of a message ('\n' shown as ' / ')."""
    return " / ".join(part.strip() for part in example.splitlines())


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    text = _scalar(value)
    return f"the text {text!r}" if isinstance(value, str) else f"the value {text}"
