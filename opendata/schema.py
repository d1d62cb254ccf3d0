"""The OCDS 1.1.5 schemas this platform publishes against, from the files shipped beside this module
(nothing is ever fetched): the release schema patched with etender's extensions (each extension's
release-schema.json is a JSON Merge Patch, RFC 7386, as the OCDS extension format asks), the ocdsmerge
merger built on it, and validators for releases and packages (the package schema refers to the release
schema by its URL: a `referencing` registry maps that URL to the patched local schema)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE / "schemas" / "1.1.5"
EXTENSIONS_DIR = HERE / "extensions"
# The extensions etender's releases use, in the order their patches are applied (docs/opendata.md).
EXTENSIONS = ("etender_lots_bids", "etender_evaluation", "etender_audit")
RELEASE_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
VERSION = "1.1"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def base_release_schema() -> dict[str, Any]:
    return _load(SCHEMAS / "release-schema.json")  # type: ignore[no-any-return]


def extension(name: str) -> dict[str, Any]:
    """An extension's extension.json."""
    return _load(EXTENSIONS_DIR / name / "extension.json")  # type: ignore[no-any-return]


def extension_patch(name: str) -> dict[str, Any]:
    return _load(EXTENSIONS_DIR / name / "release-schema.json")  # type: ignore[no-any-return]


@functools.cache
def release_schema() -> dict[str, Any]:
    """The 1.1.5 release schema with every extension's patch applied (cached: treat as read-only)."""
    schema: dict[str, Any] = base_release_schema()
    for name in EXTENSIONS:
        schema = merge_patch(schema, extension_patch(name))
    return schema


@functools.cache
def package_schema() -> dict[str, Any]:
    return _load(SCHEMAS / "release-package-schema.json")  # type: ignore[no-any-return]


@functools.cache
def merger() -> Any:
    """An ocdsmerge Merger whose merge rules come from the patched local schema: given a dict, ocdsmerge
    resolves only its internal references and never fetches (given nothing, it would download the latest
    schema)."""
    import ocdsmerge

    return ocdsmerge.Merger(schema=copy.deepcopy(release_schema()))


def compile_releases(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The compiled release of one process's releases, by ocdsmerge (not by hand)."""
    return merger().create_compiled_release(releases)  # type: ignore[no-any-return]


def _registry() -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resource = Resource.from_contents(release_schema(), default_specification=DRAFT4)
    return Registry().with_resource(RELEASE_SCHEMA_URL, resource)


@functools.cache
def release_validator() -> Any:
    from jsonschema import Draft4Validator, FormatChecker

    return Draft4Validator(release_schema(), registry=_registry(), format_checker=FormatChecker())


@functools.cache
def package_validator() -> Any:
    from jsonschema import Draft4Validator, FormatChecker

    return Draft4Validator(package_schema(), registry=_registry(), format_checker=FormatChecker())


def release_errors(release: dict[str, Any]) -> list[str]:
    """What is wrong with a release under the patched schema, as readable lines (empty: valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in release_validator().iter_errors(release)
    ]


def package_errors(package: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in package_validator().iter_errors(package)
    ]
