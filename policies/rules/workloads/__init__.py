"""Policy rules for Kubernetes objects: pod security, resources, images, Services, RBAC, PDBs."""

from .. import Rule
from . import containers, objects, pods

# The order of every report.
RULES: tuple[Rule, ...] = (*pods.RULES, *containers.RULES, *objects.RULES)
