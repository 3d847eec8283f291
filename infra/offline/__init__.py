"""The offline engine: the program under Pulumi's mocks, per-cloud mocks, the SDK loader."""

__all__: list[str] = []
