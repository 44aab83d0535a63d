"""A Worker's settings as the API checks, stores and returns them (§4.4, N9).

Observability, logpush and tail consumers live on the script (`…/script-settings`, also
accepted in an upload's metadata and in `…/settings`); limits, placement and the usage
model live on the version (upload metadata, `PATCH …/settings`). What comes back is the
real API's shape, defaults filled in: `head_sampling_rate: 1` where none was set (what a
live `script-settings` read shows), `logs`/`traces` with `head_sampling_rate: 1`,
`persist: true` and `destinations: []` (TF provider #7155, #7197 saw the API answer with
these defaults, not with what was sent), so a client that compares what it sent with what
it reads must know the defaults. Nothing else is invented.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.bindings import invalid
from reconciler.emulator.envelope import ApiFailure
from reconciler.emulator.routing import Ctx

USAGE_MODELS = ("standard", "bundled", "unbound")
PROPAGATION_POLICIES = ("authenticated", "accept")
# One placement target: a cloud region ("provider:region"), an HTTP hostname, a TCP host:port.
PLACEMENT_TARGETS = ("region", "hostname", "host")


def _rate(where: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise invalid(f"{where}.head_sampling_rate must be a number from 0 to 1")
    return value


def _bool(where: str, d: dict[str, Any], key: str, required: bool = False) -> None:
    if key not in d:
        if required:
            raise invalid(f"{where}.{key} is required")
        return
    if not isinstance(d[key], bool):
        raise invalid(f"{where}.{key} must be a boolean")


def _strings(where: str, value: Any) -> None:
    if value is not None and (
        not isinstance(value, list) or not all(isinstance(x, str) for x in value)
    ):
        raise invalid(f"{where} must be an array of strings")


def check_observability(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid("observability must be an object")
    known = {"enabled", "head_sampling_rate", "logs", "traces", "issues", "redact_query_string"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise invalid(f"Unknown observability field(s): {', '.join(unknown)}")
    _bool("observability", value, "enabled", required=True)
    _bool("observability", value, "redact_query_string")
    _rate("observability", value.get("head_sampling_rate"))
    for part, required in (("logs", ("enabled", "invocation_logs")), ("traces", ())):
        sub = value.get(part)
        if sub is None:
            continue
        where = f"observability.{part}"
        if not isinstance(sub, dict):
            raise invalid(f"{where} must be an object")
        fields = {"enabled", "head_sampling_rate", "persist", "destinations"}
        fields |= {"invocation_logs"} if part == "logs" else {"propagation_policy"}
        unknown = sorted(set(sub) - fields)
        if unknown:
            raise invalid(f"Unknown {where} field(s): {', '.join(unknown)}")
        for key in ("enabled", "persist", "invocation_logs"):
            _bool(where, sub, key, required=key in required)
        _rate(where, sub.get("head_sampling_rate"))
        _strings(f"{where}.destinations", sub.get("destinations"))
        policy = sub.get("propagation_policy")
        if policy is not None and policy not in PROPAGATION_POLICIES:
            raise invalid(f"{where}.propagation_policy must be authenticated or accept")
    issues = value.get("issues")
    if issues is not None:
        if not isinstance(issues, dict) or set(issues) - {"enabled"}:
            raise invalid("observability.issues must be {enabled: bool}")
        _bool("observability.issues", issues, "enabled")


def observability_form(value: dict[str, Any] | None) -> dict[str, Any]:
    """What the API stores and returns for a written observability (None: turned off)."""
    if value is None:
        return {"enabled": False, "head_sampling_rate": 1}
    rate = value.get("head_sampling_rate")
    out: dict[str, Any] = {
        "enabled": value["enabled"],
        "head_sampling_rate": 1 if rate is None else rate,
    }
    for part in ("logs", "traces"):
        sub = value.get(part)
        if sub is None:
            continue
        filled = dict(sub)
        if filled.get("head_sampling_rate") is None:
            filled["head_sampling_rate"] = 1
        filled.setdefault("persist", True)
        if filled.get("destinations") is None:
            filled["destinations"] = []
        if part == "traces" and filled.get("propagation_policy") is None:
            filled.pop("propagation_policy", None)  # null until the feature is on: left out
        out[part] = filled
    for key in ("issues", "redact_query_string"):
        if value.get(key) is not None:
            out[key] = value[key]
    return out


def check_placement(value: Any) -> None:
    """`{mode: smart}`, `{region|hostname|host}`, the same with `mode: targeted`, or
    `{mode: targeted, target: [one of those]}` (the SDK's union)."""
    if value is None or value == {}:
        return
    if not isinstance(value, dict):
        raise invalid("placement must be an object")
    mode = value.get("mode")
    given = [k for k in PLACEMENT_TARGETS if k in value]
    rest = set(value) - {"mode", "target", *PLACEMENT_TARGETS}
    bad = (
        "placement must be {mode: smart}, {region|hostname|host: ...}, or those with mode: targeted"
    )
    if rest:
        raise invalid(f"Unknown placement field(s): {', '.join(sorted(rest))}; {bad}")
    if mode == "smart":
        if given or "target" in value:
            raise invalid(f"smart placement takes no target; {bad}")
        return
    if mode not in (None, "targeted"):
        raise invalid(f"placement.mode must be smart or targeted; {bad}")
    if "target" in value:
        targets = value["target"]
        if mode != "targeted" or given or not isinstance(targets, list) or len(targets) != 1:
            raise invalid("placement.target takes exactly one target, with mode: targeted")
        check_placement({"mode": "targeted", **targets[0]} if isinstance(targets[0], dict) else 0)
        return
    if len(given) != 1 or not isinstance(value[given[0]], str) or not value[given[0]]:
        raise invalid(bad)


def check_limits(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid("limits must be an object")
    unknown = sorted(set(value) - {"cpu_ms", "subrequests"})
    if unknown:
        raise invalid(f"Unknown limits field(s): {', '.join(unknown)}")
    for key in ("cpu_ms", "subrequests"):
        v = value.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise invalid(f"limits.{key} must be a positive integer")


def check_tail_consumers(ctx: Ctx, value: Any, producer: str) -> None:
    """Each consumer names a Worker of this account (a dispatch namespace's is not checked).

    Emulator choice: a consumer that does not exist is refused at upload, so the producer
    must come after it (Cloudflare's docs: deploy the Tail Worker first).
    """
    if value is None:
        return
    if not isinstance(value, list):
        raise invalid("tail_consumers must be an array of {service, environment?, namespace?}")
    for t in value:
        if not isinstance(t, dict) or not isinstance(t.get("service"), str) or not t["service"]:
            raise invalid("tail_consumers must be an array of {service, environment?, namespace?}")
        unknown = sorted(set(t) - {"service", "environment", "namespace"})
        if unknown:
            raise invalid(f"Unknown tail consumer field(s): {', '.join(unknown)}")
        for key in ("environment", "namespace"):
            if t.get(key) is not None and not isinstance(t[key], str):
                raise invalid(f"tail_consumers[].{key} must be a string")
        if t.get("namespace") or t["service"] == producer:
            continue
        found = ctx.conn.execute(
            "SELECT 1 FROM scripts WHERE account_id = ? AND name = ?",
            (ctx.account_id, t["service"]),
        ).fetchone()
        if found is None:
            raise ApiFailure(
                400, 10021,
                f"Tail consumer '{t['service']}' does not exist on this account; "
                "deploy the Tail Worker first",
            )  # fmt: skip
