"""Sizing, catalog and cost: architectures, weights, fits, prices, comparisons (pure)."""

__all__: list[str] = []
