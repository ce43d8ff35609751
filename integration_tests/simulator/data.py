"""Seeded, deterministic Zoho Desk data.

``seed_store(seed, counts)`` builds a ``Store``: ``store[module]`` is ``{id: record}`` for tickets,
departments, products, contracts, contacts, accounts, agents, teams, webhooks and recycleBin, insertion ordered
by ``createdTime``, and for the modules of ``Store.MODULES`` seeded after them (``seed_extensions``).
``store.organization`` is the org record, ``store.org_fields`` the ``organizationFields`` definitions per module,
``store.fields`` the ``/fields`` ones, ``store.slas`` the SLA stubs, ``store.trash`` the full records of deleted
tickets, ``store.children`` the per-ticket threads & co. (made on first read).

Shapes follow the reference: ids are digit strings above 2**53 (``1892000000`` + 7..9 digits, increasing with
creation order within a module), counters are strings, times ISO-8601 UTC with milliseconds
(``2024-03-05T10:11:12.000Z``), ``createdTime`` strictly increasing with id order, custom fields in ``cf``.
``DataFactory`` also makes the records that the runtime mutation helpers create.
"""

from __future__ import annotations

import copy
import random
import threading
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Optional

from . import schema

UTC = timezone.utc
SEED_START = datetime(2023, 1, 9, 8, 0, 0, tzinfo=UTC)
SEED_END = datetime(2024, 6, 28, 18, 0, 0, tzinfo=UTC)
SEED_NOW = datetime(2024, 7, 1, 0, 0, 0, tzinfo=UTC)  # "today" of the seeded data
PORTAL = "zylkerdesk"
ID_PREFIX = "1892000000"

# digits per module id (all > 2**53 because they start with 1892 and have >= 17 digits)
ID_DIGITS = {
    "tickets": 19,
    "contacts": 18,
    "accounts": 18,
    "contracts": 18,
    "products": 17,
    "departments": 17,
    "agents": 17,
    "teams": 17,
    "layouts": 17,
    "fields": 17,
    "webhooks": 17,
    "slas": 17,
    "profiles": 17,
    "roles": 17,
}


def iso(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(UTC)


def epoch_to_dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


class IdFactory:
    """Monotonic id source shared by all modules (like Zoho's per-org sequence, with gaps)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._counter = rng.randint(40000, 90000)
        self._lock = threading.Lock()

    def new(self, module: str) -> str:
        digits = ID_DIGITS.get(module, 18)
        with self._lock:
            self._counter += self._rng.randint(3, 97)
            return ID_PREFIX + str(self._counter).zfill(digits - len(ID_PREFIX))


class Store(dict):
    MODULES = (
        "departments",
        "agents",
        "teams",
        "accounts",
        "contacts",
        "products",
        "contracts",
        "tickets",
        "webhooks",
        "recycleBin",
        # seeded after the core modules (orgsetup.py, activities.py, knowledge.py)
        "roles",
        "profiles",
        "skills",
        "layouts",
        "businessHours",
        "holidayLists",
        "supportPlans",
        "channels",
        "tags",
        "tasks",
        "calls",
        "events",
        "kbCategories",
        "articles",
    )

    def __init__(self) -> None:
        super().__init__({m: {} for m in self.MODULES})
        self.organization: dict = {}
        self.org_fields: dict = {}  # GET /organizationFields (deprecated), per module
        self.fields: dict = {}  # GET /fields, per module (fielddefs.py)
        self.slas: dict = {}
        self.layouts: dict = {}  # department id (ticket layouts) or module name -> layout id; records: self["layouts"]
        self.modules: dict = {}  # module api name -> module id (recycle bin moduleId, lookup fields)
        self.trash: dict = {}  # deleted ticket id -> full record at deletion
        self.children = None  # children.TicketChildren: per-ticket threads, comments, ... made on first read


# --- text pools -------------------------------------------------------------------------------------------------
FIRST_NAMES = [
    "José",
    "Zoë",
    "Björn",
    "Chloé",
    "Søren",
    "Ana-María",
    "François",
    "Łukasz",
    "Mónica",
    "Noah",
    "Olivia",
    "Liam",
    "Emma",
    "太郎",
    "花子",
    "娜",
    "伟",
    "Ömer",
    "Ngọc",
    "Priyā",
    "Siobhán",
    "Małgorzata",
    "Renée",
    "Jürgen",
    "Aoife",
    "Kenji",
    "Ines",
    "Mateo",
    "Grace",
    "Hiroshi",
    None,
]
LAST_NAMES = [
    "Álvarez",
    "Müller",
    "Ødegård",
    "Dubois",
    "Kierkegaard",
    "Núñez",
    "Lefèvre",
    "Wiśniewski",
    "García",
    "Smith",
    "O'Brien",
    "Johnson",
    "山田",
    "佐藤",
    "李",
    "王",
    "Yılmaz",
    "Nguyễn",
    "Iyer",
    "Ní Bhriain",
    "Kowalczyk",
    "Zoë-Lynn",
    "Schröder",
    "Murphy",
    "Tanaka",
    "Fernández",
    "Brown",
    "Lee",
]
CITIES = [
    ("Paris", "Île-de-France", "France"),
    ("München", "Bayern", "Germany"),
    ("São Paulo", "SP", "Brazil"),
    ("東京", "東京都", "Japan"),
    ("Austin", "TX", "USA"),
    ("Chennai", "Tamil Nadu", "India"),
    ("Kraków", "Małopolskie", "Poland"),
    ("Dublin", "Leinster", "Ireland"),
    ("上海", "上海", "China"),
    ("Montréal", "QC", "Canada"),
    ("Sevilla", "Andalucía", "Spain"),
    ("Zürich", "ZH", "Switzerland"),
]
COMPANIES = [
    "Zylker Corp",
    "Acme Ünlimited",
    "Globex Sàrl",
    "Initech GmbH",
    "Umbrella 株式会社",
    "Stark Industrias",
    "Wayne & Söhne",
    "Soylent Ltda.",
    "Hooli 🚀",
    "Vandelay Import/Export",
    "Cyberdyne Systèmes",
    "Tyrell Kōgyō",
    "Pied Piper",
    "Wonka Chocolatería",
    "Massive Dynamic",
    "Oscorp Ltd.",
    "Gringotts Banque",
    "Monsters Inc.",
    "Duff Brauerei",
    "Nakatomi Trading 商事",
]
INDUSTRIES = ["Retail", "Manufacturing", "Healthcare", "Education", "Software", "Finance", None]
DEPARTMENT_NAMES = [
    "Support",
    "Billing & Payments",
    "Technical Support 技術",
    "Ventes — Europe",
    "Partner Success 🤝",
    "Returns",
    "VIP Care ⭐",
    "Logistics",
    "Onboarding",
    "Kundenservice DACH",
]
TEAM_NAMES = ["Tier 1", "Tier 2", "Escalations", "Night shift 🌙", "Équipe Paris", "APAC", "Refunds"]
PRODUCT_WORDS = [
    "Router",
    "Smart Thermostat",
    "Noise-cancelling Headset",
    "Café Grinder",
    "4K Monitor",
    "Laptop Pro",
    "Cloud Backup",
    "Standing Desk",
    "Webcam HD",
    "Ergonomic Chair",
    "Label Printer",
    "Security Camera",
    "Mesh Wi-Fi",
    "Tablet Mini",
    "E-Reader",
    "Kabelloser Lautsprecher",
    "Portable SSD",
    "Drone Air",
    "Smartwatch",
    "VR Headset",
    "ノートPC",
    "无线鼠标",
]
PRODUCT_CATEGORIES = ["Hardware", "Software", "Service", "Accessory", None]
MANUFACTURERS = ["Zylker", "Acme", "Globex", "Initech", "Hooli", None]

SUBJECTS = {
    "English": [
        "Unable to log in after password reset",
        "Invoice #{n} shows the wrong amount",
        "App crashes when exporting to PDF 📄",
        "Feature request: dark mode 🌙",
        "Order {n} hasn't arrived yet",
        "Refund not received for order {n}",
        "Can't connect the {p} to Wi-Fi",
        '"Error 500" on the dashboard',
        "Two-factor codes never arrive 😤",
        "How do I add a second user?",
        "Warranty claim for {p}",
        "Slow sync since last update (v{v})",
    ],
    "French": [
        "Problème de facturation — remboursement demandé",
        "Impossible d'accéder à l'espace client",
        "Commande {n} reçue endommagée",
        "Question sur la garantie du {p}",
        "Mise à jour échouée ❌",
    ],
    "German": [
        "Lieferung verspätet – Bestellung {n}",
        "Größenänderung nicht möglich",
        "Rückerstattung für {p} beantragt",
        "Anmeldung schlägt fehl (Fehler {n})",
    ],
    "Spanish": [
        "¿Cómo cambio mi contraseña?",
        "Pedido {n} dañado en el envío",
        "No puedo pagar con tarjeta 💳",
        "El {p} no enciende",
    ],
    "Japanese": [
        "ログインできません",
        "請求書の金額が違います（注文 {n}）",
        "{p}の接続が切れる",
        "返品の手続きについて 🙏",
    ],
    "Chinese": ["无法导出报表", "订单 {n} 状态未更新", "{p} 无法开机", "发票抬头需要修改"],
    "Portuguese": [
        "Não consigo sincronizar o calendário",
        "Cobrança duplicada no pedido {n}",
        "Dúvida sobre a garantia do {p} ✨",
    ],
}
GREETINGS = {
    "English": "Hi team,",
    "French": "Bonjour,",
    "German": "Hallo zusammen,",
    "Spanish": "Hola,",
    "Japanese": "お世話になっております。",
    "Chinese": "您好，",
    "Portuguese": "Olá,",
}
BODIES = [
    'Since this morning I get "Error 500 — something went wrong" when I open the dashboard.',
    'I followed the steps in the help article but nothing changed.\nSteps:\n1. Open the app\n2. Click "Sign in"\n'
    "3. Wait… nothing happens",
    "The log file is at C:\\Users\\café\\AppData\\Local\\Zylker\\sync.log (attached).",
    "Could you please check? It's urgent 🙏 — our team of 12 is blocked.",
    "Der Fehler tritt nur unter Windows auf; unter macOS funktioniert alles.",
    "注文番号をご確認ください。よろしくお願いいたします。",
    "Tab\tseparated\tvalues\tpasted\there, plus a <script>alert('x')</script> that must stay text.",
    "请尽快处理，谢谢！",
]
RESOLUTIONS = [
    "Reset the user's 2FA and confirmed login works.\nCustomer confirmed ✅",
    "Issued a refund of the duplicate charge.\r\nReference: RF-{n}",
    "Replaced the unit under warranty; tracking number sent by e-mail.",
    "Known issue fixed in v{v}. Asked the customer to update.",
]
NOTES = [
    "Root cause: expired certificate on edge node eu-3.\nFollow-up with infra team.",
    "Customer on legacy plan — price grandfathered.\n\n• Checked billing\n• Checked logs",
    "Linea 1\nLinea 2 con acentos: ñ, á, ü\nLinea 3 ✔",
]


def cf_value(rng: random.Random, ftype: str, extras: dict, created: datetime, p_null: float = 0.3):
    """A custom field value of type ``ftype`` as Zoho sends it (strings; see schema.py). Formula values are
    computed from the record instead (``cfvalues.py``)."""
    r = rng
    if ftype in ("Checkbox", "Boolean"):
        return "true" if r.random() < 0.3 else "false"
    if r.random() < p_null:
        return None
    if ftype == "Text":
        return f"ORD-{created.year}-{r.randint(1, 99999):05d}"
    if ftype == "Picklist":
        return r.choice(extras["allowedValues"])
    if ftype == "Multiselect":
        return ";".join(r.sample(extras["allowedValues"], r.randint(1, 3)))
    if ftype == "Date":
        return (created + timedelta(days=r.randint(1, 30))).strftime("%Y-%m-%d")
    if ftype == "DateTime":
        return iso(created + timedelta(minutes=r.randint(5, 20000)))
    if ftype == "Number":
        return str(r.randint(0, 5000))
    if ftype == "Currency":
        return f"{r.uniform(1, 2500):.2f}"
    if ftype == "Decimal":
        return f"{r.uniform(1, 5):.1f}"
    if ftype == "Percent":
        return f"{r.uniform(0, 100):.2f}"
    if ftype == "URL":
        return f"https://portal.example.com/orders/{r.randint(1000, 99999)}"
    if ftype == "Textarea":
        return r.choice(NOTES)
    if ftype == "LargeText":
        return "\n".join(
            f"[{iso(created + timedelta(hours=i))}] step {i}: {r.choice(BODIES)}" for i in range(r.randint(3, 8))
        )
    return None


class DataFactory:
    """Makes records. Used by seeding (seeded RNG) and by the runtime mutation helpers."""

    def __init__(self, store: Store, ids: IdFactory, rng: random.Random, org_id: str) -> None:
        self.store = store
        self.ids = ids
        self.rng = rng
        self.org_id = org_id
        self.ticket_number = 100
        self.contract_number = 1000

    # --- small helpers -----------------------------------------------------------------------------------------
    def _maybe(self, p_null: float, value):
        return None if self.rng.random() < p_null else value

    def _name(self) -> tuple:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def _phone(self) -> str:
        return (
            f"+{self.rng.randint(1, 99)} {self.rng.randint(100, 999)} {self.rng.randint(100, 999)} "
            f"{self.rng.randint(1000, 9999)}"
        )

    def _email(self, first: Optional[str], last: str) -> str:
        folded = unicodedata.normalize("NFKD", f"{first or ''}.{last}".lower())
        base = "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch == "."))
        base = base.strip(".") or f"user{self.rng.randint(10, 9999)}"
        return f"{base}{self.rng.randint(1, 99)}@{self.rng.choice(['example.com', 'zylker.test', 'mail.example.org'])}"

    def _web_url(self, kind: str, rid: str) -> str:
        return f"https://desk.zoho.com/support/{PORTAL}/ShowHomePage.do#{kind}/dv/{rid}"

    def cf_value(self, ftype: str, extras: dict, created: datetime, p_null: float = 0.3):
        return cf_value(self.rng, ftype, extras, created, p_null)

    def _cf(self, custom_fields, created: datetime) -> dict:
        return {api: self.cf_value(ftype, extras, created) for api, _l, ftype, extras in custom_fields}

    # --- organization ---------------------------------------------------------------------------------------------
    def organization(self) -> dict:
        return {
            "id": self.org_id,
            "companyName": "Zylker Support Ünïcode 株式会社",
            "portalName": PORTAL,
            "portalURL": f"https://desk.zoho.com/portal/{PORTAL}",
            "edition": "ENTERPRISE",
            "isDefault": True,
            "isAdminInOrg": True,
            "isSandboxPortal": False,
            "isPayloadEncryptionEnabled": False,
            "employeeCount": "120",
            "currencyLocale": "US",
            "currencyCode": "USD",
            "currencySymbol": "$",
            "timeZone": "Europe/Paris",
            "countryCode": "FR",
            "phoneNumber": "+33 1 23 45 67 89",
            "mobile": None,
            "fax": None,
            "website": "https://www.zylker.test",
            "primaryContact": "admin@zylker.test",
            "description": "Demo help desk — données fictives",
            "alias": None,
            "logoURL": None,
            "faviconURL": None,
            "street": "12 rue de l'Église",
            "city": "Paris",
            "state": "Île-de-France",
            "country": "France",
            "zip": "75001",
        }

    # --- modules ---------------------------------------------------------------------------------------------------
    def department(self, created: datetime, index: int, creator_id: Optional[str], **over) -> dict:
        rid = self.ids.new("departments")
        name = DEPARTMENT_NAMES[index % len(DEPARTMENT_NAMES)]
        if index >= len(DEPARTMENT_NAMES):
            name = f"{name} {index // len(DEPARTMENT_NAMES) + 1}"
        rec = {
            "id": rid,
            "name": name,
            "description": self._maybe(0.3, f"Tickets for {name} — équipe dédiée"),
            "isEnabled": True,
            "isDefault": index == 0,
            "chatStatus": self.rng.choice(["AVAILABLE", "DISABLED", "NOT_CREATED"]),
            "creatorId": creator_id,
            "createdTime": iso(created),
            "hasLogo": self.rng.random() < 0.3,
            "isAssignToTeamEnabled": self.rng.random() < 0.5,
            "isVisibleInCustomerPortal": True,
            "nameInCustomerPortal": name,
            "sanitizedName": "".join(
                c for c in name.lower().replace(" ", "-") if c.isascii() and (c.isalnum() or c == "-")
            ).strip("-")
            or f"dept-{index}",
            "associatedAgentIds": [],
        }
        rec.update(over)
        self.store.layouts[rid] = self.ids.new("layouts")
        return rec

    def agent(self, created: datetime, dept_ids: list) -> dict:
        first, last = self._name()
        rid = self.ids.new("agents")
        return {
            "id": rid,
            "firstName": first,
            "lastName": last,
            "name": f"{first or ''} {last}".strip(),
            "emailId": self._email(first, last),
            "phone": self._maybe(0.4, self._phone()),
            "mobile": self._maybe(0.6, self._phone()),
            "status": "ACTIVE",
            "isConfirmed": True,
            "roleId": self.ids.new("roles"),
            "profileId": self.ids.new("profiles"),
            "zuid": str(self.rng.randint(10_000_000, 99_999_999)),
            "langCode": self.rng.choice(["en_US", "fr_FR", "de_DE", "ja_JP"]),
            "timeZone": self.rng.choice(["Europe/Paris", "America/Chicago", "Asia/Tokyo"]),
            "associatedDepartmentIds": dept_ids,
            "photoURL": self._maybe(0.5, f"https://desk.zoho.com/api/v1/agents/{rid}/photo?orgId={self.org_id}"),
        }

    def team(self, index: int, dept_id: str, agent_ids: list) -> dict:
        return {
            "id": self.ids.new("teams"),
            "name": TEAM_NAMES[index % len(TEAM_NAMES)],
            "description": self._maybe(0.5, "Équipe de support"),
            "departmentId": dept_id,
            "roleId": self.ids.new("roles"),
            "derivedAgents": agent_ids,
            "subTeams": [],
        }

    def account(self, created: datetime, owner_id: Optional[str], **over) -> dict:
        rid = self.ids.new("accounts")
        city, state, country = self.rng.choice(CITIES)
        name = self.rng.choice(COMPANIES)
        if self.rng.random() < 0.5:
            name = f"{name} {city}"
        rec = {
            "id": rid,
            "accountName": name,
            "email": self._maybe(0.3, f"contact@{rid[-5:]}.example.com"),
            "phone": self._maybe(0.3, self._phone()),
            "website": self._maybe(0.4, f"https://www.{rid[-6:]}.example"),
            "fax": self._maybe(0.8, self._phone()),
            "industry": self.rng.choice(INDUSTRIES),
            "annualrevenue": self._maybe(0.5, f"{self.rng.randint(10, 5000) * 1000}.00"),
            "description": self._maybe(0.6, "Key account.\nRenewal handled by Sales."),
            "street": self._maybe(0.3, f"{self.rng.randint(1, 200)} Main St."),
            "city": city,
            "state": state,
            "code": self._maybe(0.3, str(self.rng.randint(10000, 99999))),
            "country": country,
            "ownerId": owner_id,
            "webUrl": self._web_url("Accounts", rid),
            "createdTime": iso(created),
            "modifiedTime": iso(self._later(created, 90)),
            "cf": self._cf(schema.ACCOUNT_CUSTOM_FIELDS, created),
        }
        rec.update(over)
        return rec

    def contact(self, created: datetime, account_id: Optional[str], owner_id: Optional[str], **over) -> dict:
        rid = self.ids.new("contacts")
        first, last = self._name()
        city, state, country = self.rng.choice(CITIES)
        rec = {
            "id": rid,
            "firstName": first,
            "lastName": last,
            "email": self._email(first, last),
            "secondaryEmail": self._maybe(0.8, self._email(last, "alt")),
            "phone": self._maybe(0.3, self._phone()),
            "mobile": self._maybe(0.5, self._phone()),
            "accountId": account_id,
            "title": self._maybe(0.5, self.rng.choice(["CTO", "Office Manager", "Développeur", "購買担当"])),
            "type": self._maybe(0.4, self.rng.choice(["Customer", "Partner", "Reseller", "Vendor"])),
            "description": self._maybe(0.7, "Prefers e-mail.\nSpeaks FR/EN."),
            "ownerId": owner_id,
            "twitter": self._maybe(0.8, f"@{(last or 'x').encode('ascii', 'ignore').decode() or 'user'}"),
            "facebook": None,
            "street": self._maybe(0.5, f"{self.rng.randint(1, 99)} Rue Verte"),
            "city": city,
            "state": state,
            "zip": self._maybe(0.4, str(self.rng.randint(10000, 99999))),
            "country": country,
            "isEndUser": self.rng.random() < 0.4,
            "photoURL": None,
            "webUrl": self._web_url("Contacts", rid),
            "createdTime": iso(created),
            "modifiedTime": iso(self._later(created, 120)),
            "cf": self._cf(schema.CONTACT_CUSTOM_FIELDS, created),
        }
        rec.update(over)
        return rec

    def product(self, created: datetime, dept_ids: list, owner_id: Optional[str], **over) -> dict:
        rid = self.ids.new("products")
        word = self.rng.choice(PRODUCT_WORDS)
        name = f"{word} {self.rng.choice(['X', 'S', 'Pro', 'Lite', 'Max', '2', '3'])}"
        modified = self._later(created, 200)
        layout = self.store.layouts.setdefault("products", self.ids.new("layouts"))
        rec = {
            "id": rid,
            "productName": name,
            "productCode": self._maybe(0.15, f"SKU-{self.rng.randint(1000, 99999)}"),
            "unitPrice": f"{self.rng.randint(5, 3000)}.{self.rng.choice(['0', '5', '99'])}",
            "departmentIds": dept_ids,
            "productCategory": self.rng.choice(PRODUCT_CATEGORIES),
            "manufacturer": self.rng.choice(MANUFACTURERS),
            "description": self._maybe(0.4, f"{name}: fiche produit.\nGarantie 2 ans."),
            "ownerId": owner_id,
            "createdTime": iso(created),
            "modifiedTime": iso(modified),
            "createdBy": owner_id,
            "modifiedBy": owner_id,
            "isDeleted": False,
            "layoutId": layout,
            "layoutDetails": {"id": layout, "layoutName": "Standard Product Layout"},
            "cf": self._cf(schema.PRODUCT_CUSTOM_FIELDS, created),
        }
        rec.update(over)
        return rec

    def contract(
        self,
        created: datetime,
        account_id: str,
        product_id: Optional[str],
        dept_id: str,
        owner_id: Optional[str],
        today: datetime,
        **over,
    ) -> dict:
        rid = self.ids.new("contracts")
        self.contract_number += 1
        start = created + timedelta(days=self.rng.randint(-30, 60))
        end = start + timedelta(days=self.rng.choice([90, 180, 365, 730]))
        status = "FUTURE" if start.date() > today.date() else ("EXPIRED" if end.date() < today.date() else "ACTIVE")
        sla_id = self.rng.choice(list(self.store.slas)) if self.store.slas else None
        rec = {
            "id": rid,
            "contractName": f"{self.rng.choice(['Support', 'Maintenance', 'Premium', 'Wartung', 'サポート'])}"
            f" {start.year} #{self.contract_number}",
            "contractNumber": str(self.contract_number),
            "contractStatus": status,
            "startDate": start.strftime("%Y-%m-%d"),
            "endDate": end.strftime("%Y-%m-%d"),
            "accountId": account_id,
            "productId": product_id,
            "departmentId": dept_id,
            "ownerId": owner_id,
            "slaId": sla_id,
            "description": self._maybe(0.5, "Annual support contract.\nIncludes on-site visits."),
            "notifyBefore": self._maybe(0.5, str(self.rng.choice([7, 15, 30]))),
            "notificationAgentIds": [owner_id] if owner_id and self.rng.random() < 0.5 else [],
            "createdTime": iso(created),
            "modifiedTime": iso(self._later(created, 100)),
            "createdBy": owner_id,
            "modifiedBy": owner_id,
            "cf": self._cf(schema.CONTRACT_CUSTOM_FIELDS, created),
        }
        rec.update(over)
        return rec

    def _later(self, created: datetime, max_days: int, cap: Optional[datetime] = None) -> datetime:
        cap = cap or SEED_NOW
        if created >= cap:
            return created
        if self.rng.random() < 0.15:
            return created
        later = created + timedelta(seconds=self.rng.randint(60, max_days * 86400))
        return min(later, cap)

    def ticket(self, created: datetime, now: datetime, **over) -> dict:
        """A ticket created at ``created``; ``now`` caps its later timestamps."""
        r = self.rng
        st = self.store
        rid = self.ids.new("tickets")
        self.ticket_number += 1
        depts = [d for d in st["departments"].values() if d["isEnabled"]] or list(st["departments"].values())
        dept = r.choice(depts)
        contacts = list(st["contacts"].values())
        contact = r.choice(contacts) if contacts else None
        agents = [a for a in st["agents"].values() if dept["id"] in a["associatedDepartmentIds"]]
        teams = [t for t in st["teams"].values() if t["departmentId"] == dept["id"]]
        products = [p for p in st["products"].values() if dept["id"] in p["departmentIds"]]
        account_id = contact["accountId"] if contact else None
        contracts = [c for c in st["contracts"].values() if account_id and c["accountId"] == account_id]
        language = r.choices(list(SUBJECTS), weights=[50, 10, 10, 8, 8, 7, 7])[0]
        product = r.choice(products) if products and r.random() < 0.6 else None
        subject = r.choice(SUBJECTS[language]).format(
            n=r.randint(1000, 99999),
            v=f"{r.randint(1, 9)}.{r.randint(0, 20)}",
            p=product["productName"] if product else "device",
        )
        status = r.choices(schema.TICKET_STATUSES, weights=[30, 10, 5, 55])[0]
        channel = r.choices(schema.CHANNELS, weights=[40, 15, 20, 10, 4, 4, 4, 3])[0]
        assignee = r.choice(agents) if agents and r.random() < 0.8 else None
        team = r.choice(teams) if teams and r.random() < 0.4 else None
        modified = self._later(created, 60, cap=now)
        closed = None
        if status == "Closed":
            closed = min(created + timedelta(minutes=r.randint(30, 14 * 24 * 60)), now)
            modified = max(modified, closed)
        onhold = None
        if status == "On Hold":
            onhold = created + (modified - created) / 2
        due = created + timedelta(hours=r.randint(4, 24 * 7)) if r.random() < 0.7 else None
        response_due = created + timedelta(hours=r.randint(1, 24)) if status != "Closed" and r.random() < 0.6 else None
        customer_resp = created + (modified - created) * r.random()
        category = r.choice(list(schema.CATEGORIES)) if r.random() < 0.7 else None
        sub_category = r.choice(schema.CATEGORIES[category]) if category and r.random() < 0.7 else None
        first = contact["firstName"] if contact else "there"
        desc_lines = [GREETINGS[language], "", r.choice(BODIES), "", f"— {first or 'Customer'}"]
        if r.random() < 0.5:
            description = "<div>" + "<br />".join(desc_lines) + "</div>\n<div><br /></div>"
        else:
            description = "\r\n".join(desc_lines) if r.random() < 0.5 else "\n".join(desc_lines)
        if r.random() < 0.05:
            description = None
        email = contact["email"] if contact else None
        source_type = "SOCIAL" if channel in ("Twitter", "Facebook") else "SYSTEM"
        rec = {
            "id": rid,
            "ticketNumber": str(self.ticket_number),
            "layoutId": st.layouts.get(dept["id"]),
            "subject": subject,
            "description": description,
            "status": status,
            "statusType": schema.STATUS_TYPE[status],
            "priority": r.choices([*schema.PRIORITIES, None], weights=[20, 40, 25, 5, 10])[0],
            "channel": channel,
            "channelCode": f"support@{PORTAL}.zohodesk.com" if channel == "Email" else None,
            "category": category,
            "subCategory": sub_category,
            "classification": r.choice([*schema.CLASSIFICATIONS, None]),
            "language": language,
            "departmentId": dept["id"],
            "contactId": contact["id"] if contact else None,
            "accountId": account_id,
            "assigneeId": assignee["id"] if assignee else None,
            "teamId": team["id"] if team else None,
            "productId": product["id"] if product else None,
            "contractId": r.choice(contracts)["id"] if contracts and r.random() < 0.5 else None,
            "email": email,
            "phone": contact["phone"] if contact else None,
            "createdTime": iso(created),
            "modifiedTime": iso(modified),
            "modifiedBy": assignee["id"] if assignee else (r.choice(list(st["agents"])) if st["agents"] else None),
            "closedTime": iso(closed) if closed else None,
            "dueDate": iso(due) if due else None,
            "responseDueDate": iso(response_due) if response_due else None,
            "customerResponseTime": iso(customer_resp),
            "onholdTime": iso(onhold) if onhold else None,
            "isOverDue": bool(due and due < now and status != "Closed"),
            "isEscalated": status == "Escalated" or r.random() < 0.03,
            "isSpam": r.random() < 0.02,
            "isDeleted": False,
            "isTrashed": False,
            "isArchived": status == "Closed" and r.random() < 0.05,
            "isResponseOverdue": bool(response_due and response_due < now),
            "threadCount": str(r.randint(1, 25)),
            "commentCount": str(r.randint(0, 6)),
            "attachmentCount": str(r.randint(0, 4)),
            "taskCount": str(r.randint(0, 2)),
            "timeEntryCount": str(r.randint(0, 3)),
            "followerCount": str(r.randint(0, 3)),
            "tagCount": str(r.randint(0, 5)),
            "approvalCount": str(r.randint(0, 1)),
            "sentiment": r.choice(["Positive", "Negative", "Neutral", None]),
            "resolution": r.choice(RESOLUTIONS).format(n=r.randint(100, 999), v=f"{r.randint(2, 9)}.{r.randint(0, 9)}")
            if status == "Closed" and r.random() < 0.5
            else None,
            "webUrl": self._web_url("Cases", rid),
            "source": {
                "appName": "Twitter" if channel == "Twitter" else ("Facebook" if channel == "Facebook" else None),
                "extId": str(r.randint(10**17, 10**18)) if source_type == "SOCIAL" else None,
                "permalink": f"https://social.example/p/{r.randint(1000, 9999)}" if source_type == "SOCIAL" else None,
                "type": source_type,
                "appPhotoURL": None,
            },
            "cf": self._cf(schema.TICKET_CUSTOM_FIELDS, created),
        }
        rec.update(over)
        return rec


def _increasing_times(rng: random.Random, n: int, start: datetime, end: datetime) -> list:
    """n strictly increasing datetimes (whole seconds) in [start, end)."""
    span = max(int((end - start).total_seconds()), n + 1)
    return [start + timedelta(seconds=s) for s in sorted(rng.sample(range(span), n))]


def seed_store(
    seed: int,
    tickets: int = 237,
    departments: int = 6,
    products: int = 41,
    contracts: int = 57,
    contacts: int = 120,
    accounts: int = 40,
    agents: int = 12,
    trashed_tickets: Optional[int] = None,
    calls: int = 80,
    events: int = 40,
    articles: int = 30,
):
    """Build the seeded store. Returns ``(store, ids, factory, org_id)``.

    The core modules are made first, exactly as before the setup/activity/knowledge modules existed; those come
    after, from an RNG of their own, so adding them changed no earlier record (``seed_extensions``)."""
    rng = random.Random(seed)
    org_id = "600" + str(rng.randint(10_000_000, 99_999_999))
    store = Store()
    ids = IdFactory(rng)
    f = DataFactory(store, ids, rng, org_id)
    store.organization = f.organization()
    store.org_fields = schema.build_org_fields(lambda: ids.new("fields"))
    for name in ["Standard SLA", "Premium SLA ⭐", "Enterprise 24/7"]:
        sid = ids.new("slas")
        store.slas[sid] = {"id": sid, "name": name, "isActive": True}

    t0 = datetime(2022, 3, 1, 9, 0, tzinfo=UTC)
    # departments, agents, teams
    for i, ts in enumerate(_increasing_times(rng, max(departments, 1), t0, t0 + timedelta(days=200))):
        d = f.department(ts, i, None)
        if departments >= 3 and i == departments - 1:
            d["isEnabled"] = False
            d["chatStatus"] = "DISABLED"
        store["departments"][d["id"]] = d
    dept_ids = list(store["departments"])
    for ts in _increasing_times(rng, agents, t0 + timedelta(days=1), t0 + timedelta(days=300)):
        a = f.agent(ts, rng.sample(dept_ids, rng.randint(1, min(3, len(dept_ids)))))
        store["agents"][a["id"]] = a
    agent_ids = list(store["agents"])
    if agent_ids:
        store["agents"][agent_ids[-1]]["status"] = "DISABLED"
    for a in store["agents"].values():
        for did in a["associatedDepartmentIds"]:
            store["departments"][did]["associatedAgentIds"].append(a["id"])
    first_agent = agent_ids[0] if agent_ids else None
    for d in store["departments"].values():
        d["creatorId"] = first_agent
    ti = 0
    for d in store["departments"].values():
        for _ in range(rng.randint(0, 2)):
            members = [a for a in d["associatedAgentIds"]]
            t = f.team(ti, d["id"], rng.sample(members, min(len(members), 2)))
            store["teams"][t["id"]] = t
            ti += 1

    owners = agent_ids or [None]
    for ts in _increasing_times(rng, accounts, datetime(2022, 6, 1, tzinfo=UTC), datetime(2023, 6, 1, tzinfo=UTC)):
        a = f.account(ts, rng.choice(owners))
        store["accounts"][a["id"]] = a
    account_ids = list(store["accounts"])
    for ts in _increasing_times(rng, contacts, datetime(2022, 6, 15, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)):
        c = f.contact(ts, rng.choice(account_ids) if account_ids and rng.random() < 0.85 else None, rng.choice(owners))
        store["contacts"][c["id"]] = c
    for ts in _increasing_times(rng, products, datetime(2022, 4, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)):
        p = f.product(ts, rng.sample(dept_ids, rng.randint(1, min(3, len(dept_ids)))), rng.choice(owners))
        store["products"][p["id"]] = p
    product_ids = list(store["products"])
    for ts in _increasing_times(rng, contracts, datetime(2022, 9, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)):
        if not account_ids:
            break
        c = f.contract(
            ts,
            rng.choice(account_ids),
            rng.choice(product_ids) if product_ids and rng.random() < 0.8 else None,
            rng.choice(dept_ids),
            rng.choice(owners),
            SEED_NOW,
        )
        store["contracts"][c["id"]] = c

    n_trash = trashed_tickets if trashed_tickets is not None else max(1, tickets // 50) if tickets else 0
    trash_positions = set(rng.sample(range(tickets + n_trash), n_trash)) if n_trash else set()
    for i, ts in enumerate(_increasing_times(rng, tickets + n_trash, SEED_START, SEED_END)):
        t = f.ticket(ts, SEED_NOW)
        if i in trash_positions:
            deleted = f._later(datetime.fromisoformat(t["modifiedTime"][:-1] + "+00:00"), 5)
            t.update(isDeleted=True, isTrashed=True)
            store.trash[t["id"]] = t
            store["recycleBin"][t["id"]] = recycle_entry(
                t, "Tickets", t["subject"], t["departmentId"], t["modifiedBy"], iso(deleted)
            )
        else:
            store["tickets"][t["id"]] = t
    seed_extensions(store, ids, seed, calls=calls, events=events, articles=articles)
    return store, ids, f, org_id


def seed_extensions(store: Store, ids: IdFactory, seed: int, calls: int, events: int, articles: int) -> None:
    """Setup modules, tasks/calls/events, the knowledge base, /fields and the lazy per-ticket children."""
    from . import activities, fielddefs, knowledge, orgsetup  # they build on this module's helpers
    from .children import TicketChildren

    rng = random.Random(f"zoho-desk-simulator/extensions/{seed}")
    orgsetup.reformat_contact_phones(store, rng)
    orgsetup.seed_org_setup(store, ids, rng, datetime(2022, 3, 2, 9, 0, tzinfo=UTC))
    activities.seed_activities(store, ids, rng, calls, events)
    knowledge.seed_knowledge_base(store, ids, rng, articles, datetime(2022, 11, 1, tzinfo=UTC))
    store.fields = fielddefs.build_fields(store, lambda: ids.new("fields"))
    store.children = TicketChildren(store, seed)
    for t in sorted(
        list(store["tickets"].values()) + list(store.trash.values()),
        key=lambda rec: (rec["createdTime"], int(rec["id"])),
    ):
        store.children.assign_block(t["id"])


def recycle_entry(record: dict, kind: str, display: str, dept_id: Optional[str], by: Optional[str], when: str) -> dict:
    return {
        "id": record["id"],
        "displayName": display,
        "type": kind,
        "departmentId": dept_id,
        "deletedById": by,
        "deletedTime": when,
    }


def clone(record):
    return copy.deepcopy(record)
