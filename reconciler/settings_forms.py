"""A Worker's settings: where each lives, its default, and the one form both sides compare in.

The API spells an unset setting many ways (absent, `null`, `{}`, `[]`, or the default value
filled in: `head_sampling_rate: 1`, `persist: true`, `destinations: []`), and Terraform users
met the perpetual diffs that follow (TF #7155, #7197). Every form here compares equal to
the default it stands for, so a plan after an apply is empty however the API answers.
The observability defaults are the ones wrangler fills in to compare its configuration with
the remote one (`normalizeObservability`, wrangler 4.86.0):

- `observability` (on the script, `…/script-settings`): `{enabled: false,
  head_sampling_rate: 1}`; its `logs`: `enabled` as the top-level `enabled`,
  `invocation_logs: true`, `head_sampling_rate: 1`, `persist: true`, `destinations: []`;
  its `traces`: `enabled: false`, `head_sampling_rate: 1`, `persist: true`, `destinations: []`.
- `logpush` (script): `false`.
- `tail_consumers` (script): `[]`; a set, so order and duplicates do not count.
- `placement` (on the version: upload metadata, `…/settings`): `{}`, none; `{region}` is
  `{mode: targeted, region}`, and a one-target `target` list is that target.
- `limits` (version): `{}`, the plan's limits.
- `usage_model` (version): `standard`.

Three observability fields whose default the API does not document, or that answer `null`
until an account feature is on (`issues`, `redact_query_string`,
`traces.propagation_policy`), are compared and written only when the manifest sets them.
Imports nothing above the shared model.
"""

from __future__ import annotations

from typing import Any, Final

SCRIPT_KEYS: Final = ("observability", "logpush", "tail_consumers")
VERSION_KEYS: Final = ("placement", "limits", "usage_model")
KEYS: Final = ("observability", "logpush", "tail_consumers", "placement", "limits", "usage_model")
# Observability fields compared and written only when the manifest sets them.
OPTIONAL_OBSERVABILITY: Final = ("issues", "redact_query_string")
OPTIONAL_TRACES: Final = ("propagation_policy",)
# Read-only fields the list item adds to `placement` (Smart Placement's analysis).
PLACEMENT_READ_ONLY: Final = ("last_analyzed_at", "status")
PLACEMENT_TARGETS: Final = ("region", "hostname", "host")


def _rate(value: Any) -> float:
    return 1.0 if value is None or isinstance(value, bool) else float(value)


def _flag(value: Any, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _destinations(value: Any) -> list[str]:
    return [str(d) for d in value] if isinstance(value, list) else []


def observability(value: Any, declared: Any = None) -> dict[str, Any]:
    """The full form: every field with its default filled in, as written and compared.

    `declared` is the manifest's value: its optional fields (`OPTIONAL_*`) are kept, and
    only those (a live value's are dropped unless the manifest names them too).
    """
    v, want = _dict(value), _dict(declared)
    enabled = _flag(v.get("enabled"), False)
    logs, traces = _dict(v.get("logs")), _dict(v.get("traces"))
    out: dict[str, Any] = {
        "enabled": enabled,
        "head_sampling_rate": _rate(v.get("head_sampling_rate")),
        "logs": {
            "enabled": _flag(logs.get("enabled"), enabled),
            "invocation_logs": _flag(logs.get("invocation_logs"), True),
            "head_sampling_rate": _rate(logs.get("head_sampling_rate")),
            "persist": _flag(logs.get("persist"), True),
            "destinations": _destinations(logs.get("destinations")),
        },
        "traces": {
            "enabled": _flag(traces.get("enabled"), False),
            "head_sampling_rate": _rate(traces.get("head_sampling_rate")),
            "persist": _flag(traces.get("persist"), True),
            "destinations": _destinations(traces.get("destinations")),
        },
    }
    for key in OPTIONAL_OBSERVABILITY:
        if want.get(key) is not None:
            out[key] = v.get(key)
    for key in OPTIONAL_TRACES:
        if _dict(want.get("traces")).get(key) is not None:
            # null until the account has the feature: its documented default.
            out["traces"][key] = traces.get(key) or "authenticated"
    return out


def tail_consumers(value: Any) -> list[dict[str, str]]:
    """A set of `{service, environment?, namespace?}`, sorted; empty fields dropped."""
    items = value if isinstance(value, list) else []
    out = {
        tuple(sorted((k, str(t[k])) for k in ("service", "environment", "namespace") if t.get(k)))
        for t in items
        if isinstance(t, dict)
    }
    return [dict(pairs) for pairs in sorted(out)]


def placement(value: Any) -> dict[str, Any]:
    """`{}` for none; `{mode: smart}`; `{mode: targeted, <region|hostname|host>: ...}`."""
    v = {k: x for k, x in _dict(value).items() if x is not None and k not in PLACEMENT_READ_ONLY}
    if v.get("mode") == "smart":
        return {"mode": "smart"}
    targets = v.pop("target", None)
    if isinstance(targets, list) and len(targets) == 1 and isinstance(targets[0], dict):
        v.update({k: x for k, x in targets[0].items() if k in PLACEMENT_TARGETS})
    elif targets is not None:
        v["target"] = targets
    if any(k in v for k in PLACEMENT_TARGETS):
        v["mode"] = "targeted"
    return dict(sorted(v.items()))


def limits(value: Any) -> dict[str, Any]:
    return {k: x for k, x in sorted(_dict(value).items()) if x is not None}


def logpush(value: Any) -> bool:
    return value is True


def usage_model(value: Any) -> str:
    return value if isinstance(value, str) and value else "standard"


def canonical(key: str, value: Any, declared: Any = None) -> Any:
    """The form `key` compares in; `declared` (the manifest's value) for observability."""
    if key == "observability":
        return observability(value, declared)
    return _FORMS[key](value)


def written(key: str, declared: Any) -> Any:
    """What apply sends for a managed key: observability whole, with its defaults, so the
    account ends up exactly as compared whether the API merges or replaces; the rest as
    the manifest says (placement in the manifest's own form)."""
    if key == "observability":
        return observability(declared, declared)
    if key == "tail_consumers":
        return tail_consumers(declared)
    if key in ("placement", "limits"):
        return {k: x for k, x in _dict(declared).items() if x is not None}
    return _FORMS[key](declared)


def carried(key: str, live: Any) -> Any:
    """A version setting the manifest leaves alone, as an upload must send it to keep it
    (an upload makes a version without the ones it leaves out); None: nothing to keep."""
    if key not in VERSION_KEYS or is_default(key, live):
        return None
    if key == "placement":
        return {
            k: x for k, x in _dict(live).items() if x is not None and k not in PLACEMENT_READ_ONLY
        }
    return canonical(key, live)


def exported(key: str, live: Any) -> Any:
    """The manifest form of a live value: what plans equal to it, defaults left out inside
    observability (the rest are short anyway)."""
    if key == "placement":
        return {
            k: x for k, x in _dict(live).items() if x is not None and k not in PLACEMENT_READ_ONLY
        }
    if key != "observability":
        return canonical(key, live)
    full = observability(live, live)
    default = observability({"enabled": full["enabled"]})
    out: dict[str, Any] = {"enabled": full["enabled"]}
    if full["head_sampling_rate"] != default["head_sampling_rate"]:
        out["head_sampling_rate"] = full["head_sampling_rate"]
    for part in ("logs", "traces"):
        changed = {k: x for k, x in full[part].items() if default[part].get(k) != x}
        if changed:
            out[part] = changed
    out.update({k: full[k] for k in OPTIONAL_OBSERVABILITY if k in full})
    return out


def is_default(key: str, value: Any) -> bool:
    return bool(canonical(key, value) == canonical(key, None))


_FORMS: Final = {
    "tail_consumers": tail_consumers,
    "placement": placement,
    "limits": limits,
    "logpush": logpush,
    "usage_model": usage_model,
}
