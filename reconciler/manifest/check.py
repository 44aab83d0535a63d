"""The merge's checker: problems and warnings with their locations, the one file policy for
the files a manifest names, and the one value-source check."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from reconciler.credentials import CREDENTIAL_VARS
from reconciler.errors import Location, Problem, ValueSourceError
from reconciler.file_policy import (
    MAX_MANIFEST_BYTES,
    MAX_SCRIPT_BYTES,
    SCRIPT_TOO_LARGE,
    FileRefusedError,
    read_manifest_file,
)
from reconciler.manifest.loader import LoadedDocument
from reconciler.manifest.models import ValueFrom
from reconciler.manifest.sources.aws_secretsmanager import AwsSecretSource
from reconciler.manifest.sources.command import CommandSource
from reconciler.manifest.sources.sops import SopsSource, input_type
from reconciler.values import Resolution, Source, ValueSource

_SOPS_TOO_LARGE = f"is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB"


class Checker:
    """Collects a run's problems and warnings, each at its location, and holds the file
    policy and value-source checks every part of the merge uses."""

    def __init__(
        self,
        allow_outside_files: bool,
        allow_commands: bool,
        allow_credential_env: frozenset[str] = frozenset(),
    ) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.allow_outside_files = allow_outside_files
        self.allow_commands = allow_commands
        self.allow_credential_env = allow_credential_env
        # sha256 of every file a manifest names, by path: the manifest digest hashes these.
        self.hashed: dict[str, str] = {}
        # One run's external values: each sops file, AWS secret or command resolved once.
        self.resolution = Resolution()
        # Every document of the run: entries that failed validation are not undeclared.
        self.documents: Sequence[LoadedDocument] = ()

    def invalid(self, key: tuple[str, str]) -> bool:
        """Entries that failed validation were reported already; do not call them undeclared."""
        return any(key in doc.invalid for doc in self.documents)

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
            if ref.env in CREDENTIAL_VARS and ref.env not in self.allow_credential_env:
                self.add(
                    where,
                    f"value_from: {ref.env} is one of reconciler's own credentials: a secret "
                    "made from it could hand them to whoever can read the Worker; refused "
                    f"unless the run is given --allow-credential-env {ref.env}",
                )
                return source
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
