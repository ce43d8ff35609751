"""Custom fields: their definitions, the `fields=` names a list asks for, typed columns in discover, typed values.

Definitions come from `GET /fields?module=M` (Zoho's current endpoint) and, when that is refused or unknown, from
the deprecated `GET /organizationFields?module=M`. The two differ in shape, so each definition is normalised:
`allowedValues` becomes a list of strings (the old endpoint gives strings or `{value}` objects, the new one
`pickListValues: [{value}]`), `maxLength`/`decimalPlaces` become integers (Zoho sends strings or integers), the old
type `Checkbox` becomes `Boolean`, and `defaultValue` a string. A run reads each module's definitions once (the
field lists, the schemas, the transformations and the `organization_fields` stream share them).

Columns: every custom field keeps its raw value in `cf` (`cf_<name>`, as Zoho sends it: strings) and also becomes a
top-level column of the same name, typed from its definition (BEHAVIOR.md says why both). Zoho may answer `fields=`
with custom values nested under `cf` or as top-level keys; both shapes end up the same.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import InitVar, dataclass, field
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Tuple

from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.declarative.schema.schema_loader import SchemaLoader
from airbyte_cdk.sources.declarative.transformations.transformation import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

LOGGER = logging.getLogger("airbyte")

# Zoho refuses multi-line text in `fields`; those values only come with a get-by-id (see BEHAVIOR.md).
MULTI_LINE_TYPES = frozenset({"Textarea", "LargeText"})
# Schema properties never asked for by name: `id` rides along in every chunk, `cf` holds the custom fields (asked
# one by one as `cf_<name>`), the standard multi-line fields Zoho refuses.
NOT_ASKED = frozenset({"id", "cf", "description", "resolution", "answer"})
CONNECTOR_FIELD_PREFIX = "_ab_"
CONNECTOR_FIELD_SUFFIXES = ("_e164",)  # columns the connector computes (components/phone_numbers.py)
CUSTOM_PREFIX = "cf_"

# The endpoints that list a module's field definitions, newest first.
DEFINITION_SOURCES = ("fields", "organizationFields")

_NULLABLE_STRING: Dict[str, Any] = {"type": ["string", "null"]}
_FORMULA_TYPES = {
    "DECIMAL": "Decimal",
    "CURRENCY": "Currency",
    "PERCENT": "Percent",
    "DOUBLE": "Decimal",
    "NUMBER": "Number",
    "INTEGER": "Number",
    "LONG": "Number",
    "BOOLEAN": "Boolean",
    "DATE": "Date",
    "DATETIME": "DateTime",
}


# --- definitions ----------------------------------------------------------------------------------------------------
def _as_int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _values(raw: Any) -> Optional[List[str]]:
    """`["a"]`, `[{"value": "a"}]` or `[{"displayValue": ..., "actualValue": "a"}]` -> `["a"]`."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        return [str(raw)]
    out = []
    for item in raw:
        if isinstance(item, Mapping):
            value = item.get("value", item.get("actualValue", item.get("displayValue")))
            if value is not None:
                out.append(str(value))
        elif item is not None:
            out.append(str(item))
    return out


def _default_value(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def normalise_definition(raw: Mapping[str, Any]) -> Dict[str, Any]:
    """One field definition from either endpoint, in one shape (see the module docstring)."""
    definition = dict(raw)
    ftype = str(raw.get("type") or "Text")
    definition["type"] = "Boolean" if ftype == "Checkbox" else ftype
    if "id" in raw and raw["id"] is not None:
        definition["id"] = str(raw["id"])
    allowed = raw.get("allowedValues") if raw.get("allowedValues") is not None else raw.get("pickListValues")
    definition["allowedValues"] = _values(allowed)
    definition["maxLength"] = _as_int(raw.get("maxLength"))
    definition["decimalPlaces"] = _as_int(raw.get("decimalPlaces"))
    definition["defaultValue"] = _default_value(raw.get("defaultValue"))
    if raw.get("isCustomField") is None:
        definition["isCustomField"] = str(raw.get("apiName") or "").startswith(CUSTOM_PREFIX)
    return definition


def custom_field_key(api_name: str) -> str:
    """Custom fields sit in `cf` under `cf_<name>`; accept an apiName given with or without that prefix."""
    return api_name if api_name.startswith(CUSTOM_PREFIX) else f"{CUSTOM_PREFIX}{api_name}"


@dataclass
class ModuleFields:
    """A module's normalised definitions and where they came from (None: neither endpoint answered)."""

    module: str
    definitions: List[Dict[str, Any]]
    source: Optional[str]
    responses: List[Any] = field(default_factory=list)

    def custom(self) -> List[Dict[str, Any]]:
        return [d for d in self.definitions if d.get("isCustomField") and d.get("apiName")]

    def custom_by_key(self) -> Dict[str, Dict[str, Any]]:
        return {custom_field_key(str(d["apiName"])): d for d in self.custom()}


class FieldDefinitions:
    """Each module's definitions, read once per run (per config object) and shared by every component."""

    def __init__(self) -> None:
        self._modules: Dict[str, ModuleFields] = {}
        self._locks: Dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, config: Mapping[str, Any], module: str) -> ModuleFields:
        with self._lock:
            lock = self._locks.setdefault(module, threading.Lock())
        with lock:
            if module not in self._modules:
                self._modules[module] = _read_definitions(config, module)
            return self._modules[module]


_FALLBACK_REGISTRY: Dict[int, FieldDefinitions] = {}
_REGISTRY_LOCK = threading.Lock()


def definitions_of(config: Mapping[str, Any]) -> FieldDefinitions:
    """The run's definitions: kept on the run's ConnectorConfig; a plain mapping (a unit test) gets its own."""
    with _REGISTRY_LOCK:
        registry = getattr(config, "_zoho_field_definitions", None)
        if registry is None:
            registry = FieldDefinitions()
            holder: Any = config
            try:
                holder._zoho_field_definitions = registry
            except AttributeError:  # a plain dict: keyed by identity for as long as the process lives
                registry = _FALLBACK_REGISTRY.setdefault(id(config), registry)
        return registry  # type: ignore[no-any-return]


def module_fields(config: Mapping[str, Any], module: str) -> ModuleFields:
    return definitions_of(config).get(config, module)


def _read_definitions(config: Mapping[str, Any], module: str) -> ModuleFields:
    """`/fields?module=M`, else `/organizationFields?module=M`; neither: no definitions, with one warning."""
    from source_zoho_desk.desk_client import DeskClient, json_body

    refusals = []
    for path in DEFINITION_SOURCES:
        try:
            client = DeskClient(config)  # type: ignore[arg-type]
            response = client.get(path, params={"module": module}, stream="organization_fields")
            failure = client.refusal(response, stream="organization_fields")
        except AirbyteTracedException as error:
            refusals.append(f"{path}: {error.message or error}")
            continue
        except Exception as error:  # noqa: BLE001 - definitions only add typed columns: never fail discover or read
            refusals.append(f"{path}: {type(error).__name__}"[:200])
            continue
        if failure is None:
            rows = json_body(response).get("data")
            definitions = [normalise_definition(r) for r in rows or [] if isinstance(r, Mapping)]
            return ModuleFields(module, definitions, path)
        refusals.append(f"{path}: HTTP {response.status_code}")
    LOGGER.warning(
        f"Could not read the field definitions of the Zoho Desk module '{module}' ({'; '.join(refusals)}): its custom "
        "fields are kept in `cf` as Zoho sends them, without typed columns. The scope Desk.basic.READ (or "
        "Desk.fields.READ) lets the connector read them."
    )
    return ModuleFields(module, [], None)


# --- JSON schema of a custom field ----------------------------------------------------------------------------------
def effective_type(definition: Mapping[str, Any]) -> str:
    ftype = str(definition.get("type") or "Text")
    if ftype == "Formula":
        return _FORMULA_TYPES.get(str(definition.get("returnType") or "").upper(), "Text")
    return "Boolean" if ftype == "Checkbox" else ftype


def json_schema_of(definition: Mapping[str, Any]) -> Dict[str, Any]:
    """The column type of one custom field (always nullable: a record may leave it empty)."""
    ftype = effective_type(definition)
    label = definition.get("displayLabel") or definition.get("apiName")
    described = {"description": f"Custom field '{label}' ({definition.get('type')})."}
    if ftype == "Number":
        return {"type": ["integer", "null"], **described}
    if ftype in ("Decimal", "Currency", "Percent"):
        return {"type": ["number", "null"], **described}
    if ftype == "Boolean":
        return {"type": ["boolean", "null"], **described}
    if ftype == "Date":
        return {"type": ["string", "null"], "format": "date", **described}
    if ftype == "DateTime":
        return {"type": ["string", "null"], "format": "date-time", **described}
    if ftype in ("Multiselect", "MultiLookup"):
        return {"type": ["array", "null"], "items": {"type": "string"}, **described}
    return {**_NULLABLE_STRING, **described}  # Text, Picklist, LookUp (an id), Email, URL, Phone, AutoNumber, ...


def typed_value(definition: Mapping[str, Any], value: Any) -> Any:
    """Zoho's raw value (a string, mostly) as the column's type; None when it does not read as that type."""
    if value is None or value == "":
        return None
    ftype = effective_type(definition)
    try:
        if ftype == "Number":
            if isinstance(value, bool):
                return None
            number = float(str(value).strip()) if not isinstance(value, int) else value
            return int(number) if float(number).is_integer() else None
        if ftype in ("Decimal", "Currency", "Percent"):
            if isinstance(value, bool):
                return None
            return float(str(value).strip().rstrip("%").replace(",", ""))
    except (TypeError, ValueError):
        return None
    if ftype == "Boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return True if text == "true" else False if text == "false" else None
    if ftype in ("Multiselect", "MultiLookup"):
        if isinstance(value, list):
            return [str(v) for v in value if v is not None]
        return [part.strip() for part in str(value).split(";") if part.strip()]
    if ftype == "LookUp" and isinstance(value, Mapping):
        return None if value.get("id") is None else str(value["id"])
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def with_custom_columns(schema: Mapping[str, Any], fields: ModuleFields) -> Dict[str, Any]:
    """`schema` plus one typed property per custom field; `cf` lists them too, as raw values."""
    merged = dict(schema)
    properties = dict(schema.get("properties") or {})
    cf_properties: Dict[str, Any] = {}
    for key, definition in fields.custom_by_key().items():
        properties.setdefault(key, json_schema_of(definition))
        cf_properties[key] = {
            "description": f"Raw value of '{definition.get('displayLabel') or key}' as Zoho sends it."
        }
    if cf_properties:
        cf = dict(properties.get("cf") or {"type": ["object", "null"], "additionalProperties": True})
        cf["properties"] = {**(cf.get("properties") or {}), **cf_properties}
        properties["cf"] = cf
    merged["properties"] = properties
    return merged


def flatten_custom_fields(record: MutableMapping[str, Any], fields: ModuleFields) -> None:
    """Gathers the custom values (nested under `cf` or top-level `cf_*` keys) into `cf`, raw, and sets one typed
    top-level column per custom field. The incremental engine's rows should pass through this too."""
    nested = record.get("cf")
    raw: Dict[str, Any] = dict(nested) if isinstance(nested, Mapping) else {}
    for key in [k for k in record if isinstance(k, str) and k.startswith(CUSTOM_PREFIX)]:
        if key not in raw or raw[key] is None:
            raw[key] = record[key]
    if raw or nested is not None:
        record["cf"] = raw
    definitions = fields.custom_by_key()
    # Only the values this row has: a page asked in chunks of `fields` names is merged from rows that each hold some
    # (a key set to None here would overwrite the value of another chunk's row).
    for key, value in raw.items():
        record[key] = typed_value(definitions.get(key, {"type": "Text"}), value)  # unknown (added since): text


# --- components -----------------------------------------------------------------------------------------------------
def _interpolated(value: str, config: Config, parameters: Mapping[str, Any]) -> str:
    """`module: "{{ parameters['module'] }}"` in a shared manifest definition."""
    return str(InterpolatedString.create(str(value), parameters=parameters or {}).eval(config))


def _static_schema(loader: Optional[SchemaLoader], parameters: Mapping[str, Any]) -> Any:
    """The stream's static schema: `schema_loader`'s, else the manifest's `schemas.<static_schema>` (a name: a
    schema itself in `$parameters` would be taken for a component by the CDK)."""
    if loader is not None:
        return loader.get_json_schema
    name = (parameters or {}).get("static_schema")
    if not isinstance(name, str) or name not in _manifest_schemas():
        raise ValueError(f"A custom-fields component needs a schema_loader or a `static_schema` name, got {name!r}.")
    return lambda: _manifest_schemas()[name]


@lru_cache(maxsize=1)
def _manifest_schemas() -> Mapping[str, Any]:
    from importlib import resources

    import yaml
    from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

    text = resources.files("source_zoho_desk").joinpath("manifest.yaml").read_text(encoding="utf-8")
    return ManifestReferenceResolver().preprocess_manifest(yaml.safe_load(text))["schemas"]  # type: ignore[no-any-return]


def standard_fields(schema: Mapping[str, Any], not_asked: Iterable[str] = ()) -> List[str]:
    """The schema's properties that Zoho lists with `fields=`, in schema order (not the connector's own columns)."""
    skip = NOT_ASKED | set(not_asked)
    return [
        name
        for name in schema.get("properties", {})
        if name not in skip
        and not name.startswith((CONNECTOR_FIELD_PREFIX, CUSTOM_PREFIX))
        and not name.endswith(CONNECTOR_FIELD_SUFFIXES)
    ]


class _OneSliceRetriever(Retriever):
    """A retriever of one slice and no state: the Retriever interface's rest, written once for the two below."""

    def stream_slices(self) -> Iterable[Optional[StreamSlice]]:
        yield StreamSlice(partition={}, cursor_slice={})

    @property
    def state(self) -> StreamState:
        return {}

    @state.setter
    def state(self, value: StreamState) -> None:
        pass


@dataclass
class ModuleFieldsRetriever(_OneSliceRetriever):
    """Yields `{"apiName": name}` for each name a module's list can be asked for with `fields=`: the standard fields
    of `schema_loader` (the static schema, minus `not_asked`) first, then the module's listable custom fields."""

    module: str
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    schema_loader: Optional[SchemaLoader] = None
    not_asked: Optional[List[str]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.module = _interpolated(self.module, self.config, parameters)
        self._static_schema = _static_schema(self.schema_loader, parameters)
        if self.not_asked is None:  # a shared definition names them in the stream's $parameters
            self.not_asked = list((parameters or {}).get("not_asked") or [])

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None
    ) -> Iterable[Mapping[str, Any]]:
        standard = standard_fields(self._static_schema(), self.not_asked or ())
        seen = set(standard)
        for name in standard:
            yield {"apiName": name}
        for definition in module_fields(self.config, self.module).custom():
            if definition.get("type") in MULTI_LINE_TYPES:
                continue
            name = custom_field_key(str(definition["apiName"]))
            if name not in seen:
                seen.add(name)
                yield {"apiName": name}


@dataclass
class CustomFieldsSchemaLoader(SchemaLoader):
    """The static schema of `schema_loader` plus a typed column per custom field of `module` (discover shows them)."""

    module: str
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    schema_loader: Optional[SchemaLoader] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.module = _interpolated(self.module, self.config, parameters)
        self._static_schema = _static_schema(self.schema_loader, parameters)

    def get_json_schema(self) -> Mapping[str, Any]:
        return with_custom_columns(self._static_schema(), module_fields(self.config, self.module))


@dataclass
class FlattenCustomFields(RecordTransformation):
    """Applies `flatten_custom_fields` with the module's definitions to each record."""

    module: str
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.module = _interpolated(self.module, self.config, parameters)

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        flatten_custom_fields(record, module_fields(self.config, self.module))


@dataclass
class OrganizationFieldsRetriever(_OneSliceRetriever):
    """The `organization_fields` stream: each module's normalised definitions (the run's shared read), one slice per
    module from the stream's partition router, `module` added to each row."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None
    ) -> Iterable[Mapping[str, Any]]:
        module = str(dict(stream_slice or {}).get("module") or "")
        if not module:
            return
        for definition in module_fields(self.config, module).definitions:
            yield {**definition, "module": module}


def definition_sources(config: Mapping[str, Any], modules: Iterable[str]) -> List[Tuple[str, Optional[str]]]:
    """(module, endpoint the definitions came from) for a report or a test."""
    return [(module, module_fields(config, module).source) for module in modules]
