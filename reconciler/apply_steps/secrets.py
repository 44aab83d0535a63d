"""Worker script secrets in apply: one `PUT …/secrets` per value, or inside the upload.

An uploaded worker gets its new values inside the upload; any other worker gets one
`PUT …/secrets` per changed value, its secret actions run one after the other, and the
last one writes the fingerprint record onto the version they made
(`markers.format_secrets_record`), so the record vouches for exactly that version.
"""

from __future__ import annotations

from reconciler.apply_steps.base import ApplyContext, ApplyStep, UploadExtras
from reconciler.markers import SECRETS_ANNOTATION, format_secrets_record, secrets_record_fits
from reconciler.plan.fingerprint import worker_secret_fingerprint
from reconciler.plan.model import Action, Plan
from reconciler.plan.saved import pinned_value


class WorkerSecretsStep(ApplyStep):
    facet = "secrets"
    kind = "worker_secret"

    def __init__(self, context: ApplyContext, plan: Plan) -> None:
        super().__init__(context, plan)
        # Workers this plan uploads (create, update, adopt): their secret values ride along.
        self._uploaded: set[str] = set()
        # Workers with secret writes after any deletes of their secrets (plan groups 2 and 4).
        self._writes_later: set[str] = set()
        # The plan's worker_secret writes, by worker: what an upload carries inline.
        self._secret_writes: dict[str, list[str]] = {}
        # Fingerprints of the values this run wrote, by worker.
        self._written: dict[str, dict[str, str]] = {}
        # The plan's pins of the values it resolved: a value read again must match.
        self._pins = plan.value_pins
        for a in plan.actions:
            if a.kind == "worker" and a.action != "delete":
                self._uploaded.add(a.name)
            elif a.kind == self.kind and a.worker is not None and a.action != "delete":
                self._secret_writes.setdefault(a.worker, []).append(a.name)
                self._writes_later.add(a.worker)

    def upload_extras(self, worker: str) -> UploadExtras:
        values = {n: self._secret_value(worker, n) for n in self._secret_writes.get(worker, [])}
        record = self._secrets_record(worker)
        return UploadExtras(
            secrets=values,
            annotations={SECRETS_ANNOTATION: record} if record is not None else {},
        )

    async def run(self, action: Action) -> None:
        ctx = self.context
        worker = action.worker
        assert worker is not None
        if action.action == "delete":
            ctx.forget_cached(worker)
            await ctx.client.delete_script_secret(ctx.account, worker, action.name)
            return
        if worker in self._uploaded:
            return  # written inside the worker's upload, which ran before
        ctx.forget_cached(worker)
        value = self._secret_value(worker, action.name)
        await ctx.client.put_script_secret(ctx.account, worker, action.name, value)

    async def finish(self, action: Action) -> None:
        """After a worker's last secret action: the version it made gets our record.

        Skipped when the worker's upload carries the record, or a later group writes
        more of its secrets (that group's last action records)."""
        worker = action.worker
        assert worker is not None
        if worker in self._uploaded or (action.action == "delete" and worker in self._writes_later):
            return
        record = self._secrets_record(worker)
        if record is not None:
            ctx = self.context
            await ctx.client.patch_script_annotations(
                ctx.account, worker, {SECRETS_ANNOTATION: record}
            )

    def _secret_value(self, worker: str, name: str) -> str:
        """Read the value and note its fingerprint for the record; the value is not kept."""
        ctx = self.context
        secret = next(s for s in ctx.desired.workers[worker].secrets if s.name == name)
        assert secret.value_from is not None
        value = pinned_value(
            self._pins, ctx.fingerprint_key, "worker_secret", worker, name, secret.value_from.read()
        )
        if ctx.fingerprint_key is not None:
            fp = worker_secret_fingerprint(ctx.fingerprint_key, worker, name, value)
            self._written.setdefault(worker, {})[name] = fp
        return value

    def _secrets_record(self, worker: str) -> str | None:
        return secrets_record(self.context, worker, self._written.get(worker, {}))


def secrets_record(ctx: ApplyContext, worker: str, written: dict[str, str]) -> str | None:
    """The record for the version about to be made: fingerprints of every declared
    secret whose value is known (`written` now, or verified by the plan)."""
    desired = ctx.desired.workers.get(worker)
    if ctx.fingerprint_key is None or desired is None or not desired.secrets:
        return None
    names = [s.name for s in desired.secrets]
    if not secrets_record_fits(names):
        return None
    live = ctx.live.workers.get(worker)
    known = {s.name: s.fingerprint for s in live.secrets} if live is not None else {}
    entries = {n: fp for n, fp in known.items() if n in names and fp is not None}
    entries.update(written)
    return format_secrets_record(entries)
