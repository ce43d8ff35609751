"""Phone numbers as people really type them into a help desk (Zoho stores the text as entered, no normalisation).

Contacts get numbers in these shapes so a connector's E.164 normalisation can be tested: national and
international notation, brackets, dots, dashes, a leading ``00``, extensions, and country codes of different
lengths. Every template yields a number that is valid in its country's numbering plan shape (fictional ranges such as
555-01xx in North America and 7946 0xxx in London are used where they exist).
"""

from __future__ import annotations

import random

# (template, ISO country) - "#" is a random digit. The country is the one a normaliser should infer (a national
# number without a "+" needs a default region; these are listed with the region they belong to).
PHONE_TEMPLATES = (
    ("+1 (415) 555-01##", "US"),
    ("(212) 555-01##", "US"),
    ("415.555.01##", "US"),
    ("1-800-555-01##", "US"),
    ("+1 650-555-01## ext. ##", "US"),
    ("020 7946 0###", "GB"),
    ("+44 20 7946 0###", "GB"),
    ("+49 30 1234###", "DE"),
    ("0176 123#####", "DE"),
    ("00 49 89 1234####", "DE"),
    ("+33 1 42 68 ## ##", "FR"),
    ("01 42 68 ## ##", "FR"),
    ("+81 3-1234-####", "JP"),
    ("+91 98765 4####", "IN"),
    ("+61 2 9374 ####", "AU"),
    ("+55 11 91234-####", "BR"),
    ("+86 10 8888 ####", "CN"),
    ("+353 1 234 ####", "IE"),
    ("+48 12 345 ## ##", "PL"),
    ("+41 44 668 ## ##", "CH"),
)


def phone_number(rng: random.Random) -> str:
    template, _country = rng.choice(PHONE_TEMPLATES)
    return "".join(str(rng.randint(0, 9)) if ch == "#" else ch for ch in template)
