"""Policy rules for Azure: AKS clusters and agent pools, Container Registry, Key Vault, keys."""

from .. import Rule
from . import aks, keyvault, registry

# The order of every report.
RULES: tuple[Rule, ...] = (*aks.RULES, *registry.RULES, *keyvault.RULES)
