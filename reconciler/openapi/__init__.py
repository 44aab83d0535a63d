"""Parts of Cloudflare's official OpenAPI schema, vendored, and what we derive from them.

`workers-bindings.json` is copied verbatim from cloudflare/api-schemas (its `x-source` names
the commit of each item); nothing about binding kinds is kept by hand elsewhere.
"""
