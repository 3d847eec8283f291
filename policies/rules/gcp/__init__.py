"""Policy rules for GCP: GKE clusters and node pools, Artifact Registry, Cloud KMS, firewalls."""

from .. import Rule
from . import firewall, gke, kms, nodes, registry

# The order of every report.
RULES: tuple[Rule, ...] = (*gke.RULES, *nodes.RULES, *registry.RULES, *kms.RULES, *firewall.RULES)
