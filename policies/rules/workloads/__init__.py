"""Policy rules for Kubernetes objects: pod security, resources, images, Services, RBAC, PDBs."""

# Imported for their registrations; this order is the order in every report, so it stays unsorted.
# isort: off
from . import pods, containers, objects  # noqa: F401
# isort: on
