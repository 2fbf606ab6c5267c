"""A fictional but believable city company: counties, stations, villages, grid and staff.

Everything is derived from one random.Random(seed), so the same (customers, seed) gives the same
province. Rows are tuples in the column order of the COLUMNS mapping, with explicit ids.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from gridcare.demo import names

DEMO_PASSWORD = "Demo@95598"  # noqa: S105 - printed and documented demo logins

COLUMNS: dict[str, tuple[str, ...]] = {
    "units": ("id", "code", "name", "kind", "parent_id", "path", "imported", "created_at"),
    "users": (
        "id",
        "username",
        "display_name",
        "password_hash",
        "unit_id",
        "phone",
        "is_active",
        "created_at",
    ),
    "user_roles": ("user_id", "role"),
    "villages": ("id", "code", "name", "area_class", "station_id", "liaison_user_id", "imported"),
    "substations": ("id", "code", "name", "county_id", "voltage_kv"),
    "feeders": ("id", "code", "name", "substation_id"),
    "branch_switches": ("id", "code", "name", "feeder_id"),
    "transformer_areas": (
        "id",
        "code",
        "name",
        "capacity_kva",
        "feeder_id",
        "branch_switch_id",
        "station_id",
        "village_id",
        "manager_user_id",
        "imported",
    ),
}
# Share of customers by area class (docs/domain.md §11: about 40 % urban, 60 % rural incl. remote).
AREA_SHARES = {"urban": 0.40, "rural": 0.57, "remote": 0.03}
# Customers per 台区 by class, and the fewest 台区 a village has even in a small demo.
AREA_SIZE = {"urban": 250, "rural": 110, "remote": 60}
AREA_MIN = {"urban": 6, "rural": 4, "remote": 2}
DEMO_LOGINS: dict[str, str] = {
    "admin": "系统管理员（市公司）",
    "agent": "客户代表（市公司 95598 坐席）",
    "dispatcher": "调度员（鹤城区供电服务指挥中心）",
    "station": "供电所员工/台区经理（鹤城城关供电所）",
    "manager": "管理人员（市公司营销部）",
    "auditor": "质检（市公司）",
}


@dataclass
class AreaPlan:
    """One 台区 and what its customers look like."""

    id: int
    station_id: int
    village_id: int
    area_class: str
    county_no: int
    customers: int
    address_prefix: str
    village_label: str


@dataclass
class Province:
    rows: dict[str, list[tuple[object, ...]]] = field(default_factory=lambda: {k: [] for k in COLUMNS})
    areas: list[AreaPlan] = field(default_factory=list)


@dataclass
class _Village:
    id: int
    name: str
    area_class: str
    station_id: int
    county_no: int
    county_name: str
    town: str
    weight: float
    customers: int = 0


class _Ids:
    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def next(self, table: str) -> int:
        value = self._next.get(table, 0) + 1
        self._next[table] = value
        return value


def _person_name(rng: random.Random) -> str:
    given = rng.choice(names.GIVEN_CHARS)
    if rng.random() < 0.7:
        given += rng.choice(names.GIVEN_CHARS)
    return rng.choices(names.SURNAMES, weights=names.SURNAME_WEIGHTS)[0] + given


def _mobile(rng: random.Random) -> str:
    return rng.choice(names.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _distribute(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainders)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def build_province(*, customers: int, seed: int, password_hash: str, created_at: object) -> Province:
    rng = random.Random(seed)
    ids = _Ids()
    p = Province()
    add = p.rows

    city_id = ids.next("units")
    add["units"].append(
        (city_id, "C33", f"{names.CITY_NAME}供电公司", "city", None, f"/{city_id}/", False, created_at)
    )

    def user(username: str, display: str, unit_id: int, roles: list[str]) -> int:
        uid = ids.next("users")
        add["users"].append((uid, username, display, password_hash, unit_id, _mobile(rng), True, created_at))
        add["user_roles"].extend((uid, r) for r in roles)
        return uid

    user("admin", "系统管理员", city_id, ["admin"])
    user("agent", _person_name(rng), city_id, ["agent"])
    for i in range(2, 11):
        user(f"agent{i:02d}", _person_name(rng), city_id, ["agent"])
    user("manager", _person_name(rng), city_id, ["manager"])
    user("auditor", _person_name(rng), city_id, ["auditor"])

    villages: list[_Village] = []
    station_no = 0
    used_towns: set[str] = set()
    for county_no, (county_name, is_district, n_stations) in enumerate(names.COUNTIES, start=1):
        county_id = ids.next("units")
        county_path = f"/{city_id}/{county_id}/"
        add["units"].append(
            (
                county_id,
                f"C33{county_no:02d}",
                f"{county_name}供电公司",
                "county",
                city_id,
                county_path,
                False,
                created_at,
            )
        )
        user(
            "dispatcher" if county_no == 1 else f"dispatcher{county_no:02d}",
            _person_name(rng),
            county_id,
            ["dispatcher"],
        )
        user(f"manager{county_no:02d}", _person_name(rng), county_id, ["manager"])
        n_urban_stations = n_stations - 1 if is_district else (2 if n_stations >= 7 else 1)
        urban_names = ["城关", *rng.sample(names.URBAN_STATION_NAMES[1:], n_urban_stations - 1)]
        for s in range(n_stations):
            station_no += 1
            urban = s < n_urban_stations
            if urban:
                town = urban_names[s]
            else:
                town = rng.choice(names.TOWN_FIRST) + rng.choice(names.TOWN_SECOND)
                while town in used_towns:
                    town = rng.choice(names.TOWN_FIRST) + rng.choice(names.TOWN_SECOND)
                used_towns.add(town)
            station_id = ids.next("units")
            add["units"].append(
                (
                    station_id,
                    f"C33{county_no:02d}{s + 1:02d}",
                    f"{county_name[:2]}{town}供电所",
                    "station",
                    county_id,
                    f"{county_path}{station_id}/",
                    False,
                    created_at,
                )
            )
            mountain = county_name == "云岭县" and not urban
            n_villages = rng.randint(8, 12)
            for vi in range(n_villages):
                if urban:
                    area_class = "urban" if vi < n_villages - 2 or is_district else "rural"
                elif mountain and vi >= n_villages // 2:
                    area_class = "remote"
                else:
                    area_class = "rural"
                if area_class == "urban":
                    name = rng.choice(names.COMMUNITY_NAMES) + rng.choice(names.COMMUNITY_NAMES) + "社区"
                else:
                    name = rng.choice(names.VILLAGE_FIRST) + rng.choice(names.VILLAGE_SECOND) + "村"
                villages.append(
                    _Village(
                        id=ids.next("villages"),
                        name=name,
                        area_class=area_class,
                        station_id=station_id,
                        county_no=county_no,
                        county_name=county_name,
                        town=town,
                        weight=rng.lognormvariate(0, 0.5),
                    )
                )

    # Customers per village: by class share, then by each village's weight within its class.
    for area_class, share in AREA_SHARES.items():
        members = [v for v in villages if v.area_class == area_class]
        for v, n in zip(
            members, _distribute(round(customers * share), [v.weight for v in members]), strict=True
        ):
            v.customers = n
    shortfall = customers - sum(v.customers for v in villages)
    villages[0].customers += shortfall

    # Staff per station: a head, and one liaison per village who also manages its 台区 (一人一村).
    liaison_of: dict[int, int] = {}
    first_station_done = False
    by_station: dict[int, list[_Village]] = {}
    for v in villages:
        by_station.setdefault(v.station_id, []).append(v)
    for s_index, (station_id, members) in enumerate(by_station.items(), start=1):
        user(f"s{s_index:02d}head", _person_name(rng), station_id, ["station_staff"])
        for k, v in enumerate(members, start=1):
            username = "station" if not first_station_done else f"s{s_index:02d}m{k:02d}"
            first_station_done = True
            liaison_of[v.id] = user(username, _person_name(rng), station_id, ["station_staff"])
    for v in villages:
        add["villages"].append(
            (
                v.id,
                f"V{v.station_id:03d}{v.id:05d}",
                v.name,
                v.area_class,
                v.station_id,
                liaison_of[v.id],
                False,
            )
        )

    # Grid: substations per county, feeders per station, some branch switches, 台区 per village.
    county_subs: dict[int, list[int]] = {}
    for county_no in range(1, len(names.COUNTIES) + 1):
        for k in range(rng.randint(3, 4)):
            sid = ids.next("substations")
            kv = 110 if k == 0 else rng.choice([35, 110])
            name = f"{names.COUNTIES[county_no - 1][0][:2]}{'一二三四'[k]}号{kv}kV变电站"
            add["substations"].append((sid, f"SS{county_no:02d}{k + 1}", name, county_no + 1, kv))
            county_subs.setdefault(county_no, []).append(sid)
    area_seq = 0
    for station_id, members in by_station.items():
        county_no = members[0].county_no
        n_feeders = rng.randint(4, 8)
        feeders: list[tuple[int, list[int]]] = []
        for f in range(n_feeders):
            fid = ids.next("feeders")
            town = members[0].town
            add["feeders"].append(
                (
                    fid,
                    f"F{fid:05d}",
                    f"10kV{town}{'一二三四五六七八'[f]}线",
                    rng.choice(county_subs[county_no]),
                )
            )
            switches: list[int] = []
            for b in range(rng.choice([0, 0, 1, 2, 3])):
                bid = ids.next("branch_switches")
                add["branch_switches"].append(
                    (bid, f"B{bid:05d}", f"{town}{'一二三四五六七八'[f]}线{b + 1}号分支开关", fid)
                )
                switches.append(bid)
            feeders.append((fid, switches))
        # Neighbouring villages share a feeder: the station's 台区, in village order, are cut into
        # contiguous runs, one run per feeder.
        plan = [max(AREA_MIN[v.area_class], round(v.customers / AREA_SIZE[v.area_class])) for v in members]
        total_areas = sum(plan)
        walk = 0
        for v, n_areas in zip(members, plan, strict=True):
            counts = _distribute(v.customers, [rng.uniform(0.6, 1.4) for _ in range(n_areas)])
            for k, count in enumerate(counts, start=1):
                fid, switches = feeders[walk * len(feeders) // total_areas]
                walk += 1
                branch = rng.choice(switches) if switches and rng.random() < 0.5 else None
                area_id = ids.next("transformer_areas")
                area_seq += 1
                label = v.name.removesuffix("社区").removesuffix("村")
                kva = (
                    rng.choice([200, 315, 400, 500, 630])
                    if v.area_class == "urban"
                    else rng.choice([100, 160, 200, 315])
                )
                add["transformer_areas"].append(
                    (
                        area_id,
                        f"TQ{area_seq:07d}",
                        f"{label}{k}号台区",
                        kva,
                        fid,
                        branch,
                        station_id,
                        v.id,
                        liaison_of[v.id],
                        False,
                    )
                )
                if v.area_class == "urban":
                    prefix = f"{names.CITY_NAME}{v.county_name}{rng.choice(names.STREETS)}{rng.randint(1, 300)}号{v.name}"
                else:
                    town = v.town if v.town.endswith(("镇", "乡")) else v.town + "镇"
                    prefix = f"{names.CITY_NAME}{v.county_name}{town}{v.name}"
                p.areas.append(
                    AreaPlan(
                        id=area_id,
                        station_id=station_id,
                        village_id=v.id,
                        area_class=v.area_class,
                        county_no=county_no,
                        customers=count,
                        address_prefix=prefix,
                        village_label=label,
                    )
                )
    return p
