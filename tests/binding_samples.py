"""One valid binding of every type a manifest can declare, API field names, for many tests.

`test_binding_schema` fails when the vendored schema gains a type this table lacks, so a
refreshed schema cannot slip past the end-to-end and convergence tests.
"""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "ai": {},
    "ai_search": {"instance_name": "cloudflare-blog", "namespace": "production"},
    "ai_search_namespace": {"namespace": "production"},
    "analytics_engine": {"dataset": "page_views"},
    "browser": {},
    "d1": {"database_id": "5f092ab3-1a1f-4b62-9c1c-3d0a7d1f6b11"},
    "dispatch_namespace": {
        "namespace": "customers",
        "outbound": {"worker": {"service": "outbound"}, "params": [{"name": "customer"}]},
    },
    "durable_object_namespace": {"class_name": "Room"},
    "flagship": {"app_id": "app-12345678"},
    "hyperdrive": {"id": "57b7076f58be42419276f058a8968187"},
    "images": {},
    "json": {"json": {"regions": ["eu", "us"], "limits": {"rps": 10}}},
    "kv_namespace": {"namespace_id": "0f2ac74b498b48028cb68387c421e279"},
    "media": {},
    "mtls_certificate": {"certificate_id": "efwu2n6s-q69d-2kr9-184j-4913e8h391k6"},
    "pipelines": {"pipeline": "clicks"},
    "plain_text": {"text": "hello"},
    "queue": {"queue_name": "jobs"},
    "r2_bucket": {"bucket_name": "uploads", "jurisdiction": "eu"},
    "ratelimit": {"namespace_id": "1001", "simple": {"limit": 100, "period": 60}},
    "send_email": {
        "destination_address": "ops@example.com",
        "allowed_sender_addresses": ["bot@example.com"],
    },
    "service": {"service": "auth", "entrypoint": "AuthEntrypoint"},
    "vectorize": {"index_name": "embeddings"},
    "version_metadata": {},
    "vpc_network": {"network_id": "cf1:network"},
    "vpc_service": {"service_id": "8c8b1387108e49be85669169793e7bd2"},
    "workflow": {"workflow_name": "checkout", "class_name": "Checkout"},
}


def binding_name(type_: str) -> str:
    return type_.upper()


def sample_bindings() -> list[dict[str, Any]]:
    """Every sample as a manifest binding, named after its type (`R2_BUCKET`, ...)."""
    return [{"type": t, "name": binding_name(t), **fields} for t, fields in SAMPLES.items()]
