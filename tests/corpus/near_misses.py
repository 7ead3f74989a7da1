"""Values that look like personal data or secrets and are not: the corpus's near misses.

Card-length numbers failing the Luhn check, IBANs with wrong check digits, SSN-shaped
numbers no SSN can have, order and customer numbers grouped like phone numbers,
dates, prices, versions, public URLs and addresses, EANs, IMEIs, ZIP+4 codes, Unix
times, coordinates, hashes. None of them may be flagged.
"""

from __future__ import annotations

import string

from fakes import CARD_PREFIXES, FIRST, UPPER_DIGITS, Fakes
from stdnum import iban, luhn
from stdnum.es import dni


class NearMisses:
    """Values that look like personal data or secrets and are not: the precision test."""

    def __init__(self, fakes: Fakes) -> None:
        self.fakes = fakes
        self.rng = fakes.rng

    def luhn_failing(self) -> str:
        """16 digits with a card's prefix whose check digit is wrong."""
        body = self.rng.choice(CARD_PREFIXES) + self.fakes.chars(string.digits, 13)
        body = body[:15]
        good = int(luhn.calc_check_digit(body))
        digits = body + str((good + self.rng.randint(1, 9)) % 10)
        assert not luhn.is_valid(digits)
        return self.fakes._grouped_card(digits)

    def bad_iban(self) -> str:
        good = self.fakes.iban().replace(" ", "")
        check = int(good[2:4])
        wrong = f"{(check + self.rng.randint(1, 90)) % 97 + 2:02d}"
        wrong = wrong if wrong != good[2:4] else f"{(check + 1) % 97 + 2:02d}"
        bad = good[:2] + wrong + good[4:]
        assert not iban.is_valid(bad)
        return iban.format(bad)

    def order_number(self) -> str:
        return self.rng.choice(
            [
                self.fakes.digits(10),
                self.fakes.digits(8),
                f"{self.rng.randint(2019, 2025)}-{self.fakes.nums(6)}",
                f"{self.fakes.digits(4)} {self.fakes.nums(3)} {self.fakes.nums(3)}",
                f"0{self.fakes.digits(3)}-{self.fakes.digits(7)}",
                f"A-{self.fakes.digits(5)}-{self.fakes.digits(2)}",
            ]
        )

    def date(self) -> str:
        day, month, year = (
            self.rng.randint(1, 28),
            self.rng.randint(1, 12),
            self.rng.randint(2019, 2026),
        )
        return self.rng.choice(
            [
                f"{day:02d}.{month:02d}.{year}",
                f"{year}-{month:02d}-{day:02d}",
                f"{month:02d}/{day:02d}/{year}",
                f"{day}/{month}/{year}",
                f"{year}-{month:02d}-{day:02d}T{self.rng.randint(0, 23):02d}:{day + 10}:00Z",
            ]
        )

    def price(self) -> str:
        whole = self.rng.choice([9, 49, 129, 1299, 12500, 249999])
        cents = self.rng.randint(0, 99)
        return self.rng.choice(
            [
                f"{whole:,}".replace(",", ".") + f",{cents:02d} €",
                f"€ {whole},{cents:02d}",
                f"${whole:,}.{cents:02d}",
                f"{whole:,}".replace(",", " ") + " EUR",
                f"£{whole:,.2f}",
            ]
        )

    def version(self) -> str:
        num = self.rng.randint
        return self.rng.choice(
            [
                f"v{num(1, 12)}.{num(0, 30)}.{num(0, 9)}",
                f"version {num(10, 11)}.{num(0, 9)}.{num(0, 9)}.{num(1, 300)}",
                f"{num(3, 4)}.{num(8, 13)}.{num(0, 9)}",
                f"build {num(2019, 2025)}.{num(1, 12):02d}.{num(1, 9)}",
            ]
        )

    def public_url(self) -> str:
        return self.rng.choice(
            [
                "https://www.example.com/help/returns",
                "https://docs.example.org/v2/getting-started",
                "http://example.net/status",
                "https://shop.example.com/orders?id=" + self.fakes.digits(7),
                "https://github.com/example-org/example-repo/issues/" + self.fakes.digits(3),
                "https://www.wikipedia.org/",
                "https://maps.example.com/place/10115+Berlin",
            ]
        )

    def public_ip(self) -> str:
        return self.rng.choice(["203.0.113.", "198.51.100.", "8.8.8.", "1.1.1."]) + str(
            self.rng.randint(1, 254)
        )

    def bad_ssn(self) -> str:
        """An SSN-shaped number no SSN can have (area 9xx, 000 or 666)."""
        area = self.rng.choice([f"9{self.fakes.chars(string.digits, 2)}", "000", "666"])
        return f"{area}-{self.rng.randint(10, 99)}-{self.fakes.digits(4)}"

    def bad_dni(self) -> str:
        body = self.fakes.chars(string.digits, 8)
        good = dni.calc_check_digit(body)
        return body + self.rng.choice([c for c in "TRWAGMYFPDXBNJZSQVHLCKE" if c != good])

    def lookalike(self) -> str:
        """Numbers with checksums of their own, or shapes close to a phone's or a card's."""
        return self.rng.choice(
            [
                f"EAN {self._ean13()}",
                f"IMEI {self._imei()}",
                f"{self.fakes.digits(5)}-{self.fakes.nums(4)}",  # ZIP+4
                f"{self.rng.randint(1_600_000_000, 1_800_000_000)}",  # a Unix time
                f"{self.rng.randint(1_600_000_000_000, 1_800_000_000_000)}",  # in milliseconds
                f"{self.rng.uniform(-90, 90):.4f}, {self.rng.uniform(-180, 180):.4f}",
                f"{self.fakes.digits(2)}-{self.fakes.nums(2)}-{self.fakes.nums(2)}",
                self.rng.choice(
                    [
                        "https://internal.example.com/handbook",
                        "https://corp.example.org/careers",
                        "https://local.example.net/news",
                        "https://intranet-demo.example.com/",
                    ]
                ),
                f"RE-{self.rng.randint(2019, 2025)}-{self.fakes.nums(7)}",
                f"{self.fakes.digits(1)} {self.fakes.nums(3)} {self.fakes.nums(3)},99 €",
            ]
        )

    def _ean13(self) -> str:
        body = self.rng.choice(
            ["400", "401", "440", "500", "590", "690", "841"]
        ) + self.fakes.chars(string.digits, 9)
        total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
        return body + str((10 - total % 10) % 10)

    def _imei(self) -> str:
        body = self.rng.choice(["35", "86", "49", "01"]) + self.fakes.chars(string.digits, 12)
        return body + luhn.calc_check_digit(body)

    def _uuid(self) -> str:
        hexes = self.fakes.hexes
        return f"{hexes(8)}-{hexes(4)}-4{hexes(3)}-a{hexes(3)}-{hexes(12)}"

    def misc(self) -> str:
        return self.rng.choice(
            [
                f"ISBN 978-3-{self.fakes.digits(2)}-{self.fakes.digits(6)}-{self.fakes.nums(1)}",
                f"1Z{self.fakes.chars(UPPER_DIGITS, 16)}",
                self.rng.choice(["10115 Berlin", "75008 Paris", "28013 Madrid", "SW1A 1AA London"]),
                self._uuid(),
                f"commit {self.fakes.hexes(40)}",
                f"{self.fakes.digits(1)} {self.fakes.nums(3)} {self.fakes.nums(3)}",
                "logo@2x.png",
                "@" + self.rng.choice(FIRST["en"]).lower(),
                f"{self.rng.randint(7, 18)}:{self.rng.choice(['00', '15', '30', '45'])}",
                f"{self.fakes.digits(20, '0')}",
            ]
        )
