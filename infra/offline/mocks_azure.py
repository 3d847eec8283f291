"""Azure answers for the offline mocks: ARM ids, identities' principals, vault and cluster URLs."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import pulumi
import yaml

# Fixed, obviously fake ids, so mocked resource ids look real but can never be mistaken for one.
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT = "11111111-1111-1111-1111-111111111111"
DEPLOYER = "22222222-2222-2222-2222-222222222222"

# Type token module -> (ARM provider namespace, resource type), for realistic resource ids.
_ARM_TYPES = {
    "resources:ResourceGroup": ("", ""),
    "containerservice:ManagedCluster": ("Microsoft.ContainerService", "managedClusters"),
    "keyvault:Vault": ("Microsoft.KeyVault", "vaults"),
    "compute:DiskEncryptionSet": ("Microsoft.Compute", "diskEncryptionSets"),
    "containerregistry:Registry": ("Microsoft.ContainerRegistry", "registries"),
    "managedidentity:UserAssignedIdentity": (
        "Microsoft.ManagedIdentity",
        "userAssignedIdentities",
    ),
    "network:VirtualNetwork": ("Microsoft.Network", "virtualNetworks"),
    "network:NatGateway": ("Microsoft.Network", "natGateways"),
    "network:PublicIPAddress": ("Microsoft.Network", "publicIPAddresses"),
    "network:PrivateEndpoint": ("Microsoft.Network", "privateEndpoints"),
    "network:NetworkSecurityGroup": ("Microsoft.Network", "networkSecurityGroups"),
    "privatedns:PrivateZone": ("Microsoft.Network", "privateDnsZones"),
}
# Child resources: their parent's input that names it, and their segment under the parent.
_CHILDREN = {
    "network:Subnet": ("virtualNetworkName", "Microsoft.Network/virtualNetworks", "subnets"),
    "keyvault:Key": ("vaultName", "Microsoft.KeyVault/vaults", "keys"),
    "keyvault:Secret": ("vaultName", "Microsoft.KeyVault/vaults", "secrets"),
    "containerservice:AgentPool": (
        "resourceName",
        "Microsoft.ContainerService/managedClusters",
        "agentPools",
    ),
    "containerregistry:CacheRule": (
        "registryName",
        "Microsoft.ContainerRegistry/registries",
        "cacheRules",
    ),
    "containerregistry:CredentialSet": (
        "registryName",
        "Microsoft.ContainerRegistry/registries",
        "credentialSets",
    ),
    "managedidentity:FederatedIdentityCredential": (
        "resourceName",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "federatedIdentityCredentials",
    ),
    "network:PrivateDnsZoneGroup": (
        "privateEndpointName",
        "Microsoft.Network/privateEndpoints",
        "privateDnsZoneGroups",
    ),
    "privatedns:VirtualNetworkLink": (
        "privateZoneName",
        "Microsoft.Network/privateDnsZones",
        "virtualNetworkLinks",
    ),
}
# The input that carries each resource's own name, where the heuristic below would pick a
# parent's: a federated credential also names its identity, a zone link its zone.
_OWN_NAME = {
    "authorization:RoleAssignment": "roleAssignmentName",
    "compute:DiskEncryptionSet": "diskEncryptionSetName",
    "containerregistry:CacheRule": "cacheRuleName",
    "containerregistry:CredentialSet": "credentialSetName",
    "containerregistry:Registry": "registryName",
    "containerservice:AgentPool": "agentPoolName",
    "containerservice:ManagedCluster": "resourceName",
    "keyvault:Key": "keyName",
    "keyvault:Secret": "secretName",
    "keyvault:Vault": "vaultName",
    "managedidentity:FederatedIdentityCredential": "federatedIdentityCredentialResourceName",
    "managedidentity:UserAssignedIdentity": "resourceName",
    "network:NatGateway": "natGatewayName",
    "network:NetworkSecurityGroup": "networkSecurityGroupName",
    "network:PrivateDnsZoneGroup": "privateDnsZoneGroupName",
    "network:PrivateEndpoint": "privateEndpointName",
    "network:PublicIPAddress": "publicIpAddressName",
    "network:Subnet": "subnetName",
    "network:VirtualNetwork": "virtualNetworkName",
    "privatedns:PrivateZone": "privateZoneName",
    "privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
    "resources:ResourceGroup": "resourceGroupName",
}
# ARM requires role assignment names to be GUIDs: azure-native's "uuid" auto-naming strategy.
_UUID_NAMED = frozenset({"authorization:RoleAssignment"})
# The inputs that carry a resource's own name, for types not in _OWN_NAME.
_NAME_INPUTS = (
    "resourceGroupName",
    "resourceName",
    "vaultName",
    "keyName",
    "secretName",
    "registryName",
    "subnetName",
    "virtualNetworkName",
    "natGatewayName",
    "publicIpAddressName",
    "privateEndpointName",
    "privateZoneName",
    "diskEncryptionSetName",
    "agentPoolName",
    "cacheRuleName",
    "credentialSetName",
    "networkSecurityGroupName",
)


def guid(*parts: str) -> str:
    """A stable GUID: mocked principals must be the same on every run."""
    return str(uuid.UUID(hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]))


def auto_name_field(type_: str, sdk_inputs: frozenset[str]) -> tuple[str, str] | None:
    """The name input azure-native fills in when the program leaves it out, if known.

    azure-native's Check (provider/pkg/provider/provider.go, getDefaultName) gives each name path
    parameter the logical name plus 8 random hex characters ("random"), or a GUID ("uuid").
    """
    kind = type_.split(":", 1)[1]
    field = _OWN_NAME.get(kind)
    if field is None:
        return None
    return field, "azure-uuid" if kind in _UUID_NAMED else "azure-random"


def _own_name(kind: str, name: str, inputs: dict[str, Any]) -> str:
    if kind in _OWN_NAME and inputs.get(_OWN_NAME[kind]) is not None:
        return str(inputs[_OWN_NAME[kind]])
    keys = [k for k in _NAME_INPUTS if k in inputs]
    if kind == "resources:ResourceGroup":
        return str(inputs.get("resourceGroupName", name))
    child = _CHILDREN.get(kind)
    own = [k for k in keys if k != "resourceGroupName" and (child is None or k != child[0])]
    return str(inputs[own[-1]]) if own else name


def resource(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    """ARM id and name of any azure-native resource, plus the computed fields a few need."""
    kind = type_.split(":", 1)[1]
    group = inputs.get("resourceGroupName", "rg")
    own = _own_name(kind, name, inputs)
    base = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"
    if kind == "resources:ResourceGroup":
        resource_id = base.rsplit("/", 1)[0] + f"/{own}"
    elif kind in _CHILDREN:
        parent_input, parent_type, segment = _CHILDREN[kind]
        resource_id = f"{base}/providers/{parent_type}/{inputs.get(parent_input)}/{segment}/{own}"
    elif kind == "authorization:RoleAssignment":
        resource_id = (
            f"{inputs.get('scope')}/providers/Microsoft.Authorization/roleAssignments/{own}"
        )
    else:
        namespace, arm_type = _ARM_TYPES.get(kind, ("Microsoft.Unknown", kind.split(":")[-1]))
        resource_id = f"{base}/providers/{namespace}/{arm_type}/{own}"
    state: dict[str, Any] = {"id": resource_id, "name": own}
    identity = inputs.get("identity")
    if isinstance(identity, dict):
        state["identity"] = _identity_response(identity, type_, name)
    extra = _COMPUTED.get(kind)
    if extra is not None:
        state.update(extra(own, inputs, resource_id))
    return state


def _identity_response(identity: dict[str, Any], type_: str, name: str) -> dict[str, Any]:
    """ARM answers a list of user-assigned identity ids with a map keyed by id."""
    response = dict(identity)
    assigned = identity.get("userAssignedIdentities")
    if isinstance(assigned, list):
        response["userAssignedIdentities"] = {
            str(i): {"principalId": guid("principal", str(i)), "clientId": guid("client", str(i))}
            for i in assigned
        }
    if "SystemAssigned" in str(identity.get("type", "")):
        response |= {"principalId": guid("principal", type_, name), "tenantId": TENANT}
    return response


def _location() -> str:
    return pulumi.Config("azure-native").get("location") or "eastus"


def _identity(own: str, inputs: dict[str, Any], resource_id: str) -> dict[str, Any]:
    return {
        "principalId": guid("principal", resource_id),
        "clientId": guid("client", resource_id),
        "tenantId": TENANT,
    }


def _vault(own: str, inputs: dict[str, Any], resource_id: str) -> dict[str, Any]:
    return {
        "properties": {
            **inputs.get("properties", {}),
            "vaultUri": f"https://{own}.vault.azure.net/",
        }
    }


def _key(own: str, inputs: dict[str, Any], resource_id: str) -> dict[str, Any]:
    uri = f"https://{inputs.get('vaultName')}.vault.azure.net/keys/{own}"
    version = guid("version", resource_id).replace("-", "")
    return {"keyUri": uri, "keyUriWithVersion": f"{uri}/{version}"}


def _secret(own: str, inputs: dict[str, Any], resource_id: str) -> dict[str, Any]:
    # Key Vault never returns a secret's value; the properties hold only its address.
    uri = f"https://{inputs.get('vaultName')}.vault.azure.net/secrets/{own}"
    return {"properties": {"secretUri": uri}}


def _registry(own: str, inputs: dict[str, Any], resource_id: str) -> dict[str, Any]:
    return {"loginServer": f"{own}.azurecr.io"}


def _cluster(own: str, inputs: dict[str, Any], resource_id: str) -> dict[str, Any]:
    fqdn = f"{own}-{guid(resource_id)[:8]}.hcp.{_location()}.azmk8s.io"
    return {
        "fqdn": fqdn,
        "privateFQDN": fqdn.replace(".hcp.", ".privatelink."),
        "oidcIssuerProfile": {
            **inputs.get("oidcIssuerProfile", {}),
            "issuerURL": f"https://{_location()}.oic.prod-aks.azure.com/{TENANT}/{guid(resource_id)}/",
        },
        "nodeResourceGroup": f"MC_{inputs.get('resourceGroupName')}_{own}_{_location()}",
    }


_COMPUTED = {
    "managedidentity:UserAssignedIdentity": _identity,
    "keyvault:Vault": _vault,
    "keyvault:Key": _key,
    "keyvault:Secret": _secret,
    "containerregistry:Registry": _registry,
    "containerservice:ManagedCluster": _cluster,
}


def user_credentials(args: dict[str, Any]) -> dict[str, Any]:
    """What AKS returns for an Entra ID cluster: a kubeconfig whose user runs kubelogin."""
    cluster = args.get("resourceName", "aks")
    server = f"https://{cluster}.hcp.{_location()}.azmk8s.io:443"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster, "cluster": {"server": server, "certificate-authority-data": "LS0t"}}
        ],
        "contexts": [
            {"name": cluster, "context": {"cluster": cluster, "user": f"clusterUser_{cluster}"}}
        ],
        "current-context": cluster,
        "users": [
            {
                "name": f"clusterUser_{cluster}",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": [
                            "get-token",
                            "--login",
                            "devicecode",
                            "--server-id",
                            "6dae42f8-4368-4678-94ff-3960e28e3630",
                        ],
                    }
                },
            }
        ],
    }
    encoded = base64.b64encode(yaml.safe_dump(kubeconfig).encode()).decode()
    return {"kubeconfigs": [{"name": "clusterUser", "value": encoded}]}


CALLS = {
    "azure-native:authorization:getClientConfig": lambda _: {
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
        "objectId": DEPLOYER,
        "clientId": DEPLOYER,
    },
    "azure-native:containerservice:listManagedClusterUserCredentials": user_credentials,
}
