"""Stack settings: the pydantic models, the rules across keys, stack files, the one error."""

__all__: list[str] = []
