"""EC2 instance type names: which families exist, so a typo (`t9.micro`, `m7.large`) is one clear
settings error instead of a failed launch minutes into `pulumi up`.

`FAMILIES` is the list of current-generation and previous-generation families EC2 documents
("Amazon EC2 instance types", checked 2026-11-30); a family AWS launches later is added here (the
error names this file). Sizes are checked by pattern (nano … metal, NNxlarge, metal-NNxl).
"""
from __future__ import annotations

import difflib
import re
from typing import Optional

FAMILIES = frozenset("""
a1
c1 c3 c4 c5 c5a c5ad c5d c5n c6a c6g c6gd c6gn c6i c6id c6in c7a c7g c7gd c7gn c7i c7i-flex
c8g c8gd c8gn c8i c8i-flex
d2 d3 d3en dl1 dl2q f1 f2 g4ad g4dn g5 g5g g6 g6e g6f gr6 gr6f h1 hpc6a hpc6id hpc7a hpc7g
i2 i3 i3en i4g i4i i7i i7ie i8g i8ge im4gn inf1 inf2 is4gen
m1 m2 m3 m4 m5 m5a m5ad m5d m5dn m5n m5zn m6a m6g m6gd m6i m6id m6idn m6in m7a m7g m7gd m7i
m7i-flex m8a m8g m8gd m8i m8i-flex mac1 mac2 mac2-m1ultra mac2-m2 mac2-m2pro
p3 p3dn p4d p4de p5 p5e p5en p6-b200 p6e-gb200
r3 r4 r5 r5a r5ad r5b r5d r5dn r5n r6a r6g r6gd r6i r6id r6idn r6in r7a r7g r7gd r7i r7iz
r8a r8g r8gd r8i r8i-flex
t1 t2 t3 t3a t4g trn1 trn1n trn2 u-3tb1 u-6tb1 u-9tb1 u-12tb1 u-18tb1 u-24tb1 u7i-6tb u7i-8tb
u7i-12tb u7in-16tb u7in-24tb u7in-32tb vt1 x1 x1e x2gd x2idn x2iedn x2iezn x8g z1d
""".split())
_SIZE = re.compile(r"(nano|micro|small|medium|large|\d*xlarge|metal|metal-\d+xl)")


def instance_type_problem(instance_type: str) -> Optional[str]:
    """What is wrong with an EC2 instance type name (None: a known family and a valid size)."""
    family, dot, size = str(instance_type).partition(".")
    if not dot or not _SIZE.fullmatch(size):
        return "must be an EC2 instance type like t3.micro or m7g.large"
    if family not in FAMILIES:
        close = difflib.get_close_matches(family, sorted(FAMILIES), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(f'{c}.{size}' for c in close)}?)" if close else ""
        return (f"no EC2 instance family {family!r}{hint}; if AWS launched it after this list, add it to "
                "FAMILIES in components/instance_types.py")
    return None
