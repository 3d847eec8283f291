"""llmplane's components as a Pulumi component package, for programs in any Pulumi language.

The Pulumi CLI runs this folder as a plugin (see PulumiPlugin.yaml): the Python language host
starts `python components/ <engine address> [flags]`. The provider reads the components' type
annotations and docstrings with Pulumi's analyzer, serves the schema that `pulumi package add`
generates SDKs from (components/schema.json is its golden copy), and builds a component whenever
a program asks for one.

Serving blocks until the CLI stops the plugin, so nothing may import this file. The tests load it
with runpy under another name, which defines PACKAGE, COMPONENTS, VERSION and `provider` and
serves nothing.
"""

import sys
from pathlib import Path

_FOLDER = Path(__file__).resolve().parent

# Python puts the folder it runs first on sys.path. That folder is components/, whose modules
# are llmplane.components' and must not import as top-level ones: kubernetes/ would shadow the
# Kubernetes client. Everything this file needs comes from the installed llmplane instead.
if sys.path and Path(sys.path[0] or ".").resolve() == _FOLDER:
    del sys.path[0]

from importlib.metadata import version  # noqa: E402

import pulumi  # noqa: E402
from pulumi.errors import InputPropertyError  # noqa: E402
from pulumi.provider import main  # noqa: E402
from pulumi.provider.experimental.analyzer import PropertyDefinition, PropertyType  # noqa: E402
from pulumi.provider.experimental.component import ComponentProvider  # noqa: E402

from llmplane.components.kubernetes.inference import InferenceService  # noqa: E402

PACKAGE = "llmplane"
"""The package name: type tokens `llmplane:index:<Component>`, the Node.js SDK @pulumi/llmplane."""

COMPONENTS: list[type[pulumi.ComponentResource]] = [InferenceService]
"""The public components the analyzer accepts; a test fails when another one becomes analyzable."""

VERSION = version("llmplane")
"""The distribution's version, which the generated SDKs take (the host's default is 0.0.0)."""


class IntegerInputsProvider(ComponentProvider):
    """The SDK's component provider, with integer inputs delivered as `int`.

    Every number crosses the wire as a float. The SDK means to convert integer inputs back, but
    its `map_input_properties` assigns the float again right after the conversion (pulumi
    3.272.0, and pulumi/pulumi HEAD 1b5949891b). A YAML or TypeScript program's
    `maxInputTokens: 4096` would then reach TGI as `--max-input-tokens 4096.0`, which it
    refuses. A test notices when the SDK no longer needs this.
    """

    def map_input_properties(
        self,
        inputs: pulumi.Inputs,
        properties: dict[str, PropertyDefinition],
        mapping: dict[str, str],
        component_name: str,
        property_path: str,
    ) -> pulumi.Inputs:
        """The SDK's mapping (nested types come back through here), then whole floats as int."""
        mapped = dict(
            super().map_input_properties(inputs, properties, mapping, component_name, property_path)
        )
        for schema_name, prop in properties.items():
            value = mapped.get(mapping[schema_name])
            if prop.type != PropertyType.INTEGER or not isinstance(value, float):
                continue
            path = f"{property_path}.{schema_name}" if property_path else schema_name
            if not value.is_integer():
                raise InputPropertyError(path, f"{path} must be a whole number, not {value!r}")
            mapped[mapping[schema_name]] = int(value)
        return mapped


def provider() -> ComponentProvider:
    """The provider `component_provider_host(COMPONENTS, PACKAGE, version=VERSION)` would build."""
    return IntegerInputsProvider(COMPONENTS, PACKAGE, None, VERSION)


if __name__ == "__main__":
    # What component_provider_host does, with the provider above: the language host passes the
    # engine's address and flags, which the SDK's gRPC server parses.
    main(provider(), sys.argv[1:])
