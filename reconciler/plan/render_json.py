"""The plan as JSON: the plan file `apply --plan` reads, and the format users' scripts parse.

Version 1 (extend, never rename). Key order is fixed; the output ends with a newline.

    {
      "version": 1,
      "account_id": "<account id>",
      "actions": [                      # in the order apply runs them
        {"action": "create|update|replace|delete|adopt",
         "kind": "store|secret|worker",
         "name": "<resource name>",
         "store": "<store name, secrets only, else null>",
         "changes": [{"field": "...", "before": ..., "after": ...}],
         "reason": "<why, for replace/adopt/delete; may be empty>"}
      ],
      "conflicts": [{"kind": "store_limit|missing_value|dangling_binding|safety_threshold",
                     "message": "..."}],
      "summary": {"create": n, "update": n, "replace": n, "delete": n, "adopt": n,
                  "no_op": n, "unmanaged": n},
      "live_digest": "sha256:<hash of the live state the plan was computed from>",
      "manifest_digest": "sha256:<hash of the manifests>",
      "warnings": ["..."],
      "unmanaged": [{"kind": "...", "name": "...", "store": null}],
      "options": {"prune": false, "force": false, "replace": []},
      "value_pins": {"salt": "<32 hex digits, new per plan>",   # null: made without a key
                     "pins": [{"kind": "secret|worker_secret", "name": "...",
                               "store": "<store, secrets only, else null>",
                               "worker": "<worker, worker_secret only; absent otherwise>",
                               "pin": "<64 hex digits>"}]}
    }

`drift --format json` is the same document, except that `options` holds drift's own
options (`{"fail_on": null|"unmanaged"}`): drift always compares as if pruning and never
applies, so the plan's options would say nothing true.

Change fields: secrets `comment`, `scopes`, `value` (always "(sensitive)" or null);
workers `script` (content digests), `compatibility_date`, `compatibility_flags`,
`bindings.<NAME>` (the binding as an object, null when absent). No secret value is
ever written. A value pin is HMAC-SHA256, keyed with RECONCILER_FINGERPRINT_KEY, over the
salt, the kind, the store or worker, the name and the value (`fingerprint.value_pin`): one
per value the plan resolved (written or compared), so `apply --plan` refuses a value that
changed since; without the key it tells nothing about the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from reconciler.plan.model import Plan


def render_json(plan: Plan, *, options: Mapping[str, object] | None = None) -> str:
    """`options` replaces the plan's options in the output (drift shows its own)."""
    doc = plan.to_dict()
    if options is not None:
        doc["options"] = dict(options)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
