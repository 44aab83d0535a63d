"""`value_from: {aws_secretsmanager: {secret_id: ..., key: ...}}`: an AWS Secrets Manager secret.

The secret's string, or one key of its JSON object. boto3 is an optional extra
(`pip install 'cf-reconciler[aws]'`); region, credentials and endpoint come from the usual AWS
environment (AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...). Each secret id
is fetched once per run for all its keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ValueSourceError
from reconciler.manifest.sources.sops import pick_key

_HINT = {
    "ResourceNotFoundException": "no such secret in this account and region",
    "AccessDeniedException": "the AWS credentials may not read it (secretsmanager:GetSecretValue)",
    "DecryptionFailure": "its KMS key cannot be used by these credentials",
    "UnrecognizedClientException": "the AWS credentials are not valid",
}


@dataclass(frozen=True)
class AwsSecretSource:
    secret_id: str
    key: str | None
    where: str

    def describe(self) -> str:
        key = f", key {self.key}" if self.key else ""
        return f"AWS Secrets Manager secret {self.secret_id}{key} ({self.where})"

    def load_key(self) -> tuple[str, str]:
        return ("aws_secretsmanager", self.secret_id)

    def load(self, masks: frozenset[str]) -> str:
        what = f"AWS Secrets Manager secret {self.secret_id} ({self.where})"
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import (
                BotoCoreError,
                ClientError,
                NoCredentialsError,
                NoRegionError,
            )
        except ImportError:
            raise ValueSourceError(
                f"the {what} needs boto3: pip install 'cf-reconciler[aws]'"
            ) from None
        config = Config(connect_timeout=10, read_timeout=30, retries={"max_attempts": 3})
        try:
            client = boto3.client("secretsmanager", config=config)
            answer = client.get_secret_value(SecretId=self.secret_id)
        except NoRegionError:
            raise ValueSourceError(f"the {what}: no AWS region; set AWS_DEFAULT_REGION") from None
        except NoCredentialsError:
            raise ValueSourceError(f"the {what}: no AWS credentials in the environment") from None
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "error"))
            hint = _HINT.get(code, "")
            raise ValueSourceError(
                f"the {what} cannot be read: {code}{f' ({hint})' if hint else ''}"
            ) from None
        except BotoCoreError as exc:
            # botocore's messages name endpoints and settings, never a secret value.
            raise ValueSourceError(f"the {what} cannot be read: {exc}") from None
        text = answer.get("SecretString")
        if not isinstance(text, str):
            raise ValueSourceError(f"the {what} holds binary data, not a string")
        return text

    def pick(self, loaded: str) -> bytes:
        if self.key is None:
            return loaded.encode("utf-8")
        what = f"AWS Secrets Manager secret {self.secret_id} ({self.where})"
        try:
            document: Any = json.loads(loaded)
        except ValueError:
            raise ValueSourceError(
                f"the {what} is not JSON, so it has no key {self.key!r}"
            ) from None
        return pick_key(document, self.key, what)
