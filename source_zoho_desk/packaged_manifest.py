"""The packaged manifest's definitions, for code that runs without a source: the DeskClient (check, webhook drains
and the webhook commands) builds its error handler, headers and timeouts from them, so that every Desk call follows
what the manifest declares for the streams."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver


@lru_cache(maxsize=1)
def definitions() -> Mapping[str, Any]:
    """`definitions` of source_zoho_desk/manifest.yaml with its `$ref`s resolved."""
    text = resources.files("source_zoho_desk").joinpath("manifest.yaml").read_text(encoding="utf-8")
    manifest = ManifestReferenceResolver().preprocess_manifest(yaml.safe_load(text))
    return manifest["definitions"]  # type: ignore[no-any-return]
