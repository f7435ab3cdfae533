"""Shared helpers used by every layer (errors, canonical JSON, offline guards)."""
