"""Merge validated documents into one Desired state, checking everything that spans them.

Every problem of a run is collected and raised together, each with its location.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reconciler.errors import Location, ManifestError, Problem, ValueSourceError
from reconciler.manifest.files import (
    MAX_MANIFEST_BYTES,
    MAX_SCRIPT_BYTES,
    SCRIPT_TOO_LARGE,
    FileRefusedError,
    read_manifest_file,
)
from reconciler.manifest.loader import LoadedDocument, discover, load_documents_from
from reconciler.manifest.models import (
    JsonBinding,
    KvNamespaceBinding,
    PlainTextBinding,
    SecretsStoreSecretBinding,
    SecretTextBinding,
    ValueFrom,
    WorkerSpec,
)
from reconciler.manifest.sources import Resolution, Source
from reconciler.manifest.sources.aws_secretsmanager import AwsSecretSource
from reconciler.manifest.sources.command import CommandSource
from reconciler.manifest.sources.sops import SopsSource, input_type
from reconciler.manifest.values import ValueSource
from reconciler.state import (
    Binding,
    Module,
    ModuleFile,
    Secret,
    State,
    Store,
    Worker,
    WorkerSecret,
    script_digest,
)


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


class _Checker:
    def __init__(self, allow_outside_files: bool, allow_commands: bool) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.allow_outside_files = allow_outside_files
        self.allow_commands = allow_commands
        # sha256 of every file a manifest names, by path: the manifest digest hashes these.
        self.hashed: dict[str, str] = {}
        # One run's external values: each sops file, AWS secret or command resolved once.
        self.resolution = Resolution()

    def add(self, where: Location, message: str, *related: Location) -> None:
        self.problems.append(Problem(where, message, tuple(related)))

    def unique(self, seen: dict[object, Location], key: object, where: Location, what: str) -> bool:
        if key in seen:
            self.add(where, f"duplicate {what}; it is already declared", seen[key])
            return False
        seen[key] = where
        return True

    def warn(self, where: Location, message: str) -> None:
        self.warnings.append(Problem(where, message))

    def root(self, doc: LoadedDocument) -> Path | None:
        """The directory a file the document names must stay in (None: outside allowed)."""
        return None if self.allow_outside_files else doc.path.parent

    def read_file(
        self, doc: LoadedDocument, relative: str, where: Location, what: str
    ) -> bytes | None:
        """A script or module file through the one file policy; the problem names the spot."""
        try:
            data = read_manifest_file(
                doc.path.parent / relative,
                root=self.root(doc),
                limit=MAX_SCRIPT_BYTES,
                too_large=SCRIPT_TOO_LARGE,
            )
        except FileRefusedError as exc:
            self.add(where, f"{what} {relative} {exc}")
            return None
        self.hashed[str(doc.path.parent / relative)] = hashlib.sha256(data).hexdigest()
        return data

    def value_source(
        self, doc: LoadedDocument, where: Location, value_from: ValueFrom
    ) -> ValueSource:
        """The one value-source check, for Secrets Store secrets and worker secrets alike."""
        ref = value_from
        external = self.external(doc, where, ref)
        if external is not None:
            return ValueSource(external=external, resolution=self.resolution, where=where)
        if ref.env is not None:
            source = ValueSource(env=ref.env, where=where)
            # Unset is not an error: CI may set a variable only in the jobs that plan or
            # apply. It is a warning, since that plan would report missing_value.
            if source.available():
                self.check_readable(where, source)
            else:
                self.warn(
                    where,
                    f"the environment variable {source.env} is not set here; plan and apply "
                    "report missing_value unless it is set when they run",
                )
            return source
        assert ref.file is not None
        source = ValueSource(file=doc.path.parent / ref.file, root=self.root(doc), where=where)
        self.check_readable(where, source)
        return source

    def external(self, doc: LoadedDocument, where: Location, ref: ValueFrom) -> Source | None:
        """A sops, AWS or command source, its shape checked offline (nothing is resolved)."""
        if ref.sops is not None:
            path = doc.path.parent / ref.sops.file
            try:  # the one file policy, offline: the file is decrypted only when needed
                read_manifest_file(
                    path, root=self.root(doc), limit=MAX_MANIFEST_BYTES, too_large=_SOPS_TOO_LARGE
                )
            except FileRefusedError as exc:
                self.add(where, f"value_from: sops file {ref.sops.file} {exc}")
            if input_type(path) is None:
                self.add(
                    where, f"value_from: sops file {ref.sops.file} is not .yaml, .json or .env"
                )
            return SopsSource(path, self.root(doc), ref.sops.key, str(where))
        if ref.aws_secretsmanager is not None:
            aws = ref.aws_secretsmanager
            return AwsSecretSource(aws.secret_id, aws.key, str(where))
        if ref.command is not None:
            if not self.allow_commands:
                self.add(
                    where,
                    f"value_from: command {ref.command[0]!r} runs a program, refused unless "
                    "--allow-commands is given (never on a run of untrusted manifests, such as "
                    "a pull request's plan)",
                )
            return CommandSource(tuple(ref.command), str(where))
        return None

    def check_readable(self, where: Location, source: ValueSource) -> None:
        """The reader's own rules (file policy, size, encoding, not empty); the value is
        dropped at once."""
        try:
            source.read()
        except ValueSourceError as exc:
            self.add(where, f"value_from: {exc}")

    def rejected_files(self, doc: LoadedDocument) -> None:
        """Entries that failed validation still name files: check those, so that one problem
        (a bad worker name) does not hide another (its missing script)."""
        for section, index, item in doc.rejected:
            if section == "workers":
                script = item.get("script")
                if isinstance(script, str) and script:
                    self.read_file(doc, script, doc.at(section, index, "script"), "script file")
                modules = item.get("modules")
                for j, extra in enumerate(modules if isinstance(modules, list) else []):
                    if isinstance(extra, str) and extra:
                        where = doc.at(section, index, "modules", j)
                        self.read_file(doc, extra, where, "module file")
                bindings = item.get("bindings")
                for j, b in enumerate(bindings if isinstance(bindings, list) else []):
                    if isinstance(b, dict) and b.get("type") == "secret_text":
                        where = doc.at(section, index, "bindings", j, "value_from")
                        self.rejected_value_file(doc, where, b.get("value_from"))
            elif section == "secrets":
                where = doc.at(section, index, "value_from")
                self.rejected_value_file(doc, where, item.get("value_from"))

    def rejected_value_file(self, doc: LoadedDocument, where: Location, value_from: object) -> None:
        """The file a rejected entry's `value_from` names, checked like any other."""
        if not isinstance(value_from, dict) or "env" in value_from:
            return
        file = value_from.get("file")
        if isinstance(file, str) and file:
            source = ValueSource(file=doc.path.parent / file, root=self.root(doc))
            self.check_readable(where, source)


_SOPS_TOO_LARGE = f"is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB"


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
    names = [PurePosixPath(spec.script).name] + [
        os.path.relpath(base / extra, main_path.parent).replace(os.sep, "/")
        for extra in spec.modules
    ]
    files = [("script file", spec.script, doc.at("workers", index, "script"))] + [
        ("module file", extra, doc.at("workers", index, "modules", j))
        for j, extra in enumerate(spec.modules)
    ]
    # Each file is read once here, hashed and let go; the upload reads it again (ModuleFile).
    modules: list[Module] = []
    refs: list[ModuleFile] = []
    for name, (what, relative, where) in zip(names, files, strict=True):
        data = check.read_file(doc, relative, where, what)
        if data is None:
            continue
        modules.append(Module(name, data))
        refs.append(
            ModuleFile(
                name,
                base / relative,
                check.root(doc),
                check.hashed[str(base / relative)],
                f"{what} {relative}",
            )
        )
    if len(modules) != len(files):
        return None
    fmt = spec.format
    if fmt == "auto":
        fmt = detect_format(modules[0].content.decode("utf-8", errors="replace"))
    if fmt == "classic" and spec.modules:
        check.add(
            doc.at("workers", index, "modules"),
            "extra modules need an ES module worker; a classic script is uploaded as one part",
        )
    bindings = tuple(
        sorted(
            (_binding(b) for b in spec.bindings if not isinstance(b, SecretTextBinding)),
            key=lambda b: b.name,
        )
    )
    secrets = tuple(
        sorted(
            (
                WorkerSecret(
                    b.name,
                    value_from=check.value_source(
                        doc, doc.at("workers", index, "bindings", j, "value_from"), b.value_from
                    ),
                    location=doc.at("workers", index, "bindings", j),
                )
                for j, b in enumerate(spec.bindings)
                if isinstance(b, SecretTextBinding)
            ),
            key=lambda s: s.name,
        )
    )
    return Worker(
        name=spec.name,
        format=fmt,
        script_digest=script_digest(modules),
        modules=tuple(refs),
        compatibility_date=spec.compatibility_date,
        compatibility_flags=tuple(spec.compatibility_flags),
        bindings=bindings,
        secrets=secrets,
        managed=True,
        location=doc.at("workers", index),
    )


def merge(
    documents: Sequence[LoadedDocument],
    *,
    allow_outside_files: bool = False,
    allow_commands: bool = False,
    problems: Sequence[Problem] = (),
) -> ManifestSet:
    """Cross-check and merge; `problems` found earlier are reported with these, all at once."""
    check = _Checker(allow_outside_files, allow_commands)
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
            _check_bindings(check, state, doc, i, spec, invalid)
            worker = _worker(check, doc, i, spec)
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
    paths: Sequence[str | Path], *, allow_outside_files: bool = False, allow_commands: bool = False
) -> ManifestSet:
    """Load, validate and merge a manifest set; raises ManifestError with every problem."""
    files, problems = discover(paths, allow_outside_files=allow_outside_files)
    documents, more = load_documents_from(files)
    return merge(
        documents,
        allow_outside_files=allow_outside_files,
        allow_commands=allow_commands,
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
