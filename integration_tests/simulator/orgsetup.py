"""Seeded organisation setup: roles, profiles, skills, layouts, business hours, holiday lists, support plans,
channels, the ticket-tag catalogue and module ids; plus fields the core seeding did not give agents, teams and
contacts.

Runs after ``data.seed_store``'s core seeding with its own RNG, so every record the core seeding makes stays exactly
as it was (other tests pin seeds and counts). Shapes follow Role.json, Profile.json, Skill.json, Layout.json,
BusinessHour.json, HolidayList.json, SupportPlan.json, Channel.json and Team.json of the OAS.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Optional

from .data import iso as _iso
from .phones import phone_number

# (name, description, isDefault, isVisible, shareDataWithPeers, reports to index or None)
ROLES = (
    ("CEO", "Agent belongs to this role can access all other user's data.", True, True, True, None),
    ("Support Manager", "Manages the support teams of every department", False, True, False, 0),
    ("Team Lead", "Leads a tier of agents", False, True, True, 1),
    ("Support Agent", "Works on own and team tickets", False, True, False, 2),
    ("Personal", "Agents belongs to this role can see only unassigned and his/her data", False, False, False, None),
    ("LightAgent", "Agents belonging to this role can access all user's data.", True, False, False, None),
)
# (name, type, description, default, visible)
PROFILES = (
    ("Administrator", "ADMIN", "Complete access to every module and setting", True, True),
    ("Agent", "AGENT", "Works on tickets, contacts and activities", True, True),
    ("Support Manager", "CUSTOM", "Agents plus reports and automations", False, True),
    ("Newbie Agent", "CUSTOM", "Read-only access to accounts and contracts", False, True),
    ("Light Agent", "LIGHT", "Comments and reads tickets only", True, False),
)
SKILL_TYPES = ("Language", "Product", "Region")
SKILLS = {
    "Language": ("English", "Français", "Deutsch", "日本語"),
    "Product": ("Hardware", "Billing", "Mobile app"),
    "Region": ("EMEA", "APAC", "Americas"),
}
TAG_NAMES = (
    "refund",
    "vip",
    "bug",
    "feature-request",
    "outage",
    "billing",
    "login",
    "shipping",
    "warranty",
    "urgent",
    "duplicate",
    "follow-up",
)
# Channel.json's example: system channels first, then an integration and an instant-messaging channel
SYSTEM_CHANNELS = (
    ("EMAIL", "Email", True, ["text/plain", "text/html"]),
    ("PHONE", "Phone", False, ["text/plain"]),
    ("WEB", "Web", False, ["text/plain"]),
    ("CHAT", "Chat", False, ["text/plain"]),
    ("FORUMS", "Forums", False, ["text/plain", "text/html"]),
    ("TWITTER", "Twitter", False, ["text/plain"]),
    ("TWITTER_DM", "Twitter", False, ["text/plain"]),
    ("FACEBOOK", "Facebook", False, ["text/plain"]),
    ("FEEDBACK", "Feedback Widget", False, ["text/plain"]),
)
# modules that have layouts (Layout.json) and their standard layout name
LAYOUT_MODULES = ("contacts", "accounts", "tasks", "calls", "events", "timeEntry", "contracts")
RECYCLE_MODULES = (
    "accounts",
    "contacts",
    "tickets",
    "tasks",
    "timeEntry",
    "calls",
    "events",
    "contracts",
    "products",
    "topics",
    "solutions",
)
LOOKUP_MODULES = ("departments", "agents", "teams", "slas", "roles", "profiles")  # targets of lookup fields


def seed_org_setup(store, ids, rng: random.Random, start: datetime) -> None:
    """Adds the setup modules to ``store`` (see the module docstring)."""
    t = start
    agents = list(store["agents"].values())
    admin = agents[0]["id"] if agents else None

    def tick(days: int = 3) -> datetime:
        nonlocal t
        t = t + timedelta(days=rng.randint(1, days), seconds=rng.randint(0, 86399))
        return t

    store.modules = {m: ids.new("modules") for m in RECYCLE_MODULES + LOOKUP_MODULES}

    role_ids = []
    for name, description, default, visible, share, reports in ROLES:
        rid = ids.new("roles")
        role_ids.append(rid)
        store["roles"][rid] = {
            "id": rid,
            "name": name,
            "description": description,
            "isDefault": default,
            "isVisible": visible,
            "shareDataWithPeers": share,
            "reportsTo": role_ids[reports] if reports is not None else None,
            "immediateSubRoles": [],
        }
    for role in store["roles"].values():
        if role["reportsTo"]:
            store["roles"][role["reportsTo"]]["immediateSubRoles"].append(role["id"])

    profile_ids = []
    for name, ptype, description, default, visible in PROFILES:
        pid = ids.new("profiles")
        profile_ids.append(pid)
        created = tick()
        store["profiles"][pid] = {
            "id": pid,
            "name": name,
            "type": ptype,
            "description": description,
            "default": default,
            "isVisible": visible,
            "modifiedBy": admin,
            "modifiedTime": _iso(created + timedelta(days=rng.randint(0, 40))),
            "permissions": {
                "tickets": {
                    "view": True,
                    "edit": ptype != "LIGHT",
                    "create": ptype != "LIGHT",
                    "delete": ptype in ("ADMIN", "CUSTOM"),
                },
                "contacts": {"view": True, "edit": ptype != "LIGHT"},
                "setup": {"view": ptype == "ADMIN"},
            },
        }

    # agents: a role and profile from the catalogues, the fields the OAS lists that the core seeding left out
    working_roles = role_ids[:4]
    for i, agent in enumerate(agents):
        light = agent["status"] == "ACTIVE" and i == len(agents) - 2
        agent["roleId"] = role_ids[5] if light else (role_ids[0] if i == 0 else rng.choice(working_roles[1:]))
        agent["profileId"] = profile_ids[4] if light else (profile_ids[0] if i == 0 else rng.choice(profile_ids[1:4]))
        agent["rolePermissionType"] = (
            "Light"
            if light
            else ("Admin" if i == 0 else rng.choice(["AgentPublic", "AgentTeamPersonal", "AgentPersonal", "Custom"]))
        )
        agent["isLightAgent"] = light
        agent["extn"] = str(rng.randint(100, 999)) if rng.random() < 0.5 else None
        agent["countryCode"] = rng.choice(["US", "FR", "DE", "JP", "IN"])
        agent["aboutInfo"] = rng.choice([None, "Support since 2019.", "Speaks FR/EN — escalations 🌙"])
        agent["channelExpert"] = rng.sample(["Email", "Phone", "Chat", "Web"], rng.randint(1, 3))
        agent["verifiedEmails"] = [agent["emailId"]]
        agent["cf"] = {
            "cf_employee_id": f"EMP-{rng.randint(1000, 9999)}",
            "cf_shift": rng.choice(["Morning", "Day", "Night", None]),
        }

    # teams: the Team.json shape (roles, agents, rolesWithSubordinates, logoUrl) instead of a single roleId
    for team in store["teams"].values():
        role = team.pop("roleId", None)
        team["roles"] = [rng.choice(working_roles)] if role else []
        team["agents"] = list(team["derivedAgents"])
        team["rolesWithSubordinates"] = []
        team["logoUrl"] = None

    # skills per department, each with a skill type and the agents who have it
    type_ids = {name: ids.new("skills") for name in SKILL_TYPES}
    for dept in store["departments"].values():
        for order, (stype, sname) in enumerate(
            rng.sample([(ty, n) for ty, ns in SKILLS.items() for n in ns], rng.randint(2, 4)), start=1
        ):
            sid = ids.new("skills")
            created = tick()
            members = dept["associatedAgentIds"]
            store["skills"][sid] = {
                "id": sid,
                "name": sname,
                "description": f"{stype} is {sname}",
                "status": "ACTIVE" if rng.random() < 0.85 else "INACTIVE",
                "departmentId": dept["id"],
                "skillTypeId": type_ids[stype],
                "skillType": {"skillTypeId": type_ids[stype], "skillTypeName": stype},
                "orderId": str(order),
                "agentIds": rng.sample(members, min(len(members), rng.randint(0, 3))),
                "criteria": {
                    "fieldConditions": [
                        {
                            "displayValue": [sname],
                            "condition": "contains",
                            "fieldName": "Subject",
                            "fieldModule": "tickets",
                            "value": [sname],
                        }
                    ],
                    "pattern": "1",
                },
                "createdBy": admin,
                "createdTime": _iso(created),
                "modifiedBy": admin,
                "modifiedTime": _iso(created + timedelta(hours=rng.randint(0, 900))),
            }

    # layouts: the ticket layout of each department and the products layout already exist (their ids are on the
    # records); every other module gets one standard layout
    for dept in store["departments"].values():
        lid = store.layouts.get(dept["id"])
        if lid:
            _layout(store, rng, lid, "tickets", dept["id"], f"{dept['name']} layout", tick(), admin)
    if "products" in store.layouts:
        _layout(store, rng, store.layouts["products"], "products", None, "Standard Product Layout", tick(), admin)
    for module in LAYOUT_MODULES:
        lid = ids.new("layouts")
        store.layouts[module] = lid
        _layout(store, rng, lid, module, None, f"Standard {module} layout", tick(), admin)

    # holiday lists, then business hours that use them
    holiday_ids = []
    for name, kind, year, status in (
        ("Company holidays", "RECURRING", None, "ACTIVE"),
        ("Jours fériés 2024", "YEAR_SPECIFIC", "2024", "ACTIVE"),
        ("Old list", "RECURRING", None, "INACTIVE"),
    ):
        hid = ids.new("holidayLists")
        holiday_ids.append(hid)
        created = tick()
        store["holidayLists"][hid] = {
            "id": hid,
            "name": name,
            "status": status,
            "holidayListType": kind,
            "year": year,
            "associatedBusinessHours": [],
            "createdBy": admin,
            "createdTime": _iso(created),
            "modifiedBy": admin,
            "modifiedTime": _iso(created + timedelta(days=rng.randint(0, 30))),
            "holidays": [
                {"holidayName": h, "from": f, "to": to}
                for h, f, to in (
                    ("New Year", "01-01", "01-01"),
                    ("Labour Day", "05-01", "05-01"),
                    ("Christmas", "12-24", "12-26"),
                )[: rng.randint(1, 3)]
            ],
        }
    for name, kind, tz, status, hol in (
        ("24x7 support", "24X7", "Europe/Paris", "ACTIVE", None),
        ("Paris office hours", "SPECIFIC", "Europe/Paris", "ACTIVE", 0),
        ("US support", "SPECIFIC", "America/Chicago", "INACTIVE", 1),
    ):
        bid = ids.new("businessHours")
        created = tick()
        days = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
        times = (
            []
            if kind == "24X7"
            else [
                {
                    "day": d,
                    "startTime": "09:00",
                    "endTime": "18:00",
                    "timeSlots": [
                        {"startTime": "09:00", "endTime": "12:30"},
                        {"startTime": "13:30", "endTime": "18:00"},
                    ],
                }
                for d in days
            ]
        )
        holiday = store["holidayLists"][holiday_ids[hol]] if hol is not None else None
        store["businessHours"][bid] = {
            "id": bid,
            "name": name,
            "status": status,
            "type": kind,
            "timeZone": {"id": tz, "name": tz},
            "businessTimes": times,
            "associatedHolidayList": {
                "holidayListId": holiday["id"],
                "holidayListName": holiday["name"],
                "holidayListStatus": holiday["status"],
            }
            if holiday
            else None,
            "createdBy": admin,
            "createdTime": _iso(created),
            "modifiedBy": admin,
            "modifiedTime": _iso(created + timedelta(days=rng.randint(0, 60))),
        }
        if holiday:
            holiday["associatedBusinessHours"].append(
                {"businessHourId": bid, "businessHourName": name, "businessHourStatus": status}
            )

    # support plans: two per department, each bound to one of the SLAs
    slas = list(store.slas.values())
    creator = {
        "id": admin,
        "name": agents[0]["name"] if agents else None,
        "photoURL": None,
        "status": "ACTIVE",
        "zuid": agents[0]["zuid"] if agents else None,
    }
    for dept in store["departments"].values():
        for plan_name, support_type in rng.sample(
            (
                ("Basic", "UNLIMITED_SUPPORT"),
                ("Gold 20h", "HOURS"),
                ("50 tickets", "TICKETS"),
                ("Pay per use", "PRICE"),
            ),
            2,
        ):
            pid = ids.new("supportPlans")
            created = tick()
            sla = rng.choice(slas) if slas else None
            store["supportPlans"][pid] = {
                "id": pid,
                "name": plan_name,
                "status": "ACTIVE" if rng.random() < 0.8 else "DISCONTINUED",
                "supportType": support_type,
                "department": {"id": dept["id"], "name": dept["name"]},
                "sla": {"id": sla["id"], "name": sla["name"], "status": "ACTIVE"} if sla else None,
                "creditDetails": None
                if support_type == "UNLIMITED_SUPPORT"
                else {
                    "HOURS": {"totalCredits": "20", "unit": "HOURS"},
                    "TICKETS": {"totalCredits": "50", "unit": "TICKETS"},
                    "PRICE": {"totalCredits": "1000.00", "unit": "USD"},
                }[support_type],
                "createdBy": dict(creator),
                "modifiedBy": dict(creator),
                "createdTime": _iso(created),
                "modifiedTime": _iso(created + timedelta(days=rng.randint(0, 90))),
            }

    # channels (not paged; Channel.json lists system, integration and instant-messaging channels)
    first_dept = next(iter(store["departments"]), None)
    for code, name, attachments, types in SYSTEM_CHANNELS:
        store["channels"][code] = {
            "code": code,
            "name": name,
            "appName": None,
            "departmentId": None,
            "externalId": None,
            "mappedIntegration": None,
            "photoURL": None,
            "type": "SYSTEM",
            "acceptsReplies": True,
            "replyConfig": {
                "updateRecords": False,
                "acceptsAttachments": attachments,
                "contentTypes": list(types),
                "includeQuotedMessage": attachments,
            },
        }
    for code, name, ctype in (
        ("SALES_WHATSAPP_ACCOUNT", "Sales WhatsApp", "INSTANT_MESSAGE"),
        ("SHOPIFY_ORDERS", "Shopify Orders", "INTEGRATION"),
    ):
        store["channels"][code] = {
            "code": code,
            "name": name,
            "appName": name,
            "departmentId": first_dept,
            "externalId": str(rng.randint(10**14, 10**15)),
            "mappedIntegration": None,
            "photoURL": f"https://desk.zoho.com/api/v1/channels/{code.lower()}/photo",
            "type": ctype,
            "acceptsReplies": True,
            "replyConfig": {
                "updateRecords": False,
                "acceptsAttachments": False,
                "contentTypes": ["text/plain"],
                "includeQuotedMessage": False,
            },
        }

    # the ticket-tag catalogue (tickets pick their tags from it, see children.py)
    for name in TAG_NAMES:
        tid = ids.new("tags")
        store["tags"][tid] = {"id": tid, "name": name, "tagType": "SYSTEM" if name == "duplicate" else "MANUAL"}


def _layout(
    store, rng, lid: str, module: str, dept_id: Optional[str], name: str, created: datetime, admin: Optional[str]
) -> None:
    store["layouts"][lid] = {
        "id": lid,
        "layoutName": name,
        "layoutDisplayName": name,
        "module": module,
        "departmentId": dept_id,
        "isDefaultLayout": True,
        "status": "active",
        "createdBy": admin,
        "createdTime": _iso(created),
        "modifiedBy": admin,
        "modifiedTime": _iso(created + timedelta(days=rng.randint(0, 30))),
    }


def reformat_contact_phones(store, rng: random.Random) -> None:
    """Contacts' phone and mobile in varied real-world notations (``phones.py``); a ticket copies its contact's
    phone at creation, so tickets follow."""
    for contact in store["contacts"].values():
        for key in ("phone", "mobile"):
            if contact.get(key) is not None:
                contact[key] = phone_number(rng)
    for tickets in (store["tickets"], store.trash):
        for ticket in tickets.values():
            contact = store["contacts"].get(ticket.get("contactId") or "")
            if contact is not None:
                ticket["phone"] = contact["phone"]
