"""Field definitions in the shape of ``GET /fields?module=M`` (Field.json), the successor of the deprecated
``GET /organizationFields``.

One set of definitions per module (``schema.py``) feeds both endpoints and the generated records' ``cf``:

* a field both endpoints know has the same id in both (the ids ``organizationFields`` got at seeding);
* ``/fields`` adds the Formula fields (``schema.FIELDS_ONLY_CUSTOM``) and the modules ``timeEntry`` and ``agents``;
* types use the new vocabulary: the old ``Checkbox`` is ``Boolean``; picklists carry ``pickListValues``
  (``[{value}]``) instead of ``allowedValues``; lookups a ``lookup`` object naming the related module.
"""

from __future__ import annotations

from datetime import timedelta

from . import schema
from .data import SEED_START, iso

# apiName -> (related module, its name field)
LOOKUP_TARGETS = {
    "departmentId": ("departments", "name"),
    "departmentIds": ("departments", "name"),
    "contactId": ("contacts", "lastName"),
    "secondaryContacts": ("contacts", "lastName"),
    "accountId": ("accounts", "accountName"),
    "assigneeId": ("agents", "name"),
    "ownerId": ("agents", "name"),
    "notificationAgentIds": ("agents", "name"),
    "teamId": ("teams", "name"),
    "productId": ("products", "productName"),
    "contractId": ("contracts", "contractName"),
    "ticketId": ("tickets", "subject"),
    "slaId": ("slas", "name"),
    "roleId": ("roles", "name"),
    "profileId": ("profiles", "name"),
}
IDENTIFIERS = {
    "tickets": "subject",
    "contacts": "lastName",
    "accounts": "accountName",
    "tasks": "subject",
    "calls": "subject",
    "events": "subject",
    "contracts": "contractName",
    "products": "productName",
    "timeEntry": "executedTime",
    "agents": "emailId",
}
COMPUTED_TYPES = ("Formula", "AutoNumber")


def build_fields(store, new_id) -> dict:
    old_ids = {(m, f["apiName"]): f["id"] for m, defs in store.org_fields.items() for f in defs}
    admin = next(iter(store["agents"]), None)
    created_at = SEED_START - timedelta(days=300)
    out = {}
    for module in schema.FIELD_MODULES:
        entries = [(False, e) for e in schema.module_standard_fields(module)]
        entries += [(True, e) for e in schema.module_custom_fields(module)]
        defs = []
        for n, (is_custom, (api_name, label, ftype, extras)) in enumerate(entries):
            fid = old_ids.get((module, api_name)) or new_id()
            created = iso(created_at + timedelta(days=30 + n if is_custom else 0))
            defs.append(_definition(store, module, fid, api_name, label, ftype, extras, is_custom, admin, created))
        out[module] = defs
    return out


def _definition(store, module, fid, api_name, label, ftype, extras, is_custom, admin, created) -> dict:
    ftype = "Boolean" if ftype == "Checkbox" else ftype
    mandatory = bool(extras.get("isMandatory", False))
    fd = {
        "id": fid,
        "apiName": api_name,
        "name": label if is_custom else api_name,
        "displayLabel": label,
        "i18NLabel": label,
        "type": ftype,
        "maxLength": extras.get("maxLength", schema._default_max_length(ftype)),
        "isMandatory": mandatory,
        "isCustomField": is_custom,
        "isEncryptedField": False,
        "isTrackLastActivityTime": False,
        "isIndexed": not is_custom or ftype in ("Text", "Email", "Phone"),
        "isComputed": ftype in COMPUTED_TYPES,
        "isInternalState": False,
        "isBasic": not is_custom,
        "isIdentifier": api_name == IDENTIFIERS.get(module),
        "isPresence": True,
        "isSortable": ftype not in ("Textarea", "LargeText", "Multiselect", "MultiLookup"),
        "sourceType": "USERDEFINED" if is_custom else "SYSTEM",
        "createdBy": admin if is_custom else None,
        "modifiedBy": admin if is_custom else None,
        "createdTime": created,
        "modifiedTime": created,
        "showToHelpCenter": not is_custom,
        "toolTipType": None,
        "toolTip": None,
    }
    if ftype in ("Decimal", "Currency", "Percent"):
        fd["decimalPlaces"] = extras.get("decimalPlaces", 2)
    if ftype == "Currency":
        fd.update(roundingOption="normal", roundingPrecision=fd["decimalPlaces"])
    if ftype in ("Picklist", "Multiselect"):
        fd["pickListValues"] = [{"value": v} for v in extras.get("allowedValues", [])]
        if ftype == "Picklist":
            fd["subType"] = "Plain"
    if ftype == "Boolean":
        fd["defaultValue"] = "false"
    if ftype in ("LookUp", "MultiLookup"):
        target, name_field = LOOKUP_TARGETS.get(api_name, ("agents", "name"))
        fd["lookup"] = {
            "onDelete": "SET_NULL",
            "relatedListLabel": label,
            "module": {"apiName": target, "nameField": name_field, "id": store.modules.get(target)},
        }
    if ftype == "LargeText":
        fd["properties"] = {"maxLength": fd["maxLength"]}
    if ftype == "Formula":
        fd["returnType"] = extras["returnType"]
        fd["expression"] = extras.get("expression")
    return fd
