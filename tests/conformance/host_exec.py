"""What `pulumi-language-python-exec` does, for a test to run where the Pulumi CLI is missing.

The pulumi wheel on PyPI ships no `pulumi-language-python-exec`: the CLI's release puts that
script next to the `pulumi-language-python` host. The host runs it as `<venv>/bin/python <script>
--monitor ... --engine ... --project ... --root_directory ... --stack ... --pwd <program dir>
--dry_run true --parallel N --organization ... <entry point>` (sdk/python/cmd/
pulumi-language-python/main.go, `Run` and `constructArguments`), with PULUMI_CONFIG and
PULUMI_CONFIG_SECRET_KEYS in the environment. This file does what that script does
(sdk/python/cmd/pulumi-language-python-exec, pulumi/pulumi 1b5949891b), step by step:

1. parse the same arguments;
2. load PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS into the SDK's config;
3. configure the SDK's runtime settings: monitor, engine, project, stack, parallelism, dry run,
   organization and root directory;
4. set `sys.argv` to the program and its arguments, and change to `--pwd`;
5. run the program with `runpy` as `__main__` inside the SDK's stack, on a fresh event loop whose
   default executor has four threads per unit of parallelism, with asyncio's logger silenced;
6. report a `RunError` as an error log and exit 1; any other exception as an error log that starts
   "Program failed with an unhandled exception:" and exit 32, which tells the host the user
   has already been shown the message; a missing `__main__.py` likewise, with exit 32.

The test copies this file into an empty folder before running it, as the real script sits in the
CLI's folder: `sys.path[0]` is then a folder holding no Python modules.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import runpy
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

import pulumi
import pulumi.runtime

# The exit code that tells the language host an error message has already been shown.
SHOWN_TO_USER = 32


def _arguments() -> argparse.Namespace:
    """The command line the language host builds (constructArguments)."""
    parser = argparse.ArgumentParser(description="Run a Pulumi Python program")
    for flag in (
        "project",
        "root_directory",
        "stack",
        "parallel",
        "dry_run",
        "pwd",
        "monitor",
        "engine",
        "tracing",
        "organization",
    ):
        parser.add_argument(f"--{flag}")
    parser.add_argument("PROGRAM")
    parser.add_argument("ARGS", nargs="*")
    return parser.parse_args()


def _user_traceback(program: str) -> str:
    """The current exception's traceback from the first frame of the user's program on."""
    program_main = _module_path(program)
    frames = traceback.extract_tb(sys.exc_info()[2])
    for index, frame in enumerate(frames):
        if _module_path(frame.filename) == program_main:
            return traceback.format_exc(limit=-(len(frames) - index))
    return traceback.format_exc()


def _module_path(path: str) -> str:
    """A program path as a module: a folder means its `__main__`."""
    stem, extension = os.path.splitext(path)
    return os.path.abspath(stem if extension else os.path.join(stem, "__main__"))


def _missing_program(error: ImportError) -> bool:
    """runpy found no `__main__.py`: the traceback holds only runpy's frames and this file's."""
    files = {
        runpy.__file__ if frame.filename == "<frozen runpy>" else frame.filename
        for frame in traceback.extract_tb(error.__traceback__)
    }
    return files <= {__file__, runpy.__file__}


def main() -> int:
    """Configure the runtime as the script does, run the program, and return the exit code."""
    args = _arguments()
    pulumi.runtime.set_all_config(
        pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
    )
    settings = pulumi.runtime.Settings(
        monitor=args.monitor,
        engine=args.engine,
        project=args.project,
        stack=args.stack,
        parallel=int(args.parallel),
        dry_run=args.dry_run == "true",
        organization=args.organization,
        root_directory=args.root_directory,
    )
    pulumi.runtime.configure(settings)
    sys.argv = [args.PROGRAM, *args.ARGS]
    if args.pwd is not None:
        os.chdir(args.pwd)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    executor = ThreadPoolExecutor(max_workers=max(int(args.parallel), 1) * 4)
    loop.set_default_executor(executor)
    # The SDK leaves futures unobserved on purpose when a program fails; asyncio would complain.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)

    def program() -> None:
        try:
            runpy.run_path(args.PROGRAM, run_name="__main__")
        except ImportError as error:
            if not _missing_program(error):
                raise
            where = os.path.abspath(args.PROGRAM)
            pulumi.log.error(f"unable to find main python program `__main__.py` in `{where}`")
            sys.exit(SHOWN_TO_USER)

    code = 1
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(program))
        code = 0
    except pulumi.RunError as error:
        pulumi.log.error(str(error))
    except Exception:  # the script reports every failure of the program, whatever it is
        message = _user_traceback(os.path.abspath(args.PROGRAM))
        pulumi.log.error(f"Program failed with an unhandled exception:\n{message}")
        code = SHOWN_TO_USER
    finally:
        executor.shutdown(wait=True)
        loop.close()
        sys.stdout.flush()
        sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
