"""Which top-level sections a configuration may have, and the check of those it has.

A section is known when it is `wren:` (or Lithops' `lithops:`), is named after an installed
compute or storage backend, or is registered in the `wren.config_sections` entry-point group
(shared sections such as Lithops' `ibm:`, services such as `rabbitmq:`; wren-core registers
its own in `wren.plugins`). A registered section that is present is validated against its
schema. A section of a Lithops backend that wren does not have is ignored with one notice (a
Lithops config often configures several clouds); any other section is a `ConfigError` that
names the known ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from wren import plugins
from wren._errors import ConfigError
from wren.config.lithops_keys import notice_once
from wren.config.schema import ConfigSchema, close_key

#: Sections of Lithops 3.8's config (its compute, storage and monitoring backends, its
#: shared cloud sections and standalone mode); those no installed backend reads are ignored.
LITHOPS_SECTIONS = frozenset({
    "aliyun", "aliyun_fc", "aliyun_oss", "aws", "aws_batch", "aws_ec2", "aws_lambda",
    "aws_s3", "aws_sqs", "azure", "azure_containers", "azure_functions", "azure_queue",
    "azure_storage", "azure_vms", "ceph", "code_engine", "gcp", "gcp_cloudrun",
    "gcp_compute_engine", "gcp_functions", "gcp_pubsub", "gcp_storage", "ibm", "ibm_cf",
    "ibm_cos", "ibm_vpc", "infinispan", "k8s", "knative", "localhost", "minio", "openwhisk",
    "oracle", "oracle_f", "oracle_oss", "rabbitmq", "redis", "singularity", "standalone",
    "swift", "vm",
})


def known_sections() -> list[str]:
    """Every section name this installation reads, sorted."""
    names = {"wren", "lithops"}
    for group in (plugins.COMPUTE_GROUP, plugins.STORAGE_GROUP, plugins.CONFIG_SECTION_GROUP):
        names.update(plugins.registered(group))
    return sorted(names)


def shared_schema(name: str) -> ConfigSchema | None:
    """The schema registered for a section no backend is named after, if any."""
    if name not in plugins.registered(plugins.CONFIG_SECTION_GROUP):
        return None
    schema = plugins.load(plugins.CONFIG_SECTION_GROUP, name)
    return schema if isinstance(schema, ConfigSchema) else None


def check_sections(sections: Mapping[str, Any], validated: Iterable[str]) -> dict[str, Any]:
    """`sections` (all but `wren:`) with each registered shared section validated; raises
    `ConfigError` for an unknown one. `validated`: sections the caller validates itself."""
    known = known_sections()
    out = dict(sections)
    done = set(validated)
    for name, body in sections.items():
        if name in done:
            continue
        if name not in known:
            if name not in LITHOPS_SECTIONS:
                raise ConfigError(_unknown_section(name, known))
            notice_once(("section", name), f"config section {name!r} configures a Lithops "
                        "backend that no installed wren package provides; it is ignored")
            continue
        schema = shared_schema(name)
        if schema is not None:
            schema.validate(body)  # errors now; the section keeps only what was written
            out[name] = schema.translate(body or {})
    return out


def _unknown_section(name: str, known: list[str]) -> str:
    close = close_key(name, known)
    hint = f" Did you mean {close!r}?" if close else ""
    return (f"unknown config section {name!r}.{hint} Known sections: {', '.join(known)}. "
            "Fix its name, remove it, or install the wren backend it configures")


__all__ = ["LITHOPS_SECTIONS", "check_sections", "known_sections", "shared_schema"]
