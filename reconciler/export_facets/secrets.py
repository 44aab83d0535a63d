"""The script secrets facet in export: a `secret_text` binding per secret, its value from an
environment variable the user sets (values cannot be read back)."""

from __future__ import annotations

from reconciler.export_facets.base import EnvVar, ExportFacet, WorkerExport, env_var_name, unique


class SecretsExport(ExportFacet):
    name = "secrets"

    def export(self, draft: WorkerExport) -> str | None:
        worker = draft.worker
        for secret in worker.secrets:
            taken = draft.taken | {e.name for e in draft.env_vars}
            env = unique(env_var_name(worker.name, secret.name), taken)
            draft.env_vars.append(EnvVar(env, worker.name, secret.name, worker=True))
            draft.entry.setdefault("bindings", []).append(
                {"type": "secret_text", "name": secret.name, "value_from": {"env": env}}
            )
        return None


FACET = SecretsExport()
