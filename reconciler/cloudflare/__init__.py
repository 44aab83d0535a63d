"""The live side: Cloudflare API client, live-state reader, worker upload encoding."""
