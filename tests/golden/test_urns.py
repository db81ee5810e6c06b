"""No refactor renames (= replaces) a live resource by accident: every program's URNs equal the
pinned list (tests/golden/urns.py), except a URN that a registration names in its `aliases`."""
import pytest

from tests.golden.urns import PROGRAMS, pinned, registrations, urns


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_resource_identity_is_pinned(program):
    regs = registrations(program)
    now, before = set(urns(regs)), set(pinned(program))
    aliased = {alias for r in regs for alias in r.aliases}
    gone = sorted(before - now - aliased)
    assert not gone, (f"{program.name}: {len(gone)} resource(s) would be REPLACED on the next `pulumi up` "
                      "(their URN changed): give the new ones `aliases` for the old URNs, or, if the "
                      "replacement is intended, run `make urns` and review the diff:\n  " + "\n  ".join(gone))
    new = sorted(now - before)
    assert not new, (f"{program.name}: {len(new)} new resource(s) not in {program.file.name}: run `make urns` "
                     "and review the diff:\n  " + "\n  ".join(new))


def test_an_alias_keeps_a_renamed_resource(tmp_path):
    """The check above accepts a rename only through the old URN in `aliases` (AppHost -> AppFleet)."""
    prod = next(p for p in PROGRAMS if p.name == "prod")
    regs = registrations(prod)
    fleet = next(r for r in regs if r.type == "aurorakit:index:AppFleet")
    assert fleet.aliases == [fleet.urn.replace("aurorakit:index:AppFleet", "aurorakit:index:AppHost")]
