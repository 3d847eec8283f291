"""A live endpoint: smoke checks, streaming, waiting, the load test, stack outputs."""

__all__: list[str] = []
