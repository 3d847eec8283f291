"""Pulumi components and the cloud adapters they are built from."""

__all__: list[str] = []
