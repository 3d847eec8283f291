"""Components that need only Kubernetes: InferenceService, its engines and parts, KEDA."""

__all__: list[str] = []
