"""Tests: conformance, against the real things llmplane meets (Pulumi CLI rules, nginx, schemas)."""
