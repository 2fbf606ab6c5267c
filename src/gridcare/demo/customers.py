"""Customer rows for the demo province, streamed (a million rows never sit in memory at once)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from gridcare.demo import names
from gridcare.demo.province import AreaPlan

COLUMNS: tuple[str, ...] = (
    "id",
    "account_no",
    "name",
    "phone",
    "phone_alt",
    "id_number",
    "address",
    "village_id",
    "transformer_area_id",
    "station_id",
    "usage_category",
    "voltage_level",
    "is_important",
    "is_special_care",
    "is_sensitive",
    "imported",
    "version",
    "created_at",
    "updated_at",
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_BIRTH_START = date(1935, 1, 1)
_BIRTH_DAYS = (date(2004, 12, 31) - _BIRTH_START).days


def id_number(rng: random.Random, county_no: int) -> str:
    """A well-formed 18-digit resident ID (region, birth date, sequence, ISO 7064 check digit)."""
    birth = _BIRTH_START + timedelta(days=rng.randrange(_BIRTH_DAYS))
    body = f"{names.CITY_CODE_PREFIX}{county_no:02d}{rng.randint(21, 29):02d}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    check = _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + check


def customer_rows(areas: list[AreaPlan], *, seed: int, created_at: object) -> Iterator[tuple[object, ...]]:
    rng = random.Random(seed * 7919 + 17)
    cum_surname: list[float] = []
    total = 0.0
    for w in names.SURNAME_WEIGHTS:
        total += w
        cum_surname.append(total)
    surnames, given, prefixes = names.SURNAMES, names.GIVEN_CHARS, names.MOBILE_PREFIXES
    rand, choice, randint, randrange = rng.random, rng.choice, rng.randint, rng.randrange
    choices = rng.choices
    customer_id = 0
    seq_by_county: dict[int, int] = {}
    for area in areas:
        urban = area.area_class == "urban"
        for _ in range(area.customers):
            customer_id += 1
            seq = seq_by_county.get(area.county_no, 0) + 1
            seq_by_county[area.county_no] = seq
            account_no = f"{names.CITY_CODE_PREFIX}{area.county_no:02d}{seq:08d}"
            non_residential = rand() < (0.14 if urban else 0.09)
            high_voltage = non_residential and rand() < 0.04
            important = False
            if non_residential:
                if high_voltage and rand() < 0.25:
                    name = f"{names.CITY_NAME}{choice(names.IMPORTANT_SITES)}"
                    important = True
                elif urban and rand() < 0.5:
                    name = (
                        f"{names.CITY_NAME}{choice(names.COMPANY_PREFIXES)}{choice(names.COMPANY_SUFFIXES)}"
                    )
                else:
                    name = f"{area.village_label}{choice(names.SHOPS)}"
                ident = None
                special = False
            else:
                name = choices(surnames, cum_weights=cum_surname)[0] + choice(given)
                if rand() < 0.7:
                    name += choice(given)
                ident = id_number(rng, area.county_no) if rand() < 0.8 else None
                special = rand() < (0.02 if urban else 0.045)
            if urban:
                detail = f"{randint(1, 30)}栋{randint(1, 4)}单元{randint(1, 18)}{randint(1, 4):02d}室"
                if non_residential:
                    detail = f"{randint(1, 300)}号商铺"
            else:
                detail = f"{randint(1, 12)}组{randint(1, 120)}号"
            phone = None if rand() < 0.03 else choice(prefixes) + f"{randrange(10**8):08d}"
            alt = f"0{randint(510, 599)}{randrange(10**7):07d}" if rand() < 0.12 else None
            yield (
                customer_id,
                account_no,
                name,
                phone,
                alt,
                ident,
                area.address_prefix + detail,
                area.village_id,
                area.id,
                area.station_id,
                "non_residential" if non_residential else "residential",
                "high" if high_voltage else "low",
                important or rand() < 0.004,
                special,
                rand() < 0.005,
                False,
                1,
                created_at,
                created_at,
            )
