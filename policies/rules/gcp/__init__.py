"""Policy rules for GCP: GKE clusters and node pools, Artifact Registry, Cloud KMS, firewalls."""

# Imported for their registrations; this order is the order in every report, so it stays unsorted.
# isort: off
from policies.rules.gcp import gke, nodes, registry, kms, firewall  # noqa: F401
# isort: on
