"""Hypothesis strategies for the Worker settings keys' manifest values, one per key.

Each draws a value the manifest format accepts, with the optional fields in and out and the
spellings of a default (`head_sampling_rate: 1`, `persist: true`, `{}`, `[]`), or `ABSENT`
(the key left out: not managed). Shared by the convergence properties.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

ABSENT: Any = object()  # the key is left out of the manifest

rates = st.sampled_from([0, 0.1, 0.5, 1, 1.0])
flags = st.booleans()


def _optional(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


def observability() -> st.SearchStrategy[Any]:
    destinations = st.lists(st.sampled_from(["otel", "datadog"]), max_size=2, unique=True)
    logs = _optional(
        {
            "enabled": flags,
            "invocation_logs": flags,
            "head_sampling_rate": rates,
            "persist": flags,
            "destinations": destinations,
        }
    )
    traces = _optional(
        {
            "enabled": flags,
            "head_sampling_rate": rates,
            "persist": flags,
            "destinations": destinations,
            "propagation_policy": st.sampled_from(["authenticated", "accept"]),
        }
    )
    value = st.fixed_dictionaries(
        {"enabled": flags},
        optional={
            "head_sampling_rate": rates,
            "logs": logs,
            "traces": traces,
            "redact_query_string": flags,
            "issues": st.fixed_dictionaries({"enabled": flags}),
        },
    )
    return st.just(ABSENT) | value


def logpush() -> st.SearchStrategy[Any]:
    return st.sampled_from([ABSENT, True, False])


def tail_consumers(workers: Sequence[str]) -> st.SearchStrategy[Any]:
    """Names only `workers` (declared in the same manifests, so each exists when named)."""
    if not workers:
        return st.sampled_from([ABSENT, []])
    consumers = st.lists(st.sampled_from(list(workers)), max_size=2, unique=True)
    return st.just(ABSENT) | consumers.map(lambda names: [{"service": n} for n in names])


def placement() -> st.SearchStrategy[Any]:
    target = st.sampled_from(
        [
            {"region": "aws:us-east-1"},
            {"hostname": "db.example.com"},
            {"host": "db.example.com:5432"},
        ]
    )
    return st.one_of(
        st.sampled_from([ABSENT, {}, {"mode": "smart"}]),
        target,
        target.map(lambda t: {"mode": "targeted", **t}),
        target.map(lambda t: {"mode": "targeted", "target": [t]}),
    )


def limits() -> st.SearchStrategy[Any]:
    return st.just(ABSENT) | _optional(
        {"cpu_ms": st.sampled_from([10, 50, 30000]), "subrequests": st.sampled_from([50, 1000])}
    )


def usage_model() -> st.SearchStrategy[Any]:
    return st.sampled_from([ABSENT, "standard", "bundled", "unbound"])


def settings_keys(workers: Sequence[str]) -> dict[str, Callable[[], st.SearchStrategy[Any]]]:
    """Each settings key's strategy; tail consumers may name the given workers."""
    return {
        "observability": observability,
        "logpush": logpush,
        "tail_consumers": lambda: tail_consumers(workers),
        "placement": placement,
        "limits": limits,
        "usage_model": usage_model,
    }
