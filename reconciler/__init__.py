"""Declarative reconciler for Cloudflare Workers scripts and Secrets Store."""

__version__ = "0.1.0"
