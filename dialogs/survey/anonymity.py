"""Which group attributes an anonymous answer may keep, so that no stored row singles anyone out.

An anonymous response keeps (department, section, role) only where at least ``k`` rows share the
same stored values; otherwise the values are generalised for the whole group — never for one
person alone, since a row that alone lacks its role would be recognisable by that gap:

1. a section with at least k rows keeps its id; it keeps roles only if every role in it has k rows;
2. the other rows of a department are pooled: with at least k of them they keep the department
   (and roles on the same rule), else they join the city-wide pool;
3. the city-wide pool keeps roles on the same rule, else nothing;
4. a city-wide pool of 1..k-1 rows would be singled out by elimination, so the smallest kept group
   is demoted one level (section → its department pool, department → city) until it is empty or
   has at least k rows.

It runs when a round opens, over the audience (the finest group an answer may ever keep), and
after every answer and at closing, over the answers given so far (service.regroup), so that the
stored rows of an open or closed round are k-anonymous with respect to the people known to have
answered; until then an answer's group waits in a sealed envelope (envelope.py).

    mapping = generalise([(dept, section, role), …], k)   # {original triple: stored triple}
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

Triple = tuple[int | None, int | None, str | None]


def _roles_kept(triples: list[Triple], k: int) -> bool:
    cells = Counter(t[2] for t in triples)
    return None not in cells and all(n >= k for n in cells.values())


def generalise(rows: Iterable[Triple], k: int) -> dict[Triple, Triple]:
    """Map every distinct input triple to the triple that may be stored (see the module doc)."""
    rows = list(rows)
    by_section: dict[tuple[int, int], list[Triple]] = defaultdict(list)
    loose_dept: dict[int, list[Triple]] = defaultdict(list)  # rows already without a section
    loose_city: list[Triple] = []  # rows already without a department
    for row in rows:
        dept, section, _ = row
        if section is not None and dept is not None:
            by_section[(dept, section)].append(row)
        elif dept is not None:
            loose_dept[dept].append(row)
        else:
            loose_city.append(row)
    kept_sections = {key for key, group in by_section.items() if len(group) >= k}
    demoted_depts: set[int] = set()

    def pools() -> tuple[dict[int, list[Triple]], list[Triple]]:
        dept_pool: dict[int, list[Triple]] = defaultdict(list)
        for d, group in loose_dept.items():
            dept_pool[d].extend(group)
        for (d, section), group in by_section.items():
            if (d, section) not in kept_sections:
                dept_pool[d].extend(group)
        city = list(loose_city)
        for d, group in list(dept_pool.items()):
            if len(group) < k or d in demoted_depts:
                city.extend(group)
                del dept_pool[d]
        return dept_pool, city

    # A city-wide remainder of 1..k-1 rows would be recognisable next to the kept groups: demote the
    # smallest kept group one level until the remainder is empty or large enough.
    while True:
        dept_pool, city = pools()
        if not city or len(city) >= k:
            break
        city_depts = {row[0] for row in city if row[0] is not None}
        feeding = [key for key in kept_sections if key[0] in city_depts and key[0] not in demoted_depts]
        if feeding:
            kept_sections.discard(min(feeding, key=lambda key: len(by_section[key])))
            continue
        if dept_pool:
            demoted_depts.add(min(dept_pool, key=lambda d: len(dept_pool[d])))
            continue
        if kept_sections:
            kept_sections.discard(min(kept_sections, key=lambda key: len(by_section[key])))
            continue
        break

    mapping: dict[Triple, Triple] = {}
    for key in kept_sections:
        group = by_section[key]
        keep_role = _roles_kept(group, k)
        for row in group:
            mapping[row] = (key[0], key[1], row[2] if keep_role else None)
    for dept, group in dept_pool.items():
        keep_role = _roles_kept(group, k)
        for row in group:
            mapping[row] = (dept, None, row[2] if keep_role else None)
    keep_role = len(city) >= k and _roles_kept(city, k)
    for row in city:
        mapping[row] = (None, None, row[2] if keep_role else None)
    return mapping


def to_json(mapping: dict[Triple, Triple]) -> list[list[int | str | None]]:
    return [[*src, *dst] for src, dst in mapping.items()]


def from_json(data: list[list[int | str | None]]) -> dict[Triple, Triple]:
    out: dict[Triple, Triple] = {}
    for item in data or []:
        src: Triple = (_id(item[0]), _id(item[1]), _role(item[2]))
        out[src] = (_id(item[3]), _id(item[4]), _role(item[5]))
    return out


def _id(value: int | str | None) -> int | None:
    return None if value is None else int(value)


def _role(value: int | str | None) -> str | None:
    return None if value is None else str(value)


def is_k_anonymous(rows: Iterable[Triple], k: int) -> bool:
    """True if every stored combination occurs at least k times (used by tests and the seal check)."""
    counts = Counter(rows)
    return all(n >= k for n in counts.values())
