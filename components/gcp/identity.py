"""Workload identity on GKE: a Google service account one Kubernetes ServiceAccount may act as."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from ..cloud import WorkloadIdentity

if TYPE_CHECKING:
    from .args import GkeWorkloadIdentityArgs

__all__ = ["WORKLOAD_IDENTITY_USER", "GkeWorkloadIdentity"]

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


class GkeWorkloadIdentity(pulumi.ComponentResource):
    """A Google service account with no roles, which only the given ServiceAccount may act as."""

    email: pulumi.Output[str]
    """The Google service account's email; grant it roles to give the workload access."""
    identity: WorkloadIdentity
    """The annotation that makes the Kubernetes ServiceAccount act as the Google one."""

    def __init__(
        self,
        name: str,
        args: GkeWorkloadIdentityArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """The account `<name>-engine` and its workloadIdentityUser binding for the workload."""
        super().__init__("llmplane:gcp:WorkloadIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = gcp.serviceaccount.Account(
            f"{name}-engine",
            # Account ids are at most 30 characters.
            account_id=f"{args.account_prefix}-engine"[:30],
            display_name=f"llmplane {args.account_prefix} inference engine",
            opts=child,
        )
        workload = args.workload
        gcp.serviceaccount.IAMMember(
            f"{name}-engine-workload-identity",
            service_account_id=account.name,
            role=WORKLOAD_IDENTITY_USER,
            member=pulumi.Output.concat(
                "serviceAccount:",
                args.project,
                f".svc.id.goog[{workload.namespace}/{workload.service_account}]",
            ),
            opts=child,
        )
        self.email = account.email
        self.identity = WorkloadIdentity(annotations={"iam.gke.io/gcp-service-account": self.email})
        self.register_outputs({"email": self.email})
