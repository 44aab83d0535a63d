"""Merge validated documents into one Desired state, checking everything that spans them.

Every problem of a run is collected and raised together, each with its location.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import Location, ManifestError, Problem, ValueSourceError
from reconciler.manifest.check import Checker
from reconciler.manifest.facets import FACETS
from reconciler.manifest.loader import LoadedDocument, discover, load_documents_from
from reconciler.manifest.models import WorkerSpec
from reconciler.state import Secret, State, Store, Worker, WorkerParts
from reconciler.values import Resolution


@dataclass
class ManifestSet:
    """The Desired state and what apply needs to tell whether manifests changed since a plan."""

    state: State
    digest: str
    files: list[Path]
    # Not errors, but what plan and apply will meet (an unset environment variable):
    # `validate` prints them, each with its location.
    warnings: list[Problem] = field(default_factory=list)
    # The run's external values (sops, AWS, commands): resolved once, only when needed.
    resolution: Resolution = field(default_factory=Resolution)


def _worker(
    check: Checker, state: State, doc: LoadedDocument, index: int, spec: WorkerSpec
) -> Worker | None:
    """A worker from its facets' parts (`manifest/facets/`); None when one could not load."""
    for facet in FACETS:
        facet.check(check, doc, index, spec, state)
    parts: WorkerParts = {}
    for facet in FACETS:
        part = facet.load(check, doc, index, spec)
        if part is None:
            return None
        parts.update(part)
    return Worker(name=spec.name, managed=True, location=doc.at("workers", index), **parts)


def merge(
    documents: Sequence[LoadedDocument],
    *,
    allow_outside_files: bool = False,
    allow_commands: bool = False,
    allow_credential_env: Iterable[str] = (),
    problems: Sequence[Problem] = (),
) -> ManifestSet:
    """Cross-check and merge; `problems` found earlier are reported with these, all at once."""
    check = Checker(allow_outside_files, allow_commands, frozenset(allow_credential_env))
    check.documents = documents
    check.problems.extend(problems)
    state = State()
    account_at: Location | None = None
    for doc in documents:
        if doc.account_id is None:
            continue
        if state.account_id is None:
            state.account_id, account_at = doc.account_id, doc.at("account_id")
        elif doc.account_id != state.account_id:
            assert account_at is not None
            check.add(
                doc.at("account_id"),
                f"account_id {doc.account_id} conflicts with {state.account_id}; "
                "one manifest set targets one account",
                account_at,
            )

    seen: dict[object, Location] = {}
    for doc in documents:
        for i, store in doc.stores:
            where = doc.at("stores", i, "name")
            if check.unique(seen, ("store", store.name), where, f"store {store.name!r}"):
                state.stores[store.name] = Store(store.name, location=where)

    for doc in documents:
        for i, secret in doc.secrets:
            where = doc.at("secrets", i, "name")
            label = f"secret {secret.name!r} in store {secret.store!r}"
            if not check.unique(seen, ("secret", secret.store, secret.name), where, label):
                continue
            if secret.store not in state.stores and not check.invalid(("stores", secret.store)):
                check.add(
                    doc.at("secrets", i, "store"),
                    f"store {secret.store!r} is not declared; add it under `stores:`",
                )
            state.secrets[(secret.store, secret.name)] = Secret(
                store=secret.store,
                name=secret.name,
                scopes=frozenset(secret.scopes),
                comment=secret.comment,
                managed=True,
                value_from=check.value_source(
                    doc, doc.at("secrets", i, "value_from"), secret.value_from
                ),
                location=where,
            )

    for doc in documents:
        for i, spec in doc.workers:
            where = doc.at("workers", i, "name")
            if not check.unique(seen, ("worker", spec.name), where, f"worker {spec.name!r}"):
                continue
            worker = _worker(check, state, doc, i, spec)
            if worker is not None:
                state.workers[spec.name] = worker

    for doc in documents:
        check.rejected_files(doc)

    if check.problems:
        raise ManifestError(check.problems)
    files = list(dict.fromkeys(d.path for d in documents))
    raw = {d.path: d.raw for d in documents}
    digest = _digest(list(raw.values()), check.hashed.values())
    return ManifestSet(state, digest, files, check.warnings, check.resolution)


def _digest(manifests: list[bytes], file_hashes: Iterable[str]) -> str:
    """What a saved plan was made from: file contents only, so the working directory a
    command runs from (and so the paths it prints) does not make a plan look stale. The
    bytes are those parsed, never a second read of the file."""
    hashes = sorted([hashlib.sha256(c).hexdigest() for c in manifests] + list(file_hashes))
    return "sha256:" + hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def load_manifests(
    paths: Sequence[str | Path],
    *,
    allow_outside_files: bool = False,
    allow_commands: bool = False,
    allow_credential_env: Iterable[str] = (),
) -> ManifestSet:
    """Load, validate and merge a manifest set; raises ManifestError with every problem."""
    files, problems = discover(paths, allow_outside_files=allow_outside_files)
    documents, more = load_documents_from(files)
    return merge(
        documents,
        allow_outside_files=allow_outside_files,
        allow_commands=allow_commands,
        allow_credential_env=allow_credential_env,
        problems=problems + more,
    )


def resolve_all(manifests: ManifestSet) -> list[Problem]:
    """`validate --resolve`: every secret's value, resolved now (concurrently), each failure
    with its location. Values are dropped at once; only the problems are returned."""
    state = manifests.state
    sources = [s.value_from for s in state.secrets.values() if s.value_from]
    sources += [s.value_from for w in state.workers.values() for s in w.secrets if s.value_from]
    manifests.resolution.prefetch(s.external for s in sources if s.external is not None)
    problems: list[Problem] = []
    for source in sources:
        try:
            source.read()
        except ValueSourceError as exc:
            problems.append(Problem(source.where or Location("?"), f"value_from: {exc}"))
    return problems
