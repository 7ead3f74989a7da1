"""Fake values in real formats, for the scanners' corpus: made up, never anyone's.

Every value is drawn from a seeded ``random.Random``: names and domains are
invented, card numbers are the networks' published test numbers or random
numbers given a Luhn check digit, IBANs and national ids are random bodies given
valid check digits (python-stdnum says so before a value is used), phone numbers
are random digits in real numbering plans (libphonenumber says they are valid),
preferring the ranges kept for fiction (555-01xx, 020 7946 0xxx, 01 99 00 xx xx).
Keys and tokens are random characters in each vendor's documented shape.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

import phonenumbers
from stdnum import iban, luhn
from stdnum.be import nn as be_nn
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"

FIRST = {
    "en": ["Emily", "James", "Olivia", "Noah", "Grace", "Liam", "Harper", "Ethan"],
    "de": ["Lena", "Jonas", "Marie", "Lukas", "Hannah", "Felix", "Jürgen", "Sophie"],
    "fr": ["Camille", "Louis", "Chloé", "Hugo", "Léa", "Mathis", "Manon", "Théo"],
    "es": ["Lucía", "Mateo", "Sofía", "Hugo", "Carmen", "Pablo", "Marta", "Diego"],
}
LAST = {
    "en": ["Walker", "Bennett", "Hughes", "Carter", "Foster", "Reid", "Morgan", "Price"],
    "de": ["Fischer", "Schröder", "Becker", "Hoffmann", "Krüger", "Wagner", "Vogel", "Lang"],
    "fr": ["Martin", "Lefèvre", "Moreau", "Girard", "Fontaine", "Roux", "Mercier", "Blanc"],
    "es": ["García", "Ruiz", "Moreno", "Navarro", "Torres", "Domínguez", "Vidal", "Serrano"],
}
DOMAINS = {
    "en": ["northwind-traders.com", "acme-support.co.uk", "bluepine-labs.io", "example.org"],
    "de": ["nordwind-logistik.de", "baeckerei-lang.de", "muster-gmbh.at", "beispiel-shop.de"],
    "fr": ["boulangerie-martin.fr", "atelier-roux.fr", "exemple-conseil.fr", "alpes-velo.ch"],
    "es": ["ferreteria-lopez.es", "viajes-sol.es", "ejemplo-tienda.es", "bodega-vidal.com.es"],
}
PHONE_REGIONS = {"en": ("US", "GB"), "de": ("DE",), "fr": ("FR",), "es": ("ES",)}
TEST_CARDS = (
    "4111111111111111",
    "4012888888881881",
    "4242424242424242",
    "5555555555554444",
    "5105105105105100",
    "2223003122003222",
    "378282246310005",
    "371449635398431",
    "6011111111111117",
    "6011000990139424",
    "30569309025904",
    "3530111333300000",
    "3566002020360505",
    "6200000000000005",
)
CARD_PREFIXES = ("4", "51", "52", "53", "54", "55", "2221", "2720", "6011", "65")


class Fakes:
    """A seeded source of fake values in real formats."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chars(self, alphabet: str, count: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(count))

    def digits(self, count: int, first: str = "123456789") -> str:
        return self.rng.choice(first) + self.chars(string.digits, count - 1)

    def nums(self, count: int) -> str:
        """``count`` digits, a leading zero allowed."""
        return self.chars(string.digits, count)

    def hexes(self, count: int) -> str:
        return self.chars("0123456789abcdef", count)

    # --- people ---------------------------------------------------------------

    def name(self, lang: str) -> tuple[str, str]:
        return self.rng.choice(FIRST[lang]), self.rng.choice(LAST[lang])

    def email(self, lang: str) -> str:
        first, last = self.name(lang)
        first, last = _ascii(first).lower(), _ascii(last).lower()
        local = self.rng.choice(
            [f"{first}.{last}", f"{first[0]}.{last}", f"{first}{self.digits(2)}", f"{last}+shop"]
        )
        domain = self.rng.choice(DOMAINS[lang])
        roll = self.rng.random()
        if roll < 0.08:  # an internationalised address, now and then
            local = f"{self.rng.choice(FIRST[lang]).lower()}.{self.rng.choice(LAST[lang]).lower()}"
        elif roll < 0.16:  # capitals, as people type them
            local, domain = local.title(), domain.title()
        elif roll < 0.24:
            domain = f"mail.{self.rng.choice(['eu', 'intl', 'office'])}.{domain}"
        return f"{local}@{domain}"

    def phone(self, lang: str) -> str:
        region = self.rng.choice(PHONE_REGIONS[lang])
        number = self._phone_number(region)
        style = self.rng.choice(["international", "national", "national", "e164", "custom"])
        if style == "international":
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        if style == "e164":
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if style == "custom":
            return self._custom_phone(region, national)
        return national

    def _custom_phone(self, region: str, national: str) -> str:
        digits = "".join(ch for ch in national if ch.isdigit())
        if region == "US":
            return self.rng.choice(
                [
                    f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
                    f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
                    f"+1 ({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                    f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}",
                ]
            )
        if region == "DE":
            area, rest = national.split(" ", 1)
            return self.rng.choice(
                [
                    f"{area}/{rest.replace(' ', '')}",
                    f"{area}-{rest}",
                    f"({area}) {rest}",
                    f"+49 (0){area[1:]} {rest}",
                    f"+49-{area[1:]}-{rest.replace(' ', '')}",
                ]
            )
        if region == "FR":
            return self.rng.choice([national.replace(" ", "."), "+33 (0)" + national[1:]])
        if region == "GB":
            return self.rng.choice(["00" + "44 " + national[1:], "+44 (0)" + national[1:]])
        return self.rng.choice(["0034 " + national, "+34 " + national])

    def _padded(self, prefix: str, length: int) -> str:
        return prefix + self.chars(string.digits, length - len(prefix))

    def _phone_number(self, region: str) -> phonenumbers.PhoneNumber:
        makers: dict[str, Callable[[], str]] = {
            "US": lambda: (
                f"{self.rng.choice(['201', '415', '312', '617', '503'])}5550{self.nums(3)}"
            ),
            "GB": lambda: self.rng.choice(
                [
                    "2079460" + self.digits(3, "0123456789"),
                    "1134960" + self.digits(3, "0123456789"),
                    "7700900" + self.digits(3, "0123456789"),
                ]
            ),
            "DE": lambda: (
                self.rng.choice(["30", "40", "89", "221", "69", "151", "160", "171"])
                + self.digits(self.rng.choice([7, 8]))
            ),
            "FR": lambda: self._padded(self.rng.choice(["19900", "6", "7", "4", "3"]), 9),
            "ES": lambda: self._padded(self.rng.choice(["6", "91", "93", "7"]), 9),
        }
        while True:
            raw = makers[region]()
            try:
                number = phonenumbers.parse(raw if region == "US" else "0" + raw, region)
            except phonenumbers.NumberParseException:
                continue
            if region in ("US", "ES"):
                number = phonenumbers.parse(raw, region)
            if phonenumbers.is_valid_number(number):
                return number

    # --- money ----------------------------------------------------------------

    def card(self) -> str:
        if self.rng.random() < 0.4:
            digits = self.rng.choice(TEST_CARDS)
        else:
            prefix = self.rng.choice(CARD_PREFIXES)
            body = prefix + self.chars(string.digits, 15 - len(prefix))
            digits = body + luhn.calc_check_digit(body)
        return self._grouped_card(digits)

    def _grouped_card(self, digits: str) -> str:
        style = self.rng.choice(["plain", "spaces", "spaces", "dashes"])
        if style == "plain":
            return digits
        sep = " " if style == "spaces" else "-"
        if len(digits) == 15:
            return sep.join([digits[:4], digits[4:10], digits[10:]])
        if len(digits) == 14:
            return sep.join([digits[:4], digits[4:10], digits[10:]])
        return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))

    def iban(self) -> str:
        country = self.rng.choice(["DE", "FR", "ES", "GB", "NL", "BE", "IT", "AT", "CH"])
        while True:
            bban = self._bban(country)
            number = country + "00" + bban
            number = country + iban.calc_check_digits(number) + bban
            if iban.is_valid(number):
                break
        if self.rng.random() < 0.6:
            return iban.format(number)
        return number

    def _bban(self, country: str) -> str:
        digits = string.digits
        shapes = {
            "DE": lambda: self.chars(digits, 18),
            "FR": lambda: (
                self.chars(digits, 10) + self.chars(UPPER_DIGITS, 11) + self.chars(digits, 2)
            ),
            "ES": lambda: self.chars(digits, 20),
            "GB": lambda: self.chars(string.ascii_uppercase, 4) + self.chars(digits, 14),
            "NL": lambda: self.chars(string.ascii_uppercase, 4) + self.chars(digits, 10),
            "BE": lambda: self.chars(digits, 12),
            "IT": lambda: (
                self.chars(string.ascii_uppercase, 1)
                + self.chars(digits, 10)
                + self.chars(UPPER_DIGITS, 12)
            ),
            "AT": lambda: self.chars(digits, 16),
            "CH": lambda: self.chars(digits, 5) + self.chars(UPPER_DIGITS, 12),
        }
        return shapes[country]()

    # --- national ids -----------------------------------------------------------

    def national_id(self) -> tuple[str, str]:
        """A national id and the label a text would give it (some ids need it)."""
        kind = self.rng.choice(["ssn", "dni", "nie", "nir", "cf", "nn", "bsn", "idnr", "nhs"])
        return getattr(self, f"_id_{kind}")(), kind

    def _valid(self, make: Callable[[], str], is_valid: Callable[[str], bool]) -> str:
        while True:
            value = make()
            if is_valid(value):
                return value

    def _id_ssn(self) -> str:
        value = self._valid(
            lambda: f"{self.digits(3, '12345678')}-{self.digits(2)}-{self.digits(4)}", ssn.is_valid
        )
        return value.replace("-", "") if self.rng.random() < 0.3 else value  # named as an SSN

    def _id_dni(self) -> str:
        body = self.chars(string.digits, 8)
        return body + dni.calc_check_digit(body)

    def _id_nie(self) -> str:
        body = self.rng.choice("XYZ") + self.chars(string.digits, 7)
        return body + nie.calc_check_digit(body)

    def _id_nir(self) -> str:
        body = (
            self.rng.choice("12")
            + f"{self.rng.randint(40, 99):02d}"
            + f"{self.rng.randint(1, 12):02d}"
            + f"{self.rng.randint(1, 95):02d}"
            + self.chars(string.digits, 6)
        )
        value = body + nir.calc_check_digits(body)
        if self.rng.random() < 0.7:
            return " ".join(
                [
                    value[0],
                    value[1:3],
                    value[3:5],
                    value[5:7],
                    value[7:10],
                    value[10:13],
                    value[13:],
                ]
            )
        return value

    def _id_cf(self) -> str:
        body = (
            self.chars(string.ascii_uppercase, 6)
            + f"{self.rng.randint(40, 99):02d}"
            + self.rng.choice("ABCDEHLMPRST")
            + f"{self.rng.randint(1, 28) + self.rng.choice([0, 40]):02d}"
            + self.rng.choice("ABCDEFGHILM")
            + self.chars(string.digits, 3)
        )
        return body + codicefiscale.calc_check_digit(body)

    def _id_nn(self) -> str:
        def make() -> str:
            year, month, day = (
                self.rng.randint(40, 99),
                self.rng.randint(1, 12),
                self.rng.randint(1, 28),
            )
            body = f"{year:02d}{month:02d}{day:02d}{self.rng.randint(1, 997):03d}"
            return body + f"{97 - int(body) % 97:02d}"

        value = self._valid(make, be_nn.is_valid)
        return f"{value[:2]}.{value[2:4]}.{value[4:6]}-{value[6:9]}.{value[9:]}"

    def _id_bsn(self) -> str:
        return self._valid(lambda: self.digits(9), bsn.is_valid)

    def _id_idnr(self) -> str:
        value = self._valid(lambda: self.digits(11), idnr.is_valid)
        return idnr.format(value) if self.rng.random() < 0.5 else value

    def _id_nhs(self) -> str:
        value = self._valid(lambda: self.digits(10, "456789"), nhs.is_valid)
        return nhs.format(value)

    # --- secrets ----------------------------------------------------------------

    def api_key(self) -> tuple[str, str]:
        """A key, and its vendor (the corpus writes it where such a key would be)."""
        vendor = self.rng.choice(
            ["aws", "stripe", "openai", "google", "groq", "sendgrid", "mailchimp", "anthropic"]
        )
        value = {
            "aws": lambda: "AKIA" + self.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
            "stripe": lambda: (
                self.rng.choice(["sk_live_", "rk_live_"])
                + self.chars(ALNUM, self.rng.choice([24, 34, 99]))
            ),
            "openai": lambda: (
                "sk-proj-" + self.chars(ALNUM, 20) + "T3BlbkFJ" + self.chars(ALNUM, 20)
            ),
            "google": lambda: "AIza" + self.chars(URLSAFE, 35),
            "groq": lambda: "gsk_" + self.chars(ALNUM, 52),
            "sendgrid": lambda: "SG." + self.chars(URLSAFE, 22) + "." + self.chars(URLSAFE, 43),
            "mailchimp": lambda: (
                self.chars("0123456789abcdef", 32) + f"-us{self.rng.randint(1, 21)}"
            ),
            "anthropic": lambda: "sk-ant-api03-" + self.chars(URLSAFE, 93) + "AA",
        }[vendor]()
        return value, vendor

    def aws_secret(self) -> str:
        return self.chars(ALNUM + "/+", 40)

    def token(self) -> tuple[str, str]:
        vendor = self.rng.choice(
            [
                "github",
                "github_pat",
                "gitlab",
                "slack",
                "slack_webhook",
                "jwt",
                "jwt",
                "telegram",
                "hf",
            ]
        )
        value = {
            "github": lambda: self.rng.choice(["ghp_", "gho_", "ghs_"]) + self.chars(ALNUM, 36),
            "github_pat": lambda: "github_pat_" + self.chars(ALNUM + "_", 82),
            "gitlab": lambda: "glpat-" + self.chars(URLSAFE, 20),
            "slack": lambda: f"xoxb-{self.digits(12)}-{self.digits(13)}-{self.chars(ALNUM, 24)}",
            "slack_webhook": lambda: (
                "https://hooks.slack.com/services/T"
                + self.chars(UPPER_DIGITS, 8)
                + "/B"
                + self.chars(UPPER_DIGITS, 10)
                + "/"
                + self.chars(ALNUM, 24)
            ),
            "jwt": self.jwt,
            "telegram": lambda: f"{self.digits(10)}:AA{self.chars(URLSAFE, 33)}",
            "hf": lambda: "hf_" + self.chars(string.ascii_letters, 34),
        }[vendor]()
        return value, vendor

    def jwt(self) -> str:
        header = {"alg": self.rng.choice(["HS256", "RS256"]), "typ": "JWT"}
        payload = {
            "sub": self.digits(8),
            "name": self.rng.choice(FIRST["en"]),
            "iat": 1_700_000_000 + self.rng.randint(0, 10**7),
        }

        def part(data: dict[str, object]) -> str:
            return (
                base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
                .decode()
                .rstrip("=")
            )

        return f"{part(header)}.{part(payload)}.{self.chars(URLSAFE, 43)}"

    def password(self) -> str:
        words = ["Sommer", "Winter", "Blue", "Falcon", "Soleil", "Luna", "Tiger", "Mango"]
        return (
            self.rng.choice(words)
            + self.digits(4)
            + self.rng.choice(["!", "#", "", "?"])
            + self.chars(ALNUM, 3)
        )

    def url_password(self) -> str:
        return self.chars(ALNUM, self.rng.randint(10, 16))

    def private_key(self) -> str:
        kind = self.rng.choice(
            ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"]
        )
        lines = [self.chars(B64, 64) for _ in range(self.rng.randint(4, 9))]
        lines.append(self.chars(B64, self.rng.randint(8, 60)) + "==")
        body = "\n".join(lines)
        return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----"

    # --- links ------------------------------------------------------------------

    def internal_url(self) -> str:
        octet = lambda: self.rng.randint(1, 254)  # noqa: E731
        path = self.rng.choice(
            [
                "",
                "/",
                "/admin",
                "/d/payments?orgId=1",
                "/browse/OPS-" + self.digits(3),
                "/api/v2/users",
            ]
        )
        host = self.rng.choice(
            [
                f"10.{octet()}.{octet()}.{octet()}",
                f"172.{self.rng.randint(16, 31)}.{octet()}.{octet()}",
                f"192.168.{octet()}.{octet()}",
                "localhost",
                "127.0.0.1",
                self.rng.choice(["jira", "intranet", "wiki", "build"]),
                self.rng.choice(["grafana", "vault", "db01", "ci"])
                + "."
                + self.rng.choice(["internal", "corp", "lan", "local"]),
                "[::1]",
                f"[fd{self.hexes(2)}:{self.hexes(4)}::{octet()}]",
            ]
        )
        port = self.rng.choice(["", "", f":{self.rng.choice([8080, 3000, 5601, 9090, 8443])}"])
        scheme = self.rng.choice(["http://", "https://", "https://", "ssh://git@", "postgres://"])
        return f"{scheme}{host}{port}{path}"

    def private_ipv4(self) -> str:
        octet = lambda: self.rng.randint(1, 254)  # noqa: E731
        return f"10.{octet()}.{octet()}.{octet()}"

    def schemeless_internal(self) -> str:
        octet = lambda: self.rng.randint(1, 254)  # noqa: E731
        return self.rng.choice(
            [
                f"10.{octet()}.{octet()}.{octet()}:5432",
                f"192.168.{octet()}.{octet()}",
                f"db{self.digits(2)}.prod.internal:5432",
                f"nas.{self.rng.choice(['local', 'lan'])}",
                f"localhost:{self.rng.choice([3000, 8000, 5173])}",
            ]
        )


def _ascii(word: str) -> str:
    table = str.maketrans("äöüéèçíóúñÄÖÜÉ", "aoueeciouaAOUE")
    return word.translate(table).replace("ß", "ss")
