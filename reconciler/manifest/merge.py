"""Merge validated documents into one Desired state, checking everything that spans them.

Every problem of a run is collected and raised together, each with its location.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from reconciler.errors import Location, ManifestError, Problem, ValueSourceError
from reconciler.manifest.loader import LoadedDocument, discover, load_documents_from
from reconciler.manifest.models import (
    JsonBinding,
    KvNamespaceBinding,
    PlainTextBinding,
    SecretSpec,
    SecretsStoreSecretBinding,
    WorkerSpec,
)
from reconciler.manifest.values import ValueSource
from reconciler.state import Binding, Module, Secret, State, Store, Worker, script_digest


@dataclass
class ManifestSet:
    """The Desired state and what apply needs to tell whether manifests changed since a plan."""

    state: State
    digest: str
    files: list[Path]


class _Checker:
    def __init__(self, allow_outside_files: bool) -> None:
        self.problems: list[Problem] = []
        self.allow_outside_files = allow_outside_files
        self.hashed: dict[str, bytes] = {}

    def add(self, where: Location, message: str, *related: Location) -> None:
        self.problems.append(Problem(where, message, tuple(related)))

    def unique(self, seen: dict[object, Location], key: object, where: Location, what: str) -> bool:
        if key in seen:
            self.add(where, f"duplicate {what}; it is already declared", seen[key])
            return False
        seen[key] = where
        return True

    def read_file(self, path: Path, where: Location, what: str) -> bytes | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.add(where, f"{what} {path} does not exist")
            return None
        except OSError as exc:
            self.add(where, f"cannot read {what} {path}: {exc.strerror or exc}")
            return None
        self.hashed[str(path)] = data
        return data

    def value_source(self, doc: LoadedDocument, index: int, spec: SecretSpec) -> ValueSource:
        where = doc.at("secrets", index, "value_from")
        if spec.value_from.env is not None:
            source = ValueSource(env=spec.value_from.env)
            # Unset is fine here: CI may set a variable only in the jobs that plan or apply.
            if source.available():
                self.check_readable(where, source)
            return source
        assert spec.value_from.file is not None
        relative = Path(spec.value_from.file)
        path = doc.path.parent / relative
        source = ValueSource(file=path)
        if not self.allow_outside_files:
            if relative.is_absolute() or ".." in relative.parts:
                self.add(
                    where,
                    f"value_from file {relative} leaves the manifest's directory; keep secret "
                    "files beside the manifests or pass --allow-outside-files",
                )
                return source
            if any(p.is_symlink() for p in [path, *path.parents][: len(relative.parts)]):
                self.add(
                    where,
                    f"value_from file {relative} is a symbolic link; links are refused unless "
                    "--allow-outside-files is given",
                )
                return source
        if not path.is_file():
            self.add(where, f"value_from file {relative} does not exist (looked for {path})")
        else:
            self.check_readable(where, source)
        return source

    def check_readable(self, where: Location, source: ValueSource) -> None:
        """The reader's own rules (size, encoding, not empty); the value is dropped at once."""
        try:
            source.read()
        except ValueSourceError as exc:
            self.add(where, str(exc))


def _binding(spec: object) -> Binding:
    if isinstance(spec, PlainTextBinding):
        return Binding(spec.name, spec.type, {"text": spec.text})
    if isinstance(spec, JsonBinding):
        return Binding(spec.name, spec.type, {"json": spec.json_})
    if isinstance(spec, SecretsStoreSecretBinding):
        return Binding(spec.name, spec.type, {"store": spec.store, "secret": spec.secret})
    assert isinstance(spec, KvNamespaceBinding)
    return Binding(spec.name, spec.type, {"namespace_id": spec.namespace_id})


def _worker(check: _Checker, doc: LoadedDocument, index: int, spec: WorkerSpec) -> Worker | None:
    from reconciler.cloudflare.upload import detect_format

    base = doc.path.parent
    main_path = base / spec.script
    main = check.read_file(main_path, doc.at("workers", index, "script"), "script file")
    modules = [Module(PurePosixPath(spec.script).name, main)] if main is not None else []
    for j, extra in enumerate(spec.modules):
        data = check.read_file(base / extra, doc.at("workers", index, "modules", j), "module file")
        if data is not None:
            name = os.path.relpath(base / extra, main_path.parent).replace(os.sep, "/")
            modules.append(Module(name, data))
    if main is None or len(modules) != len(spec.modules) + 1:
        return None
    fmt = spec.format
    if fmt == "auto":
        fmt = detect_format(main.decode("utf-8", errors="replace"))
    if fmt == "classic" and spec.modules:
        check.add(
            doc.at("workers", index, "modules"),
            "extra modules need an ES module worker; a classic script is uploaded as one part",
        )
    bindings = tuple(sorted((_binding(b) for b in spec.bindings), key=lambda b: b.name))
    return Worker(
        name=spec.name,
        format=fmt,
        script_digest=script_digest(modules),
        modules=tuple(modules),
        compatibility_date=spec.compatibility_date,
        compatibility_flags=tuple(spec.compatibility_flags),
        bindings=bindings,
        managed=True,
        location=doc.at("workers", index),
    )


def merge(
    documents: Sequence[LoadedDocument],
    *,
    allow_outside_files: bool = False,
    problems: Sequence[Problem] = (),
) -> ManifestSet:
    """Cross-check and merge; `problems` found earlier are reported with these, all at once."""
    check = _Checker(allow_outside_files)
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

    def invalid(key: tuple[str, str]) -> bool:
        """Entries that failed validation were reported already; do not call them undeclared."""
        return any(key in doc.invalid for doc in documents)

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
            if secret.store not in state.stores and not invalid(("stores", secret.store)):
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
                value_from=check.value_source(doc, i, secret),
                location=where,
            )

    for doc in documents:
        for i, spec in doc.workers:
            where = doc.at("workers", i, "name")
            if not check.unique(seen, ("worker", spec.name), where, f"worker {spec.name!r}"):
                continue
            _check_bindings(check, state, doc, i, spec, invalid)
            worker = _worker(check, doc, i, spec)
            if worker is not None:
                state.workers[spec.name] = worker

    if check.problems:
        raise ManifestError(check.problems)
    files = list(dict.fromkeys(d.path for d in documents))
    return ManifestSet(state, _digest(files, check.hashed.values()), files)


def _digest(manifests: list[Path], scripts: Iterable[bytes]) -> str:
    """What a saved plan was made from: file contents only, so the working directory a
    command runs from (and so the paths it prints) does not make a plan look stale."""
    contents = [p.read_bytes() for p in manifests] + list(scripts)
    hashes = sorted(hashlib.sha256(c).hexdigest() for c in contents)
    return "sha256:" + hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def _check_bindings(
    check: _Checker,
    state: State,
    doc: LoadedDocument,
    index: int,
    spec: WorkerSpec,
    invalid: Callable[[tuple[str, str]], bool],
) -> None:
    names: dict[object, Location] = {}
    for j, binding in enumerate(spec.bindings):
        where = doc.at("workers", index, "bindings", j)
        check.unique(
            names,
            binding.name,
            doc.at("workers", index, "bindings", j, "name"),
            f"binding name {binding.name!r} in worker {spec.name!r}",
        )
        if not isinstance(binding, SecretsStoreSecretBinding):
            continue
        if binding.store not in state.stores:
            if invalid(("stores", binding.store)):
                continue
            check.add(
                where,
                f"binding {binding.name!r} names store {binding.store!r}, "
                "which is not declared under `stores:`",
            )
            continue
        secret = state.secrets.get((binding.store, binding.secret))
        if secret is None:
            if invalid(("secrets", binding.secret)):
                continue
            check.add(
                where,
                f"binding {binding.name!r} names secret {binding.secret!r}, which is "
                f"not declared in store {binding.store!r}",
            )
        elif "workers" not in secret.scopes:
            assert secret.location is not None
            check.add(
                where,
                f"binding {binding.name!r} needs secret {binding.secret!r} to have the "
                "`workers` scope; add it to the secret's scopes",
                secret.location,
            )


def load_manifests(
    paths: Sequence[str | Path], *, allow_outside_files: bool = False
) -> ManifestSet:
    """Load, validate and merge a manifest set; raises ManifestError with every problem."""
    files, problems = discover(paths)
    documents, more = load_documents_from(files)
    return merge(documents, allow_outside_files=allow_outside_files, problems=problems + more)
