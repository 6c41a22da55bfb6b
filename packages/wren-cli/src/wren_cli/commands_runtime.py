"""`wren runtime`: build, deploy, update, delete and list the runtimes of a compute backend.

Every verb goes through the backend's optional runtime-management methods of the
`ComputeBackend` port, so it works with any installed backend that offers them and fails
with one line naming the backend where one does not. `default` stands for the backend's
runtime for this Python; `all` (update, delete) for every runtime `list` shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from wren import InvalidInputError
from wren.backends import open_compute
from wren.containers import EngineUnreachableError
from wren.ports import ComputeBackend, RuntimeEntry, capabilities, check_image_name

from wren_cli.console import done, print_table, status
from wren_cli.options import Target, common_options, global_options, usage_error

_COLUMNS = ("name", "memory (MB)", "wren version", "worker name")


@global_options
@click.group()
def runtime() -> None:
    """Build, deploy, update, delete and list runtimes (container images).

    Example: wren runtime list -b localhost
    """


@contextmanager
def _compute(target: Target) -> Iterator[ComputeBackend]:
    compute = open_compute(target.config())
    try:
        yield compute
    finally:
        compute.close()


def _resolve(compute: ComputeBackend, name: str) -> str:
    return compute.default_runtime_name() if name == "default" else name


def deployed_runtimes(compute: ComputeBackend, verb: str) -> list[RuntimeEntry] | None:
    """The runtimes deployed on `compute`; None, after saying why in one plain line, when it
    cannot have any: it manages no runtimes, or no container engine answers (then there
    are no images either)."""
    if not compute.supports(capabilities.RUNTIME_MANAGEMENT):
        click.echo(f"backend {compute.name!r} has no runtimes to {verb}: it runs calls "
                   "without deploying any")
        return None
    try:
        entries = compute.list_runtimes()
    except EngineUnreachableError as exc:
        click.echo(f"no runtimes to {verb} on backend {compute.name!r}: {exc.summary}")
        return None
    if not entries:
        click.echo(f"no runtimes deployed on backend {compute.name!r}")
    return entries


def _targets(compute: ComputeBackend, name: str, verb: str) -> list[str]:
    if name != "all":
        return [_resolve(compute, name)]
    return sorted({entry.name for entry in deployed_runtimes(compute, verb) or []})


def _rows(entries: list[RuntimeEntry]) -> list[tuple[object, ...]]:
    return [(e.name, e.memory, e.wren_version, e.worker_name) for e in entries]


def _build_args(pairs: tuple[str, ...]) -> dict[str, str]:
    args = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            usage_error(f"--build-arg {pair!r} must be KEY=VALUE")
        args[key] = value
    return args


def _headline(line: str) -> bool:
    """Build output shown as progress: wren's own lines and the engine's steps."""
    return line.startswith(("STEP ", "Step ", "wren: "))


def _build_output(debug: bool, say: Callable[[str], None]) -> Callable[[str], None]:
    def show(line: str) -> None:
        if debug or _headline(line):
            say(line)

    return show


@runtime.command()
@click.argument("name")
@click.option("-f", "--file", "dockerfile", type=click.Path(exists=True, dir_okay=False),
              help="Dockerfile to build (its directory is the context). Default: "
                   "the one the backend's package ships (its runtime/ directory).")
@click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE",
              help="Build argument, e.g. BASE_IMAGE=python:3.11-slim (repeatable).")
@click.option("--platform", "platform", metavar="OS/ARCH",
              help="Platform to build for, e.g. linux/arm64. Default: the backend's "
                   "`runtime_platform` (linux/amd64 for cloud backends).")
@common_options
def build(target: Target, name: str, dockerfile: str | None,
          build_args: tuple[str, ...], platform: str | None) -> None:
    """Build runtime image NAME (lowercase user/name:tag, or `default`) with this client's
    wren as wheels, and push it where the backend pulls from.

    The engine is the Docker-API engine DOCKER_HOST names (Docker or podman).

    Example: wren runtime build jdoe/wren-runtime:0.1 -b localhost
    """
    from wren_cli.image_builder import DockerImageBuilder
    from wren_cli.runtime_sources import runtime_distributions

    if name != "default":
        try:
            check_image_name(name)
        except InvalidInputError as exc:
            usage_error(str(exc))
    args = _build_args(build_args)
    config = target.config()
    with _compute(target) as compute:
        image = check_image_name(_resolve(compute, name))
        builder = DockerImageBuilder(
            config.compute_backend,
            runtime_distributions(config.compute_backend, config.storage_backend), args,
            platform=platform or compute.build_platform())
        try:
            with status(f"building {image}") as say:
                builder.on_output = _build_output(target.debug, say)
                compute.build_runtime(image, dockerfile, builder=builder)
        except Exception:
            unseen = [line for line in builder.last_output if not _headline(line)]
            if not target.debug and unseen:  # what the failing step said
                click.echo("\n".join(unseen[-10:]), err=True)
            raise
    done(f"built {image} for backend {config.compute_backend!r}")


@click.command()
@click.argument("name")
@click.option("--memory", type=click.IntRange(min=1), help="Memory of the runtime in MB.")
@click.option("--timeout", type=click.FloatRange(min=1), help="Time limit of a call in s.")
@common_options
def deploy(target: Target, name: str, memory: int | None, timeout: float | None) -> None:
    """Deploy runtime NAME (or `default`: the backend's runtime for this Python) so that
    calls can run on it. `create` is the older name of this verb.

    Example: wren runtime deploy default -b localhost
    """
    with _compute(target) as compute:
        image = _resolve(compute, name)
        with status(f"deploying {image}"):
            entry = compute.deploy_runtime(image, memory, timeout)
    print_table(_COLUMNS, _rows([entry]))
    done(f"deployed {entry.name}")


runtime.add_command(deploy)
runtime.add_command(click.Command(
    "create", callback=deploy.callback, params=deploy.params,
    short_help="Same as deploy (the older name of the verb).",
    help="Same as `wren runtime deploy` (the older name of the verb).\n\n"
         "Example: wren runtime create default -b localhost"))


@runtime.command()
@click.argument("name")
@common_options
def update(target: Target, name: str) -> None:
    """Redeploy runtime NAME, `default` or `all` with this client's wren.

    Example: wren runtime update all -b localhost
    """
    with _compute(target) as compute:
        for image in _targets(compute, name, "update"):
            with status(f"updating {image}"):
                compute.update_runtime(image)
            done(f"updated {image}")


@runtime.command()
@click.argument("name")
@click.option("--memory", type=click.IntRange(min=1),
              help="Delete only the deployment with this memory (MB).")
@common_options
def delete(target: Target, name: str, memory: int | None) -> None:
    """Delete runtime NAME, `default` or `all`. On a backend that deploys no runtimes there
    is nothing to delete: it says so and succeeds.

    Example: wren runtime delete jdoe/wren-runtime:0.1 -b localhost
    """
    with _compute(target) as compute:
        if not compute.supports(capabilities.RUNTIME_MANAGEMENT):
            deployed_runtimes(compute, "delete")
            return
        for image in _targets(compute, name, "delete"):
            with status(f"deleting {image}"):
                compute.delete_runtime(image, memory)
            done(f"deleted {image}")


@runtime.command(name="list")
@common_options
def list_(target: Target) -> None:
    """List the deployed runtimes: name, memory, wren version and worker name. A backend
    that deploys no runtimes, or localhost without a container engine, has none to list:
    it says so and succeeds.

    Example: wren runtime list -b localhost
    """
    with _compute(target) as compute:
        entries = deployed_runtimes(compute, "list")
    if entries:
        print_table(_COLUMNS, _rows(entries))
