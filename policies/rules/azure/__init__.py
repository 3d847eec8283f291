"""Policy rules for Azure: AKS clusters and agent pools, Container Registry, Key Vault, keys."""

# Imported for their registrations; this order is the order in every report, so it stays unsorted.
# isort: off
from . import aks, registry, keyvault  # noqa: F401
# isort: on
