"""The supervisor's scanners: what they find, the exact spans, and what they leave alone.

Every value here is fake: published test card numbers, random keys in real formats.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placet.errors import ConfigError
from placet.supervisor import CATEGORIES, TYPES, Finding, redact, scan
from placet.supervisor.findings import finding, lower_case, settle

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
    "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n"
    "-----END RSA PRIVATE KEY-----"
)

# (text, type, the exact value flagged)
FOUND = [
    (
        "Write to lena.fischer@nordwind-logistik.de today.",
        "email",
        "lena.fischer@nordwind-logistik.de",
    ),
    ("[Mail us](mailto:o.foster@acme-support.co.uk)", "email", "o.foster@acme-support.co.uk"),
    ("Antworten an: <Jürgen.Krüger@beispiel-shop.de>", "email", "Jürgen.Krüger@beispiel-shop.de"),
    ("Call +49 30 12345678 now.", "phone", "+49 30 12345678"),
    ("Tel. 030 / 1234567", "phone", "030 / 1234567"),
    ("US office: (201) 555-0123.", "phone", "(201) 555-0123"),
    ("Tél. : 01.99.00.12.34", "phone", "01.99.00.12.34"),
    ("Llámeme al 612 34 56 78.", "phone", "612 34 56 78"),
    ("UK: +44 (0)20 7946 0958", "phone", "+44 (0)20 7946 0958"),
    ("Card 4111 1111 1111 1111, exp 12/27.", "card", "4111 1111 1111 1111"),
    ("Amex 3782-822463-10005", "card", "3782-822463-10005"),
    ("charged 5555555555554444.", "card", "5555555555554444"),
    ("IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX", "iban", "DE89 3704 0044 0532 0130 00"),
    ("to GB29NWBK60161331926819.", "iban", "GB29NWBK60161331926819"),
    ("SSN 123-45-6789", "national_id", "123-45-6789"),
    ("DNI 12345678Z", "national_id", "12345678Z"),
    ("NIR 2 95 10 99 126 111 93", "national_id", "2 95 10 99 126 111 93"),
    ("codice fiscale RSSMRA85T10A562S", "national_id", "RSSMRA85T10A562S"),
    ("numéro national 85.07.30-033.28", "national_id", "85.07.30-033.28"),
    ("BSN: 111222333", "national_id", "111222333"),
    ("Steuer-ID 36 574 261 809", "national_id", "36 574 261 809"),
    ("NHS number 943 476 5919", "national_id", "943 476 5919"),
    ("key AKIAIOSFODNN7EXAMPLE here", "api_key", "AKIAIOSFODNN7EXAMPLE"),
    ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dcABCDEFGH1234", "api_key", None),
    ("GROQ_API_KEY=gsk_" + "a1B2" * 13, "api_key", None),
    ("token ghp_" + "abcdefghijklmnopqrstuvwxyz0123456789", "token", None),
    ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "token", None),
    (f"Authorization: Bearer {JWT}", "token", JWT),
    (f"deploy key:\n{PEM}\nkeep it safe", "private_key", PEM),
    ('DB_PASSWORD = "s3cr3t-Passw0rd"', "password", "s3cr3t-Passw0rd"),
    ("Ihr vorläufiges Passwort lautet: Sommer2024!x", "password", "Sommer2024!x"),
    ("export PGPASSWORD=S3cretPass9", "password", "S3cretPass9"),
    ("SECRET_KEY=9f8e7d6c5b4a3f2e1d0c", "api_key", "9f8e7d6c5b4a3f2e1d0c"),
    ("My SSN is 123456789.", "national_id", "123456789"),
    ("ssh admin@10.0.0.7", "internal_url", "10.0.0.7"),
    ("see http://jira/browse/OPS-1.", "internal_url", "http://jira/browse/OPS-1"),
    ("[Grafana](https://grafana.internal:3000/d/abc)", "internal_url", None),
    ("db at 10.0.3.17:5432.", "internal_url", "10.0.3.17:5432"),
    ("the NAS is nas.local", "internal_url", "nas.local"),
    ("http://[::1]:8080/debug", "internal_url", "http://[::1]:8080/debug"),
    ("printer 192.168.1.20", "internal_url", "192.168.1.20"),
]

CLEAN = [
    "Order 4111111111111112 has shipped.",  # 16 digits failing the Luhn check
    "Your order #4055123456 has shipped.",
    "Order number: 0139-3177565",
    "Kundennummer 030 1234567",
    "Invoice dated 12.03.2024, 2024-03-01, due 03/12/2024.",
    "Total 1.299,00 € or $1,299.99 or 12 500 EUR.",
    "Fixed in v2.14.3, version 10.0.0.1 and 3.12.1.",
    "Read https://www.example.com/help and https://internal.example.com/handbook.",
    "Our status page runs on 203.0.113.45.",
    "IBAN DE12 3456 7890 1234 5678 90 is not valid.",
    "SSN 987-65-4321 cannot exist.",
    "EAN 4006381333931, IMEI 490154203237518, ZIP 94105-1234.",
    "Coordinates -34.0717, 169.9353.",
    "logo@2x.png and @lena and git@github.com:example-org/shop.git",
    'password = "<your password here>" and API_KEY = os.environ["API_KEY"]',
    "Run it on localhost, it is fine.",
    "It's no secret that the key point is speed.",
    "Keyboard: MX-Keys-2023, boarding pass: AB12345678, password: reset it via the link",
    "order 123456789, API_KEY=${API_KEY}",
    "ISBN 978-3-16-148410-0, commit 3f9a2c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
]


@pytest.mark.parametrize(("text", "kind", "value"), FOUND)
def test_finds_each_type_with_its_exact_span(text: str, kind: str, value: str | None) -> None:
    found = [f for f in scan(text) if f.type == kind]
    assert len(found) == 1, scan(text)
    flagged = found[0].value(text)
    if value is not None:
        assert flagged == value
    assert found[0].category == TYPES[kind]
    assert found[0].why


@pytest.mark.parametrize("text", CLEAN)
def test_leaves_near_misses_alone(text: str) -> None:
    assert scan(text) == [], [(f.type, f.value(text)) for f in scan(text)]


def test_findings_are_sorted_json_able_and_never_carry_the_value() -> None:
    text = "Mail anna@example-shop.de, card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE."
    found = scan(text)
    assert [f.type for f in found] == ["email", "card", "api_key"]
    assert [f.start for f in found] == sorted(f.start for f in found)
    dumped = json.dumps([f.as_dict() for f in found])
    assert "AKIA" not in dumped and "4111" not in dumped
    assert found[0].as_dict() == {
        "type": "email",
        "category": "pii",
        "start": 5,
        "end": 25,
        "why": "an e-mail address",
    }
    with pytest.raises(AttributeError):
        found[0].start = 0  # type: ignore[misc]


def test_a_link_keeps_the_secret_inside_it_and_overlaps_go_to_the_stronger_type() -> None:
    text = "DATABASE_URL=postgres://app:S3cureP4ss@db01.prod.internal:5432/shop"
    found = {(f.type, f.value(text)) for f in scan(text)}
    assert found == {
        ("password", "S3cureP4ss"),
        ("internal_url", "postgres://app:S3cureP4ss@db01.prod.internal:5432/shop"),
    }
    # The account digits of this IBAN pass the Luhn check with a Visa prefix: still an IBAN,
    # and with its check digits wrong, nothing (not a card).
    assert [f.type for f in scan("AT91 4398 2597 9190 7482")] == ["iban"]
    assert scan("AT92 4398 2597 9190 7482") == []
    weaker, stronger = finding("phone", 0, 10, "p"), finding("iban", 2, 12, "i")
    assert settle([weaker, stronger, stronger]) == [stronger]


def test_kinds_choose_the_categories() -> None:
    text = "anna@example-shop.de AKIAIOSFODNN7EXAMPLE http://10.0.0.5/admin"
    assert {f.category for f in scan(text)} == set(CATEGORIES)
    assert {f.category for f in scan(text, ["secrets"])} == {"secrets"}
    assert {f.category for f in scan(text, "links")} == {"links"}
    assert scan(text, []) == []
    with pytest.raises(ConfigError, match="unknown scan kind 'names'"):
        scan(text, ["pii", "names"])


def test_redact_masks_every_flagged_span() -> None:
    text = "Mail anna@example-shop.de or call +49 30 12345678."
    found = scan(text)
    assert redact(text, found) == "Mail [email] or call [phone]."
    kept = redact(text, found, keep_length=True)
    assert len(kept) == len(text) and "anna" not in kept and "12345678" not in kept
    assert kept[found[1].start - 5 : found[1].start] == "call "
    pem = f"key:\n{PEM}\nend"
    masked = redact(pem, scan(pem), keep_length=True)
    assert masked.count("\n") == pem.count("\n") and "MIIB" not in masked
    nested = "x postgres://app:S3cureP4ss@10.0.0.7:5432/db"
    assert redact(nested, scan(nested)) == "x [internal_url]"


def test_lower_case_keeps_positions() -> None:
    text = "İstanbul office: anna@example-shop.de"
    assert len(lower_case(text)) == len(text)
    assert [f.value(text) for f in scan(text)] == ["anna@example-shop.de"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(
                [
                    "anna@example-shop.de",
                    "+49 30 12345678",
                    "4111 1111 1111 1111",
                    "DE89 3704 0044 0532 0130 00",
                    "AKIAIOSFODNN7EXAMPLE",
                    JWT,
                    PEM,
                    "http://10.0.0.5:8080/x",
                    'password = "hunter22x"',
                    "12.03.2024",
                    " ",
                    "\n",
                    "@",
                    "://",
                ]
            ),
        ),
        max_size=12,
    ).map("".join)
)
def test_any_text_scans_into_sorted_spans_that_never_partly_overlap(text: str) -> None:
    found = scan(text)
    assert all(isinstance(f, Finding) and 0 <= f.start < f.end <= len(text) for f in found)
    assert [f.start for f in found] == sorted(f.start for f in found)
    for index, one in enumerate(found):
        for other in found[index + 1 :]:
            if one.overlaps(other):
                link = one if one.category == "links" else other
                inner = other if link is one else one
                assert link.category == "links" and link.contains(inner)
    assert len(redact(text, found, keep_length=True)) == len(text)
