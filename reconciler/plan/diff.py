"""Desired against Live: the one place that decides what a plan does.

Apply never decides; it carries out what this module planned. Values are read
here only to check they exist and to compute fingerprints; they never leave
this module (changes show them as "(sensitive)").
"""

from __future__ import annotations

from reconciler.errors import ConfigError
from reconciler.plan.compare import field_changes, secret_bindings, secret_view, worker_view
from reconciler.plan.conflicts import find_conflicts
from reconciler.plan.context import REASON_PRUNE, Planning
from reconciler.plan.facets import FACETS
from reconciler.plan.fingerprint import KEY_ENV, fingerprint, new_pin_salt
from reconciler.plan.model import (
    CONFLICT_KINDS,
    SENSITIVE,
    Action,
    Change,
    Plan,
    PlanOptions,
    Unmanaged,
    ValuePin,
    ValuePins,
)
from reconciler.plan.order import order_actions
from reconciler.plan.ownership import store_has_managed_secrets, store_managed
from reconciler.state import Secret, State
from reconciler.words import count

NO_KEY_WARNING = (
    f"No fingerprint key ({KEY_ENV} is not set): secret value changes cannot be detected, "
    "so no value replacements are planned except for secrets being created or adopted. "
    "Set the key, or rotate a value with --replace NAME."
)
KEY_CHANGED_WARNING = (
    "Every recorded fingerprint differs from the manifests' values. If "
    f"{KEY_ENV} changed, that is expected and apply rewrites every value; if it did not, "
    "check that this run uses the same key as the runs before."
)
REASON_VALUE_CHANGED = "the value changed: apply deletes the secret and recreates it (new id)"
REASON_NO_FINGERPRINT = (
    "no fingerprint was recorded, so the value cannot be verified: apply deletes the secret "
    "and recreates it with the manifest's value and a fingerprint (new id)"
)
REASON_FORCED = (
    "--replace asked for a value rotation: apply deletes the secret and recreates it (new id)"
)
NO_PIN_WARNING = (
    f"No fingerprint key ({KEY_ENV} is not set): the values this plan writes cannot be pinned, "
    "so `apply --plan` refuses a saved copy of it. Set the key before `plan --out`, or apply "
    "without a plan file."
)
REASON_ADOPT_SECRET = (
    "exists without the reconciler marker: apply takes it over by deleting it and recreating it "
    "with the manifest's value and our marker (new id)"
)
REASON_ADOPT_WORKER = (
    "exists without the reconciler tag: apply takes it over by uploading the manifest's script "
    "with our tag"
)
REASON_ADOPT_STORE = (
    "exists and holds no secrets managed by reconciler: the plan takes it over (no API call)"
)
# Resources a warning names one by one; past this, "and N more".
MAX_NAMED = 20


class _Planner(Planning):
    """Stores, secrets and the workers' own actions; each Worker facet plans its part
    (`plan/facets/`)."""

    # -- stores ----------------------------------------------------------------------

    def stores(self) -> None:
        declared = set(self.desired.stores) | {s.store for s in self.desired.secrets.values()}
        for name in sorted(declared):
            if name not in self.live.stores:
                self.actions.append(Action("create", "store", name))
            elif store_has_managed_secrets(self.live, name) or not self.desired.secrets_in(name):
                # Stores carry no marker: a store is taken over by writing our secrets into
                # it, so one that will hold none stays as it is and the plan converges.
                self.no_op += 1
            else:
                self.actions.append(Action("adopt", "store", name, reason=REASON_ADOPT_STORE))
        for name in sorted(set(self.live.stores) - declared):
            self.undeclared(
                store_managed(self.live, name),
                Action("delete", "store", name, reason=f"{REASON_PRUNE} with its secrets"),
                Unmanaged("store", name),
            )

    # -- secrets ---------------------------------------------------------------------

    def _forced(self, secret: Secret) -> bool:
        wanted = self.options.replace
        return f"{secret.store}/{secret.name}" in wanted or secret.name in wanted

    def _read_value(self, secret: Secret) -> str | None:
        return self.read_value(
            secret.value_from,
            f"secret '{secret.store}/{secret.name}'",
            ValuePin("secret", secret.name, store=secret.store),
        )

    def _needs_value(self, want: Secret) -> bool:
        """Whether secrets() reads this value: to write it, or to compare fingerprints."""
        have = self.live.secrets.get((want.store, want.name))
        return have is None or not have.managed or self._forced(want) or self.key is not None

    def prefetch_values(self) -> None:
        """Resolve the external values (sops, AWS, commands) this plan reads, concurrently
        and once; the rest are never resolved."""
        needed = [
            s.value_from
            for s in self.desired.secrets.values()
            if s.value_from is not None and s.value_from.external is not None
            and self._needs_value(s)
        ]  # fmt: skip
        needed += [v for facet in FACETS for v in facet.values(self) if v.external is not None]
        for resolution in {id(v.resolution): v.resolution for v in needed}.values():
            if resolution is not None:
                resolution.prefetch(
                    v.external for v in needed if v.resolution is resolution and v.external
                )

    def _replace_reason(self, want: Secret, have: Secret) -> str | None:
        if self._forced(want):
            self._read_value(want)
            return REASON_FORCED
        if self.key is None:
            return None
        value = self._read_value(want)
        if value is None:
            return None
        if have.fingerprint is None:
            return REASON_NO_FINGERPRINT
        self.fingerprints_compared += 1
        if fingerprint(self.key, want.store, want.name, value) != have.fingerprint:
            self.fingerprints_differing += 1
            return REASON_VALUE_CHANGED
        return None

    def secrets(self) -> None:
        for key in sorted(self.desired.secrets):
            want = self.desired.secrets[key]
            have = self.live.secrets.get(key)
            if have is None:
                self._read_value(want)
                changes = [
                    *field_changes(None, secret_view(want)),
                    Change("value", None, SENSITIVE),
                ]
                self.actions.append(Action("create", "secret", want.name, want.store, changes))
                continue
            changes = field_changes(secret_view(have), secret_view(want))
            value_change = Change("value", SENSITIVE, SENSITIVE)
            if not have.managed:
                self._read_value(want)
                self.actions.append(
                    Action(
                        "adopt",
                        "secret",
                        want.name,
                        want.store,
                        [*changes, value_change],
                        REASON_ADOPT_SECRET,
                    )
                )
                continue
            reason = self._replace_reason(want, have)
            if reason is not None:
                self.actions.append(
                    Action(
                        "replace", "secret", want.name, want.store, [*changes, value_change], reason
                    )
                )
            elif changes:
                self.actions.append(Action("update", "secret", want.name, want.store, changes))
            else:
                self.no_op += 1
        for key in sorted(set(self.live.secrets) - set(self.desired.secrets)):
            have = self.live.secrets[key]
            self.undeclared(
                have.managed,
                Action("delete", "secret", have.name, have.store, reason=REASON_PRUNE),
                Unmanaged("secret", have.name, have.store),
            )

    def replace_warnings(self) -> None:
        """Say once when values cannot be compared, or when every fingerprint differs."""
        if self.key is None and (
            any(
                k in self.live.secrets and self.live.secrets[k].managed
                for k in self.desired.secrets
            )
            or any(facet.unverified(self) for facet in FACETS)
        ):
            self.warnings.append(NO_KEY_WARNING)
        if self.fingerprints_compared >= 2 and (
            self.fingerprints_differing == self.fingerprints_compared
        ):
            self.warnings.append(KEY_CHANGED_WARNING)

    def quota_warning(self) -> None:
        """Creating past the account's secrets quota fails mid-apply; say so before."""
        quota = self.live.secret_quota
        if quota is None:
            return
        added = sum(1 for a in self.actions if a.kind == "secret" and a.action == "create")
        removed = sum(1 for a in self.actions if a.kind == "secret" and a.action == "delete")
        after = len(self.live.secrets) + added - removed
        if after > quota:
            self.warnings.append(
                f"the account's Secrets Store quota is {quota} secrets, but after this plan there "
                f"would be {after}: creates past the quota will fail; delete secrets (--prune) "
                "or ask Cloudflare for a higher quota"
            )

    # -- workers ---------------------------------------------------------------------

    def workers(self) -> None:
        for name in sorted(self.desired.workers):
            want = self.desired.workers[name]
            have = self.live.workers.get(name)
            if have is None:
                changes = field_changes(None, worker_view(want))
                self.actions.append(Action("create", "worker", name, changes=changes))
                continue
            changes = field_changes(worker_view(have, want), worker_view(want))
            if not have.managed:
                self.actions.append(
                    Action("adopt", "worker", name, None, changes, REASON_ADOPT_WORKER)
                )
            elif changes:
                self.actions.append(Action("update", "worker", name, changes=changes))
            else:
                self.no_op += 1
        for name in sorted(set(self.live.workers) - set(self.desired.workers)):
            self.undeclared(
                self.live.workers[name].managed,
                Action("delete", "worker", name, reason=REASON_PRUNE),
                Unmanaged("worker", name),
            )

    # -- notes -----------------------------------------------------------------------

    def unavailability_notes(self) -> None:
        """A secret that is deleted and recreated is briefly missing for the workers binding it."""
        deleted = {a.name for a in self.actions if a.kind == "worker" and a.action == "delete"}
        workers = {**{n: w for n, w in self.live.workers.items() if n not in deleted}}
        workers.update(self.desired.workers)
        for action in self.actions:
            if action.kind != "secret" or action.action not in ("replace", "adopt"):
                continue
            ref = (action.store, action.name)
            users = sorted(
                n for n, w in workers.items() if any(r == ref for _, r in secret_bindings(w))
            )
            if users:
                names = ", ".join(f"'{n}'" for n in users)
                action.reason += (
                    f". Short unavailability window: worker(s) {names} bind this secret and "
                    "cannot read it between the delete and the create"
                )
        if self.undeclared_managed:
            undeclared = self.undeclared_managed
            shown = ", ".join(undeclared[:MAX_NAMED]) + (
                f" and {len(undeclared) - MAX_NAMED} more" if len(undeclared) > MAX_NAMED else ""
            )
            self.warnings.append(
                f"{count(len(undeclared), 'managed resource')} "
                f"{'is' if len(undeclared) == 1 else 'are'} no longer declared ({shown}); "
                "--prune deletes them"
            )


def check_replace(desired: State, replace: list[str]) -> None:
    """A --replace that names no declared secret (a store's, or a worker's secret_text) is a
    typo: refuse it rather than do nothing."""
    targets = [(s.store, s.name) for s in desired.secrets.values()]
    targets += [
        (w.name, name)
        for w in desired.workers.values()
        for facet in FACETS
        for name in facet.replace_targets(w)
    ]
    labels = sorted(f"{where}/{name}" for where, name in targets)
    for wanted in replace:
        if not any(wanted in (name, f"{where}/{name}") for where, name in targets):
            known = ", ".join(labels[:5]) + (", ..." if len(labels) > 5 else "")
            raise ConfigError(
                f"--replace {wanted} matches no declared secret; name one as STORE/NAME or NAME"
                + (f" (declared: {known})" if labels else " (the manifests declare none)")
            )


def compute_plan(
    desired: State,
    live: State,
    *,
    options: PlanOptions,
    fingerprint_key: bytes | None,
    manifest_digest: str = "",
    pin_salt: str | None = None,
) -> Plan:
    """Diff Desired against Live into an ordered Plan with its conflicts and warnings.

    `pin_salt`: the salt of a saved plan this one is checked against (else a new one).
    """
    check_replace(desired, options.replace)
    planner = _Planner(desired, live, options, fingerprint_key, pin_salt or new_pin_salt())
    planner.stores()
    planner.prefetch_values()
    planner.secrets()
    planner.quota_warning()
    planner.workers()
    for facet in FACETS:
        facet.plan(planner)
    planner.replace_warnings()  # after every fingerprint comparison, worker secrets' too
    planner.unavailability_notes()
    actions = order_actions(planner.actions, live, desired)
    if fingerprint_key is None and any(a.writes_value for a in actions):
        planner.warnings.append(NO_PIN_WARNING)
    conflicts = sorted(
        [*planner.missing, *find_conflicts(desired, live, actions, force=options.force)],
        key=lambda c: CONFLICT_KINDS.index(c.kind),
    )
    return Plan(
        account_id=live.account_id or desired.account_id or "",
        actions=actions,
        conflicts=conflicts,
        warnings=planner.warnings,
        unmanaged=sorted(planner.unmanaged, key=lambda u: (u.kind, u.store or "", u.name)),
        no_op=planner.no_op,
        live_digest=live.digest(),
        manifest_digest=manifest_digest,
        options=PlanOptions(options.prune, options.force, list(options.replace)),
        value_pins=None
        if fingerprint_key is None
        else ValuePins(planner.pin_salt, [planner.pins[k] for k in sorted(planner.pins)]),
    )
