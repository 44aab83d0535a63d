"""One actionable sentence per known API failure: what failed, why, what to do.

The CLI calls this; it is the only place that maps Cloudflare codes to advice.
"""

from __future__ import annotations

from reconciler.errors import ApiError


def explain(error: ApiError, *, stores: list[str] | None = None) -> str:
    what = f"{error.method} {error.path}"
    msg = error.api_message
    if error.has_code(10000) and error.status == 401:
        return (
            f"{what} was refused (10000 authentication error, HTTP 401): the API token was "
            "not accepted (invalid, expired or revoked); set CLOUDFLARE_API_TOKEN to a valid token."
        )
    if error.has_code(10000):
        needed = error.permission or "the product permission for this call"
        return (
            f"{what} was refused (10000 authentication error): the API token is not "
            f"authorised for this account or lacks the {needed} permission; "
            f"edit the token to include this account and {needed}, then run again."
        )
    if error.has_code(9109):
        return (
            f"{what} was refused (9109 unauthorized): the API token may not access this "
            "resource; grant the token the needed permission or use another token."
        )
    if error.has_code(9106):
        return (
            f"{what} failed (9106 authentication failed): the API token is invalid, "
            "expired or malformed; set CLOUDFLARE_API_TOKEN to a valid token."
        )
    if error.has_code(10215):
        return (
            f"{what} failed (10215 latest version not deployed): the worker's newest version "
            "does not serve all traffic (a gradual deployment is under way), and the API takes "
            "no secret change until it does; finish the rollout (`rollout: {percentage: 100}`) "
            "or roll it back, apply, then change the secret."
        )
    if error.has_code(10220):
        return (
            f"{what} failed (10220): a version of this deployment has other secrets than the "
            "worker's newest version; deploy it with force (`reconciler rollback` and the "
            f"`rollout` key do), or choose another version. The API said: {msg}"
        )
    if "store_not_empty" in msg:
        return (
            f"{what} failed (409 store_not_empty): the store still holds secrets; "
            "delete them first (or let --prune remove managed ones), then delete the store."
        )
    if error.has_code(1001) and ("store_not_found" in msg or "secret_not_found" in msg):
        return (
            f"{what} failed (1001 {msg}): the store or secret no longer exists "
            "(changed out of band?); run plan again to see the current state."
        )
    if error.has_code(1003) and "secret_name_already_exists" in msg:
        return (
            f"{what} failed (1003 secret_name_already_exists): a secret with that name "
            "already exists in the store; run plan again so the secret is adopted or replaced."
        )
    if error.has_code(1003):
        current = f"; the account already has: {', '.join(stores)}" if stores else ""
        return (
            f"{what} failed (1003 maximum_stores_exceeded): the account has reached its "
            f"Secrets Store limit (one store on free and standard plans){current}; "
            "use the existing store in the manifest or delete it first."
        )
    if error.has_code(1001):
        return (
            f"{what} was rejected (1001 {msg}): the API did not accept the request body; "
            "if this is a secret update, the API version rejects PATCH, so change the secret "
            "by delete-then-recreate (the default strategy)."
        )
    if error.has_code(10007):
        return (
            f"{what} failed (10007 not found): the Worker does not exist on this account "
            "(it may have been deleted out of band); run plan again to see the current state."
        )
    if error.has_code(10021):
        return (
            f"{what} failed (10021): the Worker failed Cloudflare's validation: {msg}; fix what "
            "it names (the script or its format, ES module vs classic; a binding; a setting) "
            "and apply again."
        )
    if error.has_code(7003):
        return (
            f"{what} failed (7003 no route): the account id or resource id in the URL is "
            "wrong; check account_id, --account-id or CLOUDFLARE_ACCOUNT_ID."
        )
    if error.status == 429:
        wait = f"{error.retry_after:.0f} seconds" if error.retry_after is not None else "5 minutes"
        return (
            f"{what} was rate limited (HTTP 429): Cloudflare allows 1200 requests per "
            f"5 minutes per token; wait {wait} before retrying, or lower --concurrency."
        )
    if error.status >= 500:
        return (
            f"{what} failed on Cloudflare's side (HTTP {error.status}: {msg}) after retries; "
            "try again in a few minutes (check https://www.cloudflarestatus.com)."
        )
    timeouts = ("ReadTimeout", "WriteTimeout", "PoolTimeout", "RequestTimeout")
    if error.status == 0 and any(t in msg for t in timeouts):
        return (
            f"{what} timed out ({msg}) after retries: the API{_at(error)} took the request but "
            "did not answer in time; try again later, or allow more time with --timeout SECONDS."
        )
    if error.status == 0:
        return (
            f"{what} failed ({msg}) after retries: nothing answered{_at(error)}; "
            f"check that the server runs, the network, and {_source(error)}."
        )
    codes = ",".join(str(c) for c in error.codes) or "none"
    if error.status == 404 and not error.codes:
        return (
            f"{what} failed (HTTP 404, code none): {msg}; the server{_at(error)} does not "
            "speak the Cloudflare API there: the base URL must end in /client/v4 "
            f"(e.g. https://api.cloudflare.com/client/v4); check {_source(error)}."
        )
    return f"{what} failed (HTTP {error.status}, code {codes}): {msg}."


def _at(error: ApiError) -> str:
    """` at URL (from SOURCE)`: the server we asked, credentials never included."""
    if not error.base_url:
        return ""
    source = error.base_url_source
    origin = f" (from {source})" if source and source != "the default" else ""
    return f" at {error.base_url}{origin}"


def _source(error: ApiError) -> str:
    source = error.base_url_source
    if source and source != "the default":
        return source
    return "--api-base-url or CLOUDFLARE_API_BASE_URL"
