"""Policy rules for GCP: GKE clusters and node pools, Artifact Registry, Cloud KMS, firewalls."""

# Imported for their registrations; this order is the order in every report, so it stays unsorted.
# isort: off
from . import gke, nodes, registry, kms, firewall  # noqa: F401
# isort: on
