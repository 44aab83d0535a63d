"""The environment variables that hold reconciler's own credentials.

A manifest comes from a pull request: a `value_from: {env: ...}` naming one of these would
turn the API token (or the fingerprint key) into a secret that a Worker can return. So they
are refused as value sources unless the run names the variable with
`--allow-credential-env NAME` (manifest/merge.py).
"""

from __future__ import annotations

TOKEN_VAR = "CLOUDFLARE_API_TOKEN"
FINGERPRINT_KEY_VAR = "RECONCILER_FINGERPRINT_KEY"

# The token and the fingerprint key reconciler reads, and the Cloudflare global API key
# (CLOUDFLARE_API_KEY, read by Cloudflare's SDKs and wrangler in the same CI jobs).
CREDENTIAL_VARS = frozenset({TOKEN_VAR, FINGERPRINT_KEY_VAR, "CLOUDFLARE_API_KEY"})
