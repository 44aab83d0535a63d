"""The `reconciler://guide` resource: what an agent must know before it edits manifests."""

from __future__ import annotations

GUIDE = """\
# reconciler for coding agents

reconciler makes a Cloudflare account match YAML manifests: Workers scripts, Secrets
Store stores and secrets. You edit manifests; the tools plan and apply. Never call the
Cloudflare API by hand for these resources.

## Workflow

1. Edit the manifests (default directory: `manifests/`; every `*.yaml` in it).
2. `validate`: fix every problem (file, line, column, message) before planning.
3. `plan`: show the user the `text` and wait for approval. Keep the `plan_id`.
4. `apply` with that `plan_id` (offered only when the server runs with
   `--allow-apply`). It applies only if a fresh plan still equals the shown plan; when
   the account or the manifests changed, it refuses and changes nothing: plan again.
5. `drift` tells whether the account still matches (`in_sync`).

## Manifest format (`reconciler://manifest-schema` is the JSON Schema)

```yaml
account_id: 023e105f4ecef8ad9ca31a8372d0c353   # needed when the token sees several accounts
stores:
  - name: default_secrets_store
secrets:
  - store: default_secrets_store
    name: api_key
    scopes: [workers]
    comment: Payment API key
    value_from: {env: API_KEY}        # or {file: secrets/api_key.txt}
workers:
  - name: hello
    script: workers/hello.js          # ES module or classic, detected
    compatibility_date: "2025-01-01"
    bindings:
      - {type: secrets_store_secret, name: API_KEY, store: default_secrets_store, secret: api_key}
      - {type: secret_text, name: DB_URL, value_from: {env: HELLO_DB_URL}}  # the worker's own
      - {type: d1, name: DB, database_id: 5f092ab3-1a1f-4b62-9c1c-3d0a7d1f6b11}  # API field names
      - {type: durable_object_namespace, name: ROOMS, class_name: Room}
    migrations:                       # Durable Object migrations, oldest first (as wrangler's)
      - {tag: v1, new_sqlite_classes: [Room]}
```

## Rules that matter

- Secret values (store secrets and `secret_text` worker secrets) come only through
  `value_from` (an environment variable or a file).
  Never write a value into a manifest, a tool argument or a message; no tool ever
  returns one (plans show `(sensitive)`).
- Stores are scarce: most accounts may have one Secrets Store. Put new secrets into
  the existing store instead of declaring another; a plan past the limit has a
  `store_limit` conflict and is never applied.
- A token that sees several accounts needs `account_id` in the manifest (or the
  server's `--account-id`).
- Nothing undeclared is touched. Managed resources no manifest declares are deleted
  only by a plan made with `prune: true`.
- Bindings take the Workers API's own field names; every type of Cloudflare's schema is
  accepted (`validate` lists them). Never drop a step from `migrations`: apply sends only
  the steps after the worker's live tag, and a live tag the steps do not list is a
  `migration_tag` conflict.
- A secret's value changes only when its fingerprint key is set; to rotate a value on
  purpose, plan with `replace: ["store/name"]`.

## Exit codes (the CLI's; plan and drift results carry `exit_code`)

- 0: success, no changes, in sync
- 1: error (tool errors carry the CLI's one-sentence message: what failed, why, what to do)
- 2: changes present (plan) or drift (drift)
- 3: conflicts: the plan cannot be applied until they are resolved
"""
