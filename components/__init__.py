"""Pulumi components and the cloud adapters they are built from."""
