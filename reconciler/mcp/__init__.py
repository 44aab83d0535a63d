"""`reconciler mcp`: the CLI's workflow (validate, plan, drift, apply, export) as MCP tools.

Coding agents get the same guard rails as people at a terminal: plans are computed by
`reconciler.workflow`, an apply runs only a plan the agent was shown and only while a
fresh plan still equals it, and no tool result carries a secret value or a token.
"""
