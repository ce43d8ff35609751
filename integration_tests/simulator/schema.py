"""Field catalogue: record shapes, list projections and the ``organizationFields`` definitions.

Projections (what a list row carries versus the ``GET /<module>/{id}`` detail):

* tickets  - detail: every name in ``TICKET_FIELDS``. List default: ``TICKET_LIST_DEFAULT_FIELDS``; it omits
  ``description``, ``resolution``, ``modifiedTime``, ``modifiedBy``, ``cf``, ``category``, ``subCategory``,
  ``classification``, ``accountId``, ``contractId``, ``isDeleted``, ``isTrashed`` and the counters other than
  ``threadCount``/``commentCount``. ``fields=a,b`` replaces the projection (``id`` + exactly those names,
  ``cf_*`` names inside ``cf``). Search rows: ``TICKET_SEARCH_FIELDS``, complete as Search.json states
  [C]: every field, the multi-line ``description`` and ``resolution`` included; full ``cf``.
* products - list ``PRODUCT_LIST_FIELDS``; detail adds cf, createdTime, modifiedTime, createdBy, modifiedBy,
  description, ownerId, productCategory, manufacturer, isDeleted, layoutId, layoutDetails.
* contracts - list ``CONTRACT_LIST_FIELDS``; detail adds contractNumber, description, slaId, notifyBefore,
  notificationAgentIds, createdTime, modifiedTime, createdBy, modifiedBy, cf.
* contacts / accounts - list ``CONTACT_LIST_FIELDS`` / ``ACCOUNT_LIST_FIELDS``; detail is the full record.
* departments, agents, webhooks, recycle bin - list rows equal the detail.
* tasks / calls / events - list ``TASK_LIST_FIELDS`` & co. (no ``description``, no ``cf``); detail and search rows
  are the full record. Articles - list rows lack the ``answer`` (the article body).
* per-ticket children (threads, comments, time entries, attachments, tags) - list rows as in the OAS examples;
  a thread's detail adds ``content``.
* ``fields=a,b`` on contacts, accounts, products, contracts, tasks and calls works like on tickets (see
  ``projection.py``).

Field definitions: ``ORG_FIELD_MODULES`` are the ones ``GET /organizationFields`` (deprecated) lists; the new
``GET /fields`` lists the same fields (same ids) plus ``FIELDS_ONLY_CUSTOM`` - the Formula fields the old endpoint
has no type for - and the modules it does not know (``timeEntry``, ``agents``, see ``FIELDS_ONLY_MODULES``).
Generated records carry a ``cf`` value for every custom field of their module in ``/fields``.

Custom field values are strings (Zoho stringifies numbers: ``"42"``, ``"129.99"``, ``"12.5"``), booleans of
Checkbox fields are ``"true"``/``"false"``, Multiselect values are ``;``-joined, Date is ``YYYY-MM-DD`` and
DateTime ISO-8601 UTC with milliseconds.
"""

from __future__ import annotations

TICKET_FIELDS = (
    "id",
    "ticketNumber",
    "layoutId",
    "subject",
    "description",
    "status",
    "statusType",
    "priority",
    "channel",
    "channelCode",
    "category",
    "subCategory",
    "classification",
    "language",
    "departmentId",
    "contactId",
    "accountId",
    "assigneeId",
    "teamId",
    "productId",
    "contractId",
    "email",
    "phone",
    "createdTime",
    "modifiedTime",
    "modifiedBy",
    "closedTime",
    "dueDate",
    "responseDueDate",
    "customerResponseTime",
    "onholdTime",
    "isOverDue",
    "isEscalated",
    "isSpam",
    "isDeleted",
    "isTrashed",
    "isArchived",
    "isResponseOverdue",
    "threadCount",
    "commentCount",
    "attachmentCount",
    "taskCount",
    "timeEntryCount",
    "followerCount",
    "tagCount",
    "approvalCount",
    "sentiment",
    "resolution",
    "webUrl",
    "source",
    "cf",
)

TICKET_LIST_DEFAULT_FIELDS = (
    "id",
    "ticketNumber",
    "layoutId",
    "subject",
    "status",
    "statusType",
    "priority",
    "channel",
    "channelCode",
    "language",
    "departmentId",
    "contactId",
    "assigneeId",
    "teamId",
    "productId",
    "email",
    "phone",
    "createdTime",
    "closedTime",
    "dueDate",
    "responseDueDate",
    "customerResponseTime",
    "onholdTime",
    "isOverDue",
    "isEscalated",
    "isSpam",
    "isArchived",
    "isResponseOverdue",
    "threadCount",
    "commentCount",
    "sentiment",
    "webUrl",
    "source",
)

TICKET_MULTILINE_STANDARD = ("description", "resolution")
TICKET_SEARCH_FIELDS = TICKET_FIELDS  # search rows are complete: modifiedTime, cf, description, resolution [C]
TICKET_FIELDS_PARAM_MAX = 30

DEPARTMENT_FIELDS = (
    "id",
    "name",
    "description",
    "isEnabled",
    "isDefault",
    "chatStatus",
    "creatorId",
    "createdTime",
    "hasLogo",
    "isAssignToTeamEnabled",
    "isVisibleInCustomerPortal",
    "nameInCustomerPortal",
    "sanitizedName",
    "associatedAgentIds",
)

PRODUCT_FIELDS = (
    "id",
    "productName",
    "productCode",
    "unitPrice",
    "departmentIds",
    "productCategory",
    "manufacturer",
    "description",
    "ownerId",
    "createdTime",
    "modifiedTime",
    "createdBy",
    "modifiedBy",
    "isDeleted",
    "layoutId",
    "layoutDetails",
    "cf",
)
PRODUCT_LIST_FIELDS = ("id", "productName", "productCode", "unitPrice", "departmentIds")

CONTRACT_FIELDS = (
    "id",
    "contractName",
    "contractNumber",
    "contractStatus",
    "startDate",
    "endDate",
    "accountId",
    "productId",
    "departmentId",
    "ownerId",
    "slaId",
    "description",
    "notifyBefore",
    "notificationAgentIds",
    "createdTime",
    "modifiedTime",
    "createdBy",
    "modifiedBy",
    "cf",
)
CONTRACT_LIST_FIELDS = (
    "id",
    "contractName",
    "contractStatus",
    "startDate",
    "endDate",
    "accountId",
    "productId",
    "departmentId",
    "ownerId",
)

CONTACT_FIELDS = (
    "id",
    "firstName",
    "lastName",
    "email",
    "secondaryEmail",
    "phone",
    "mobile",
    "accountId",
    "title",
    "type",
    "description",
    "ownerId",
    "twitter",
    "facebook",
    "street",
    "city",
    "state",
    "zip",
    "country",
    "isEndUser",
    "photoURL",
    "webUrl",
    "createdTime",
    "modifiedTime",
    "cf",
)
CONTACT_LIST_FIELDS = (
    "id",
    "firstName",
    "lastName",
    "email",
    "phone",
    "mobile",
    "accountId",
    "ownerId",
    "type",
    "isEndUser",
    "photoURL",
    "webUrl",
    "createdTime",
)

ACCOUNT_FIELDS = (
    "id",
    "accountName",
    "email",
    "phone",
    "website",
    "fax",
    "industry",
    "annualrevenue",
    "description",
    "street",
    "city",
    "state",
    "code",
    "country",
    "ownerId",
    "webUrl",
    "createdTime",
    "modifiedTime",
    "cf",
)
ACCOUNT_LIST_FIELDS = ("id", "accountName", "email", "phone", "website", "ownerId", "webUrl", "createdTime")

AGENT_FIELDS = (
    "id",
    "firstName",
    "lastName",
    "name",
    "emailId",
    "phone",
    "mobile",
    "status",
    "isConfirmed",
    "roleId",
    "profileId",
    "zuid",
    "langCode",
    "timeZone",
    "associatedDepartmentIds",
    "photoURL",
)

TICKET_STATUSES = ("Open", "On Hold", "Escalated", "Closed")
STATUS_TYPE = {"Open": "Open", "On Hold": "On Hold", "Escalated": "Open", "Closed": "Closed"}
PRIORITIES = ("High", "Medium", "Low", "Urgent")
CHANNELS = ("Email", "Phone", "Web", "Chat", "Twitter", "Facebook", "Forums", "Feedback Widget")
CLASSIFICATIONS = ("Question", "Problem", "Request", "Others")
CATEGORIES = {
    "Billing": ("Refunds", "Invoices", "Payment methods"),
    "Technical": ("Login", "Performance", "Integrations", "Mobile app"),
    "Shipping": ("Delayed delivery", "Damaged item"),
    "Account": ("Profile", "Security"),
}
LANGUAGES = ("English", "French", "German", "Spanish", "Japanese", "Chinese", "Portuguese")

# --- organizationFields --------------------------------------------------------------------------------------
# Each entry: (apiName, displayLabel, type, extras). Custom fields have apiName "cf_*".
MULTILINE_TYPES = ("Textarea", "LargeText")

TICKET_CUSTOM_FIELDS = (
    ("cf_order_number", "Order Number", "Text", {"maxLength": 50}),
    ("cf_impact_level", "Impact Level", "Picklist", {"allowedValues": ["Low", "Medium", "High", "Critical"]}),
    ("cf_follow_up_date", "Follow-up Date", "Date", {}),
    ("cf_escalated_at", "Escalated At", "DateTime", {}),
    ("cf_affected_users", "Affected Users", "Number", {"maxLength": 9}),
    ("cf_refund_amount", "Refund Amount", "Currency", {"maxLength": 16, "decimalPlaces": 2}),
    ("cf_csat_score", "CSAT Score", "Decimal", {"maxLength": 16, "decimalPlaces": 1}),
    ("cf_sla_breach_pct", "SLA Breach %", "Percent", {"maxLength": 5, "decimalPlaces": 2}),
    ("cf_is_vip", "VIP Customer", "Checkbox", {}),
    (
        "cf_platforms",
        "Platforms",
        "Multiselect",
        {"allowedValues": ["Windows", "macOS", "Linux", "iOS", "Android", "Web"]},
    ),
    ("cf_portal_url", "Portal URL", "URL", {"maxLength": 255}),
    ("cf_root_cause_notes", "Root Cause Notes", "Textarea", {"maxLength": 32000}),
    ("cf_internal_log", "Internal Log", "LargeText", {"maxLength": 50000}),
)

_TICKET_STANDARD = (
    ("ticketNumber", "Ticket Id", "AutoNumber", {"maxLength": 20}),
    ("subject", "Subject", "Text", {"maxLength": 255, "isMandatory": True}),
    ("description", "Description", "Textarea", {"maxLength": 65535}),
    ("status", "Status", "Picklist", {"allowedValues": list(TICKET_STATUSES), "isMandatory": True}),
    ("priority", "Priority", "Picklist", {"allowedValues": ["-None-"] + list(PRIORITIES)}),
    ("channel", "Channel", "Picklist", {"allowedValues": list(CHANNELS)}),
    ("classification", "Classification", "Picklist", {"allowedValues": ["-None-"] + list(CLASSIFICATIONS)}),
    ("category", "Category", "Picklist", {"allowedValues": ["-None-"] + list(CATEGORIES)}),
    (
        "subCategory",
        "Sub Category",
        "Picklist",
        {"allowedValues": ["-None-"] + [s for subs in CATEGORIES.values() for s in subs]},
    ),
    ("language", "Language", "Picklist", {"allowedValues": list(LANGUAGES)}),
    ("departmentId", "Department", "LookUp", {"isMandatory": True}),
    ("contactId", "Contact Name", "LookUp", {"isMandatory": True}),
    ("accountId", "Account Name", "LookUp", {}),
    ("assigneeId", "Ticket Owner", "LookUp", {}),
    ("teamId", "Team", "LookUp", {}),
    ("productId", "Product Name", "LookUp", {}),
    ("contractId", "Contract", "LookUp", {}),
    ("email", "Email", "Email", {"maxLength": 120}),
    ("phone", "Phone", "Phone", {"maxLength": 120}),
    ("dueDate", "Due Date", "DateTime", {}),
    ("responseDueDate", "Response Due Date", "DateTime", {}),
    ("resolution", "Resolution", "Textarea", {"maxLength": 65535}),
    ("secondaryContacts", "Secondary Contacts", "MultiLookup", {}),
)

CONTACT_CUSTOM_FIELDS = (
    ("cf_contact_tier", "Contact Tier", "Picklist", {"allowedValues": ["Bronze", "Silver", "Gold", "Platinum"]}),
    ("cf_birthday", "Birthday", "Date", {}),
)
_CONTACT_STANDARD = (
    ("firstName", "First Name", "Text", {"maxLength": 80}),
    ("lastName", "Last Name", "Text", {"maxLength": 80, "isMandatory": True}),
    ("email", "Email", "Email", {"maxLength": 100}),
    ("secondaryEmail", "Secondary Email", "Email", {"maxLength": 100}),
    ("phone", "Phone", "Phone", {"maxLength": 50}),
    ("mobile", "Mobile", "Phone", {"maxLength": 50}),
    ("accountId", "Account Name", "LookUp", {}),
    ("title", "Title", "Text", {"maxLength": 100}),
    ("type", "Type", "Picklist", {"allowedValues": ["-None-", "Customer", "Partner", "Reseller", "Vendor"]}),
    ("description", "Description", "Textarea", {"maxLength": 65535}),
    ("ownerId", "Contact Owner", "LookUp", {}),
    ("twitter", "Twitter", "Text", {"maxLength": 50}),
    ("facebook", "Facebook", "Text", {"maxLength": 50}),
    ("street", "Street", "Text", {"maxLength": 250}),
    ("city", "City", "Text", {"maxLength": 30}),
    ("state", "State", "Text", {"maxLength": 30}),
    ("zip", "Zip", "Text", {"maxLength": 30}),
    ("country", "Country", "Text", {"maxLength": 30}),
)

ACCOUNT_CUSTOM_FIELDS = (
    ("cf_segment", "Segment", "Picklist", {"allowedValues": ["SMB", "Mid-Market", "Enterprise"]}),
    ("cf_renewal_date", "Renewal Date", "Date", {}),
)
_ACCOUNT_STANDARD = (
    ("accountName", "Account Name", "Text", {"maxLength": 200, "isMandatory": True}),
    ("email", "Email", "Email", {"maxLength": 100}),
    ("phone", "Phone", "Phone", {"maxLength": 30}),
    ("website", "Website", "URL", {"maxLength": 120}),
    ("fax", "Fax", "Fax", {"maxLength": 30}),
    (
        "industry",
        "Industry",
        "Picklist",
        {"allowedValues": ["-None-", "Retail", "Manufacturing", "Healthcare", "Education", "Software", "Finance"]},
    ),
    ("annualrevenue", "Annual Revenue", "Currency", {"maxLength": 16, "decimalPlaces": 2}),
    ("description", "Description", "Textarea", {"maxLength": 65535}),
    ("street", "Street", "Text", {"maxLength": 250}),
    ("city", "City", "Text", {"maxLength": 30}),
    ("state", "State", "Text", {"maxLength": 30}),
    ("code", "Code", "Text", {"maxLength": 30}),
    ("country", "Country", "Text", {"maxLength": 30}),
    ("ownerId", "Account Owner", "LookUp", {}),
)

_TASK_STANDARD = (
    ("subject", "Subject", "Text", {"maxLength": 255, "isMandatory": True}),
    ("dueDate", "Due Date", "DateTime", {}),
    ("priority", "Priority", "Picklist", {"allowedValues": ["-None-", "High", "Normal", "Low"]}),
    ("status", "Status", "Picklist", {"allowedValues": ["Not Started", "In Progress", "Completed", "Deferred"]}),
    ("category", "Category", "Picklist", {"allowedValues": ["-None-", "Follow-up", "Callback"]}),
    ("description", "Description", "Textarea", {"maxLength": 65535}),
    ("ticketId", "Ticket", "LookUp", {}),
    ("ownerId", "Task Owner", "LookUp", {}),
    ("reminder", "Reminder", "DateTime", {}),
)
TASK_CUSTOM_FIELDS = (("cf_effort_hours", "Effort (hours)", "Decimal", {"maxLength": 8, "decimalPlaces": 1}),)

_CALL_STANDARD = (
    ("subject", "Subject", "Text", {"maxLength": 255, "isMandatory": True}),
    ("startTime", "Call Start Time", "DateTime", {"isMandatory": True}),
    ("duration", "Call Duration", "Number", {"maxLength": 9}),
    ("direction", "Call Type", "Picklist", {"allowedValues": ["inbound", "outbound"]}),
    ("status", "Status", "Picklist", {"allowedValues": ["In Progress", "Completed", "Cancelled"]}),
    ("priority", "Priority", "Picklist", {"allowedValues": ["-None-", "High", "Normal", "Low"]}),
    ("description", "Description", "Textarea", {"maxLength": 65535}),
    ("ticketId", "Ticket", "LookUp", {}),
    ("ownerId", "Call Owner", "LookUp", {}),
)
CALL_CUSTOM_FIELDS = (
    ("cf_call_outcome", "Outcome", "Picklist", {"allowedValues": ["Resolved", "Callback needed", "Voicemail"]}),
)

_EVENT_STANDARD = (
    ("subject", "Subject", "Text", {"maxLength": 255, "isMandatory": True}),
    ("startTime", "Start Time", "DateTime", {"isMandatory": True}),
    ("duration", "Duration", "Number", {"maxLength": 9}),
    ("category", "Category", "Picklist", {"allowedValues": ["-None-", "Meeting", "Demo", "Training"]}),
    ("status", "Status", "Picklist", {"allowedValues": ["Not Started", "In Progress", "Completed"]}),
    ("priority", "Priority", "Picklist", {"allowedValues": ["-None-", "High", "Normal", "Low"]}),
    ("description", "Description", "Textarea", {"maxLength": 65535}),
    ("ticketId", "Ticket", "LookUp", {}),
    ("ownerId", "Event Owner", "LookUp", {}),
)
EVENT_CUSTOM_FIELDS = (("cf_location", "Location", "Text", {"maxLength": 120}),)

CONTRACT_CUSTOM_FIELDS = (
    ("cf_contract_value", "Contract Value", "Currency", {"maxLength": 16, "decimalPlaces": 2}),
    ("cf_renewal_type", "Renewal Type", "Picklist", {"allowedValues": ["Manual", "Automatic", "None"]}),
    ("cf_terms", "Special Terms", "Textarea", {"maxLength": 32000}),
)
_CONTRACT_STANDARD = (
    ("contractName", "Contract Name", "Text", {"maxLength": 200, "isMandatory": True}),
    ("contractNumber", "Contract Number", "AutoNumber", {"maxLength": 30}),
    ("accountId", "Account Name", "LookUp", {"isMandatory": True}),
    ("productId", "Product Name", "LookUp", {}),
    ("departmentId", "Department", "LookUp", {"isMandatory": True}),
    ("startDate", "Start Date", "Date", {"isMandatory": True}),
    ("endDate", "End Date", "Date", {"isMandatory": True}),
    ("ownerId", "Contract Owner", "LookUp", {}),
    ("slaId", "SLA", "LookUp", {"isMandatory": True}),
    ("notifyBefore", "Notify Before (days)", "Number", {"maxLength": 3}),
    ("notificationAgentIds", "Notify Agents", "MultiLookup", {}),
    ("description", "Description", "Textarea", {"maxLength": 65535}),
)

PRODUCT_CUSTOM_FIELDS = (
    ("cf_warranty_months", "Warranty (months)", "Number", {"maxLength": 3}),
    ("cf_sku_url", "SKU Page", "URL", {"maxLength": 255}),
    ("cf_discontinued", "Discontinued", "Boolean", {}),
)
_PRODUCT_STANDARD = (
    ("productName", "Product Name", "Text", {"maxLength": 200, "isMandatory": True}),
    ("productCode", "Product Code", "Text", {"maxLength": 200}),
    ("unitPrice", "Unit Price", "Currency", {"maxLength": 16, "decimalPlaces": 2}),
    (
        "productCategory",
        "Product Category",
        "Picklist",
        {"allowedValues": ["-None-", "Hardware", "Software", "Service", "Accessory"]},
    ),
    ("manufacturer", "Manufacturer", "Text", {"maxLength": 120}),
    ("departmentIds", "Departments", "MultiLookup", {"isMandatory": True}),
    ("description", "Description", "Textarea", {"maxLength": 65535}),
    ("ownerId", "Product Owner", "LookUp", {}),
)

ORG_FIELD_MODULES = {
    "tickets": (_TICKET_STANDARD, TICKET_CUSTOM_FIELDS),
    "contacts": (_CONTACT_STANDARD, CONTACT_CUSTOM_FIELDS),
    "accounts": (_ACCOUNT_STANDARD, ACCOUNT_CUSTOM_FIELDS),
    "tasks": (_TASK_STANDARD, TASK_CUSTOM_FIELDS),
    "calls": (_CALL_STANDARD, CALL_CUSTOM_FIELDS),
    "events": (_EVENT_STANDARD, EVENT_CUSTOM_FIELDS),
    "contracts": (_CONTRACT_STANDARD, CONTRACT_CUSTOM_FIELDS),
    "products": (_PRODUCT_STANDARD, PRODUCT_CUSTOM_FIELDS),
}


def build_org_fields(new_id) -> dict:
    """``{module: [field definition, ...]}``; ``new_id()`` yields a fresh id per field (unique across modules)."""
    out: dict = {}
    for module, (standard, custom) in ORG_FIELD_MODULES.items():
        fields = []
        for is_custom, entries in ((False, standard), (True, custom)):
            for api_name, label, ftype, extras in entries:
                fd = {
                    "id": new_id(),
                    "apiName": api_name,
                    "displayLabel": label,
                    "i18NLabel": label,
                    "name": label if is_custom else api_name,
                    "type": ftype,
                    "maxLength": extras.get("maxLength", _default_max_length(ftype)),
                    "isCustomField": is_custom,
                    "isMandatory": bool(extras.get("isMandatory", False)),
                    "isSystemMandatory": bool(extras.get("isMandatory", False)) and not is_custom,
                    "isEncryptedField": False,
                    "isRemovable": is_custom,
                    "showToHelpCenter": not is_custom,
                    "toolTip": "",
                    "toolTipType": "noHelp",
                    "defaultValue": None,
                }
                if "allowedValues" in extras:
                    fd["allowedValues"] = list(extras["allowedValues"])
                if ftype in ("Decimal", "Currency", "Percent"):
                    fd["decimalPlaces"] = extras.get("decimalPlaces", 2)
                fields.append(fd)
        out[module] = fields
    return out


def _default_max_length(ftype: str):
    return {
        "Text": 255,
        "Textarea": 65535,
        "LargeText": 50000,
        "Email": 120,
        "Phone": 50,
        "URL": 255,
        "Fax": 30,
        "Number": 9,
        "Date": 20,
        "DateTime": 30,
        "Checkbox": 5,
        "Boolean": 5,
        "Picklist": 120,
        "Multiselect": 2000,
        "AutoNumber": 20,
    }.get(ftype, 120)


def ticket_custom_types() -> dict:
    return {api: ftype for api, _label, ftype, _extras in TICKET_CUSTOM_FIELDS}


def ticket_fields_param_allowed() -> set:
    """Names accepted by ``GET /tickets?fields=`` (multi-line fields are refused)."""
    names = {f for f in TICKET_FIELDS if f not in TICKET_MULTILINE_STANDARD and f != "cf"}
    names |= {api for api, t in ticket_custom_types().items() if t not in MULTILINE_TYPES}
    return names


def ticket_multiline_names() -> set:
    return set(TICKET_MULTILINE_STANDARD) | {a for a, t in ticket_custom_types().items() if t in MULTILINE_TYPES}


def project(record: dict, names) -> dict:
    return {n: record.get(n) for n in names}


# --- modules beyond the first five streams ---------------------------------------------------------------------
TASK_FIELDS = (
    "id",
    "subject",
    "dueDate",
    "priority",
    "status",
    "category",
    "description",
    "ticketId",
    "ticketNumber",
    "departmentId",
    "contactId",
    "ownerId",
    "teamId",
    "creatorId",
    "createdTime",
    "modifiedTime",
    "modifiedBy",
    "completedTime",
    "isCompleted",
    "reminder",
    "isCommented",
    "webUrl",
    "layoutId",
    "cf",
)
TASK_LIST_FIELDS = tuple(f for f in TASK_FIELDS if f not in ("description", "cf"))

CALL_FIELDS = (
    "id",
    "subject",
    "direction",
    "duration",
    "status",
    "startTime",
    "completedTime",
    "priority",
    "description",
    "ticketId",
    "ticketNumber",
    "contactId",
    "departmentId",
    "ownerId",
    "teamId",
    "creatorId",
    "createdTime",
    "modifiedTime",
    "modifiedBy",
    "isCompleted",
    "isCommented",
    "webUrl",
    "layoutId",
    "cf",
)
CALL_LIST_FIELDS = tuple(f for f in CALL_FIELDS if f not in ("description", "cf"))

EVENT_FIELDS = (
    "id",
    "subject",
    "startTime",
    "duration",
    "category",
    "status",
    "priority",
    "description",
    "ticketId",
    "ticketNumber",
    "contactId",
    "departmentId",
    "ownerId",
    "teamId",
    "creatorId",
    "createdTime",
    "modifiedTime",
    "modifiedBy",
    "isCompleted",
    "reminder",
    "isCommented",
    "webUrl",
    "layoutId",
    "cf",
)
EVENT_LIST_FIELDS = tuple(f for f in EVENT_FIELDS if f not in ("description", "cf"))

ARTICLE_FIELDS = (
    "id",
    "title",
    "summary",
    "answer",
    "permalink",
    "status",
    "permission",
    "categoryId",
    "rootCategoryId",
    "category",
    "departmentId",
    "authorId",
    "author",
    "createdTime",
    "modifiedTime",
    "createdBy",
    "modifiedBy",
    "latestVersion",
    "latestPublishedVersion",
    "likeCount",
    "dislikeCount",
    "viewCount",
    "feedbackCount",
    "commentCount",
    "locale",
    "tags",
    "expiryDate",
    "webUrl",
    "portalUrl",
    "isTrashed",
)
ARTICLE_LIST_FIELDS = tuple(f for f in ARTICLE_FIELDS if f != "answer")

TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Deferred")
CALL_STATUSES = ("In Progress", "Completed", "Cancelled")
EVENT_STATUSES = ("Not Started", "In Progress", "Completed")
ACTIVITY_PRIORITIES = ("High", "Normal", "Low")

_TIME_ENTRY_STANDARD = (
    ("executedTime", "Executed Time", "DateTime", {"isMandatory": True}),
    ("hoursSpent", "Hours", "Number", {"maxLength": 4}),
    ("minutesSpent", "Minutes", "Number", {"maxLength": 2}),
    ("secondsSpent", "Seconds", "Number", {"maxLength": 2}),
    ("isBillable", "Billable", "Boolean", {}),
    (
        "billingType",
        "Billing Type",
        "Picklist",
        {
            "allowedValues": [
                "FIXED_COST_FOR_TICKETS",
                "FIXED_COST_FOR_AGENTS",
                "SPECIFIC_COST_PER_AGENT",
                "SPECIFIC_COST_PER_PROFILE",
            ]
        },
    ),
    (
        "requestChargeType",
        "Request Charge Type",
        "Picklist",
        {"allowedValues": ["Customer Service", "Upgrade Request", "Product Consultation", "Support and Maintenance"]},
    ),
    ("description", "Description", "Textarea", {"maxLength": 65535}),
    ("ownerId", "Owner", "LookUp", {}),
    ("totalCost", "Total Cost", "Currency", {"maxLength": 16, "decimalPlaces": 2}),
)
TIME_ENTRY_CUSTOM_FIELDS = (
    ("cf_work_type", "Work Type", "Picklist", {"allowedValues": ["Investigation", "Fix", "Call-back", "Admin"]}),
    ("cf_travel_needed", "Travel Needed", "Boolean", {}),
)
_AGENT_STANDARD = (
    ("firstName", "First Name", "Text", {"maxLength": 50}),
    ("lastName", "Last Name", "Text", {"maxLength": 50, "isMandatory": True}),
    ("emailId", "Email", "Email", {"maxLength": 100, "isMandatory": True}),
    ("phone", "Phone", "Phone", {"maxLength": 50}),
    ("mobile", "Mobile", "Phone", {"maxLength": 50}),
    ("extn", "Extension", "Text", {"maxLength": 10}),
    ("aboutInfo", "About", "Textarea", {"maxLength": 3000}),
    ("roleId", "Role", "LookUp", {"isMandatory": True}),
    ("profileId", "Profile", "LookUp", {"isMandatory": True}),
)
AGENT_CUSTOM_FIELDS = (
    ("cf_employee_id", "Employee ID", "Text", {"maxLength": 20}),
    ("cf_shift", "Shift", "Picklist", {"allowedValues": ["Morning", "Day", "Night"]}),
)

# Formula fields: only GET /fields knows the type (the deprecated endpoint's type list has no Formula). Their
# values are computed from other fields of the same record (``returnType`` says the value's type).
FIELDS_ONLY_CUSTOM = {
    "tasks": (
        (
            "cf_effort_days",
            "Effort (days)",
            "Formula",
            {"returnType": "DECIMAL", "expression": "${cf_effort_hours} / 8"},
        ),
    ),
    "timeEntry": (
        (
            "cf_billable_amount",
            "Billable Amount",
            "Formula",
            {"returnType": "CURRENCY", "expression": "IF(${isBillable}, ${totalCost}, 0)"},
        ),
    ),
}
FIELDS_ONLY_MODULES = {
    "timeEntry": (_TIME_ENTRY_STANDARD, TIME_ENTRY_CUSTOM_FIELDS),
    "agents": (_AGENT_STANDARD, AGENT_CUSTOM_FIELDS),
}
FIELD_MODULES = tuple(ORG_FIELD_MODULES) + tuple(FIELDS_ONLY_MODULES)


def module_custom_fields(module: str) -> tuple:
    """Every custom field of ``module`` as ``GET /fields`` lists it (Formula fields included)."""
    if module in ORG_FIELD_MODULES:
        custom = ORG_FIELD_MODULES[module][1]
    else:
        custom = FIELDS_ONLY_MODULES[module][1]
    return tuple(custom) + FIELDS_ONLY_CUSTOM.get(module, ())


def module_standard_fields(module: str) -> tuple:
    if module in ORG_FIELD_MODULES:
        return ORG_FIELD_MODULES[module][0]
    return FIELDS_ONLY_MODULES[module][0]
