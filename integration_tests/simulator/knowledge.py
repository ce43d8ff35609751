"""Seeded knowledge base: root categories (KBRootCategory.json) and articles (Article.json).

Each root category belongs to a department; articles belong to a root category, have a status among Draft,
Published, Review, Expired and Unpublished, counters as strings, and ``answer`` (the HTML body) only in the detail.
One article is already deleted and sits in the recycle bin (type "Solutions", the module's old name).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .data import SEED_NOW, iso, recycle_entry

CATEGORIES = (
    ("General", "Getting started, accounts and passwords"),
    ("Billing & Payments", "Invoices, refunds"),
    ("Troubleshooting 🛠", "Fixes for common problems"),
    ("Produits", "Fiches et garanties"),
)
TITLES = (
    "How to reset your password",
    "Understanding your invoice",
    "Setting up two-factor authentication",
    "Router keeps disconnecting",
    "Return and refund policy",
    "Exporting reports to PDF",
    "Configurer le Wi-Fi",
    "Garantie: ce qui est couvert",
    "Rechnung herunterladen",
    "ログインできない場合",
    "Dark mode and accessibility",
    "Shipping times by country",
    "Why was I charged twice?",
    "Updating the mobile app",
    "Contacting support 24/7",
)
STATUSES = ("Published",) * 6 + ("Draft", "Review", "Expired", "Unpublished")


def seed_knowledge_base(store, ids, rng: random.Random, articles: int, start: datetime) -> None:
    agents = list(store["agents"].values())
    depts = list(store["departments"])
    roots = []
    t = start
    for order, (name, description) in enumerate(CATEGORIES[: max(1, min(len(CATEGORIES), len(depts)))], start=1):
        cid = ids.new("kbCategories")
        t = t + timedelta(days=rng.randint(1, 20))
        store["kbCategories"][cid] = {
            "id": cid,
            "name": name,
            "description": description,
            "departmentId": depts[(order - 1) % len(depts)],
            "status": "SHOW_IN_HELPCENTER" if order < 4 else "HIDE_IN_HELPCENTER",
            "visibility": "ALL_USERS" if order != 3 else "AGENTS",
            "isReviewEnabled": order == 2,
            "locale": "en" if order < 4 else "fr",
            "order": str(order),
            "logoUrl": None,
            "isTrashed": False,
            "helpcenterId": None,
            "createdTime": iso(t),
            "modifiedTime": iso(t + timedelta(days=rng.randint(0, 99))),
            "translatedLocales": ["en"],
            "permalink": name.lower().split(" ")[0],
        }
        roots.append(store["kbCategories"][cid])

    made = []
    for i in range(articles + 1):  # the extra one is deleted
        category = rng.choice(roots)
        author = rng.choice(agents) if agents else None
        created = datetime(2023, 2, 1, tzinfo=SEED_NOW.tzinfo) + timedelta(seconds=rng.randint(0, 500 * 86400))
        modified = min(created + timedelta(seconds=rng.randint(0, 60 * 86400)), SEED_NOW)
        title = TITLES[i % len(TITLES)] + ("" if i < len(TITLES) else f" ({i // len(TITLES) + 1})")
        status = rng.choice(STATUSES)
        made.append(
            {
                "title": title,
                "summary": f"{title} — step by step.",
                "status": status,
                "answer": f"<h2>{title}</h2><p>Follow these steps:</p><ol><li>Open settings</li><li>…</li></ol>",
                "permalink": "-".join(title.lower().split())[:60],
                "permission": rng.choice(("ALL", "ALL", "REGISTEREDUSERS", "AGENTS")),
                "categoryId": category["id"],
                "rootCategoryId": category["id"],
                "category": {"id": category["id"], "name": category["name"], "locale": category["locale"]},
                "departmentId": category["departmentId"],
                "authorId": author["id"] if author else None,
                "author": {"id": author["id"], "name": author["name"], "photoURL": author["photoURL"]}
                if author
                else None,
                "createdTime": iso(created),
                "modifiedTime": iso(modified),
                "createdBy": author["id"] if author else None,
                "modifiedBy": author["id"] if author else None,
                "latestVersion": f"{rng.randint(1, 4)}.0",
                "latestPublishedVersion": "1.0" if status == "Published" else None,
                "likeCount": str(rng.randint(0, 80)),
                "dislikeCount": str(rng.randint(0, 9)),
                "viewCount": str(rng.randint(0, 4000)),
                "feedbackCount": str(rng.randint(0, 5)),
                "commentCount": str(rng.randint(0, 12)),
                "locale": category["locale"],
                "tags": rng.sample(["faq", "howto", "billing", "setup", "mobile"], rng.randint(0, 2)),
                "expiryDate": iso(modified + timedelta(days=365)) if status == "Expired" else None,
                "isTrashed": False,
            }
        )
    made.sort(key=lambda a: a["createdTime"])
    deleted = rng.randrange(len(made))
    for i, fields in enumerate(made):
        rid = ids.new("articles")
        rec = {"id": rid, **fields}
        rec["webUrl"] = f"https://desk.zoho.com/support/zylkerdesk/ShowHomePage.do#Solutions/dv/{rid}"
        rec["portalUrl"] = f"https://desk.zoho.com/portal/zylkerdesk/en/kb/articles/{rec['permalink']}"
        if i == deleted:
            store["recycleBin"][rid] = recycle_entry(
                rec,
                "Solutions",
                rec["title"],
                rec["departmentId"],
                rec["modifiedBy"],
                iso(min(SEED_NOW, datetime.fromisoformat(rec["modifiedTime"][:-1] + "+00:00") + timedelta(days=1))),
            )
        else:
            store["articles"][rid] = rec
