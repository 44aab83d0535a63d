"""Every spelling of a setting's default compares equal to it; different values never do."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler import settings_forms as forms
from reconciler.emulator.worker_settings import observability_form
from reconciler.manifest.models import ObservabilitySpec

DEFAULT_SPELLINGS: dict[str, list[Any]] = {
    "observability": [
        None,
        {},
        {"enabled": False},
        {"enabled": False, "head_sampling_rate": 1},
        {"enabled": False, "head_sampling_rate": 1.0, "logs": None, "traces": None},
        {"enabled": False, "head_sampling_rate": None, "logs": {}, "traces": {}},
        {
            "enabled": False,
            "logs": {
                "enabled": False,
                "invocation_logs": True,
                "head_sampling_rate": 1,
                "persist": True,
                "destinations": [],
            },
            "traces": {
                "enabled": False,
                "head_sampling_rate": None,
                "persist": True,
                "destinations": None,
                "propagation_policy": None,
            },
        },
        # Fields the manifest does not set and whose default is not documented: not compared.
        {"enabled": False, "redact_query_string": True, "issues": {"enabled": True}},
    ],
    "logpush": [None, False],
    "tail_consumers": [None, []],
    "placement": [None, {}, {"mode": None}, {"last_analyzed_at": "2026-01-01T00:00:00Z"}],
    "limits": [None, {}, {"cpu_ms": None}],
    "usage_model": [None, "", "standard"],
}


@pytest.mark.parametrize(
    ("key", "spelling"), [(k, s) for k, spellings in DEFAULT_SPELLINGS.items() for s in spellings]
)
def test_every_default_spelling_compares_equal_to_the_default(key: str, spelling: Any) -> None:
    assert forms.canonical(key, spelling) == forms.canonical(key, None)
    assert forms.is_default(key, spelling)


EQUAL_PAIRS: list[tuple[str, Any, Any]] = [
    (
        "observability",
        {"enabled": True},
        {
            "enabled": True,
            "logs": {"enabled": True, "invocation_logs": True},
            "head_sampling_rate": 1,
        },
    ),
    (
        "observability",
        {"enabled": True, "head_sampling_rate": 0.1},
        {"enabled": True, "head_sampling_rate": 0.1, "traces": {"enabled": False}},
    ),
    (
        "tail_consumers",
        [{"service": "b"}, {"service": "a", "environment": None}],
        [{"service": "a"}, {"service": "b", "namespace": ""}],
    ),
    ("placement", {"region": "aws:us-east-1"}, {"mode": "targeted", "region": "aws:us-east-1"}),
    ("placement", {"mode": "targeted", "target": [{"host": "db:5432"}]}, {"host": "db:5432"}),
    (
        "placement",
        {"mode": "smart"},
        {"mode": "smart", "status": "SUCCESS", "last_analyzed_at": "2026-01-01T00:00:00Z"},
    ),
    ("limits", {"cpu_ms": 50}, {"cpu_ms": 50, "subrequests": None}),
]


@pytest.mark.parametrize(("key", "a", "b"), EQUAL_PAIRS)
def test_forms_that_mean_the_same_compare_equal(key: str, a: Any, b: Any) -> None:
    assert forms.canonical(key, a) == forms.canonical(key, b)


DIFFERENT_PAIRS: list[tuple[str, Any, Any]] = [
    ("observability", {"enabled": True}, {"enabled": False}),
    ("observability", {"enabled": True}, {"enabled": True, "head_sampling_rate": 0.5}),
    (
        "observability",
        {"enabled": True},
        {"enabled": True, "logs": {"enabled": False, "invocation_logs": True}},
    ),
    (
        "observability",
        {"enabled": True},
        {"enabled": True, "logs": {"enabled": True, "invocation_logs": False}},
    ),
    (
        "observability",
        {"enabled": True},
        {"enabled": True, "logs": {"enabled": True, "invocation_logs": True, "persist": False}},
    ),
    ("observability", {"enabled": True}, {"enabled": True, "traces": {"enabled": True}}),
    (
        "observability",
        {"enabled": True},
        {"enabled": True, "traces": {"enabled": False, "destinations": ["otel"]}},
    ),
    ("logpush", None, True),
    ("tail_consumers", [], [{"service": "a"}]),
    ("tail_consumers", [{"service": "a"}], [{"service": "a", "environment": "staging"}]),
    ("placement", {}, {"mode": "smart"}),
    ("placement", {"region": "aws:us-east-1"}, {"region": "aws:eu-west-1"}),
    ("placement", {"region": "aws:us-east-1"}, {"hostname": "aws:us-east-1"}),
    ("limits", {}, {"cpu_ms": 50}),
    ("limits", {"cpu_ms": 50}, {"cpu_ms": 50, "subrequests": 10}),
    ("usage_model", None, "unbound"),
]


@pytest.mark.parametrize(("key", "a", "b"), DIFFERENT_PAIRS)
def test_different_values_never_compare_equal(key: str, a: Any, b: Any) -> None:
    assert forms.canonical(key, a) != forms.canonical(key, b)


def test_optional_observability_fields_count_once_the_manifest_sets_them() -> None:
    declared = {
        "enabled": True,
        "redact_query_string": True,
        "traces": {"propagation_policy": "authenticated"},
    }
    live = {"enabled": True, "redact_query_string": False, "traces": {"propagation_policy": None}}
    want, have = (
        forms.canonical("observability", declared, declared),
        forms.canonical("observability", live, declared),
    )
    assert have["traces"]["propagation_policy"] == want["traces"]["propagation_policy"]
    assert have["redact_query_string"] is False and want["redact_query_string"] is True


rates = st.none() | st.sampled_from([0, 0.1, 0.5, 1, 1.0])
flags = st.none() | st.booleans()
destinations = st.none() | st.lists(st.sampled_from(["otel", "datadog"]), max_size=2, unique=True)
logs = st.none() | st.fixed_dictionaries(
    {},
    optional={
        "enabled": flags,
        "invocation_logs": flags,
        "head_sampling_rate": rates,
        "persist": flags,
        "destinations": destinations,
    },
)
traces = st.none() | st.fixed_dictionaries(
    {},
    optional={
        "enabled": flags,
        "head_sampling_rate": rates,
        "persist": flags,
        "destinations": destinations,
        "propagation_policy": st.none() | st.sampled_from(["authenticated", "accept"]),
    },
)
observability = st.fixed_dictionaries(
    {"enabled": st.booleans()},
    optional={
        "head_sampling_rate": rates,
        "logs": logs,
        "traces": traces,
        "redact_query_string": flags,
        "issues": st.none() | st.fixed_dictionaries({"enabled": st.booleans()}),
    },
)


@given(observability)
def test_what_apply_writes_reads_back_equal_after_the_api_fills_its_defaults(
    declared: dict[str, Any],
) -> None:
    """Manifest -> written form -> what the API stores and answers -> compared: no change."""
    spec = ObservabilitySpec.model_validate(declared).model_dump(exclude_none=True)
    answered = observability_form(forms.written("observability", spec))
    assert forms.canonical("observability", answered, spec) == forms.canonical(
        "observability", spec, spec
    )
