"""Run a command under the kernel-enforced part of the host unit's sandbox, built as systemd 252
(Amazon Linux 2023's version, and Debian 12's) builds it, without a running systemd:

- `SystemCallFilter=` (allow list; `@default` added implicitly; `~` lines remove), resolved with
  this machine's `systemd-analyze syscall-filter`, `SystemCallErrorNumber=` as the default action;
- `MemoryDenyWriteExecute=yes`: systemd's seccomp rules (mmap with PROT_WRITE|PROT_EXEC,
  mprotect/pkey_mprotect adding PROT_EXEC, shmat with SHM_EXEC -> EPERM);
- `RestrictAddressFamilies=`: socket() of any other family -> EAFNOSUPPORT;
- `NoNewPrivileges=yes` (libseccomp sets it when loading);
- `ProcSubset=pid` / `ProtectProc=`: a private mount namespace with /proc remounted
  `subset=pid,hidepid=...`.
Not reproduced (need a running systemd, cgroup BPF or a new root): User=, capabilities,
ProtectSystem=/PrivateTmp= and the other mount options, IPAddressDeny=/IPAddressAllow=.

Usage: python -m tests.app.unit_sandbox [--kill] UNIT_FILE -- COMMAND...  (--kill: any syscall
outside the allow list kills the process instead of failing with the unit's errno, so a test
notices every use of a filtered syscall, not only the ones that break it).
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket
import subprocess
import sys
from functools import lru_cache

ACT_ALLOW, ACT_KILL_PROCESS = 0x7FFF0000, 0x80000000
CMP_EQ, CMP_GE, CMP_MASKED_EQ = 4, 5, 7
PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x00020000, 0x4000, 1 << 18
FAMILY_LIMIT = 64  # every AF_* value is below this (AF_MAX is 46 on Linux 6.x)


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def act_errno(number: int) -> int:
    return 0x00050000 | (number & 0xFFFF)


def directives(unit_text: str) -> dict[str, list[str]]:
    """Every `Key=value` of the unit's [Service] section, in order (keys may repeat)."""
    out: dict[str, list[str]] = {}
    section = None
    for line in unit_text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and line and not line.startswith(("#", ";")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


@lru_cache(maxsize=1)
def syscall_groups() -> dict[str, list[str]]:
    """systemd's own group table: {"@system-service": ["@aio", ..., "capget", ...], ...}."""
    text = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True,
                          text=True, check=True, timeout=60).stdout
    groups: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.startswith("    ") and not line.strip().startswith("#") and current is not None:
            current.append(line.strip())
        elif not line.strip():
            current = None
    return groups


def expand(names: list[str]) -> set[str]:
    groups, out, todo = syscall_groups(), set(), list(names)
    while todo:
        name = todo.pop()
        if name.startswith("@"):
            todo.extend(groups[name])  # KeyError: a group this systemd doesn't know
        else:
            out.add(name)
    return out


def allowed_syscalls(filters: list[str]) -> set[str]:
    """The allow list systemd derives from the unit's SystemCallFilter= lines."""
    if not filters or filters[0].startswith("~"):
        raise ValueError("only allow-list SystemCallFilter= (first line without ~) is reproduced")
    allowed = expand(["@default"])
    for value in filters:
        names = value.lstrip("~").split()
        allowed = allowed - expand(names) if value.startswith("~") else allowed | expand(names)
    return allowed


class Filter:
    """One seccomp filter (systemd loads one per feature; the kernel applies the strictest)."""

    def __init__(self, lib, default_action: int):
        self.lib, self.ctx = lib, lib.seccomp_init(default_action)
        if not self.ctx:
            raise OSError("seccomp_init failed")

    def rule(self, action: int, name: str, *cmps: tuple[int, int, int, int]) -> None:
        nr = self.lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:  # not a syscall on this architecture (e.g. mmap2 on x86_64): systemd skips it too
            return
        array = (ArgCmp * max(1, len(cmps)))(*[ArgCmp(*c) for c in cmps])
        rc = self.lib.seccomp_rule_add_array(self.ctx, action, nr, len(cmps), array)
        if rc < 0 and rc != -errno.EDOM:  # EDOM: pseudo-syscall not on the native ABI
            raise OSError(-rc, f"seccomp_rule_add {name}")

    def load(self) -> None:
        rc = self.lib.seccomp_load(self.ctx)
        if rc < 0:
            raise OSError(-rc, "seccomp_load")


def _libseccomp():
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    return lib


def _private_proc(subset: str | None, protect: str | None) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    options = ",".join(o for o in (f"subset={subset}" if subset else "",
                                   f"hidepid={protect}" if protect else "") if o)
    for call, args in (("unshare", (CLONE_NEWNS,)),
                       ("mount", (b"none", b"/", None, MS_REC | MS_PRIVATE, None)),
                       ("mount", (b"proc", b"/proc", b"proc", 0, options.encode()))):
        if getattr(libc, call)(*args) != 0:
            raise OSError(ctypes.get_errno(), f"{call} for ProcSubset/ProtectProc")


def apply(unit_text: str, *, kill: bool = False) -> None:
    """Restrict the current process (and what it executes) as the unit would."""
    d = directives(unit_text)
    subset, protect = (d.get("ProcSubset") or [None])[-1], (d.get("ProtectProc") or [None])[-1]
    if subset == "pid" or protect in ("invisible", "noaccess", "ptraceable"):
        _private_proc(subset if subset == "pid" else None, protect if protect != "default" else None)
    lib = _libseccomp()
    filters = []
    if (d.get("MemoryDenyWriteExecute") or ["no"])[-1] == "yes":
        mdwe, eperm = Filter(lib, ACT_ALLOW), act_errno(errno.EPERM)
        mdwe.rule(eperm, "mmap", (2, CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC))
        mdwe.rule(eperm, "mprotect", (2, CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
        mdwe.rule(eperm, "pkey_mprotect", (2, CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
        mdwe.rule(eperm, "shmat", (2, CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC))
        filters.append(mdwe)
    if "RestrictAddressFamilies" in d:
        names = " ".join(d["RestrictAddressFamilies"]).split()
        if any(n.startswith("~") for n in names):
            raise ValueError("only an allow list of address families is reproduced")
        keep = {int(getattr(socket, n)) for n in names}
        families, noaf = Filter(lib, ACT_ALLOW), act_errno(errno.EAFNOSUPPORT)
        for family in sorted(set(range(FAMILY_LIMIT)) - keep):
            families.rule(noaf, "socket", (0, CMP_EQ, family, 0))
        families.rule(noaf, "socket", (0, CMP_GE, FAMILY_LIMIT, 0))
        filters.append(families)
    # the allow list last, as systemd does: it blocks seccomp() itself
    if "SystemCallFilter" in d:
        err = (d.get("SystemCallErrorNumber") or ["kill"])[-1]
        negative = ACT_KILL_PROCESS if kill or err == "kill" else act_errno(getattr(errno, err))
        allow = Filter(lib, negative)
        for name in sorted(allowed_syscalls(d["SystemCallFilter"])):
            allow.rule(ACT_ALLOW, name)
        filters.append(allow)
    for f in filters:
        f.load()


def main(argv: list[str]) -> None:
    kill = argv[:1] == ["--kill"]
    argv = argv[1:] if kill else argv
    unit_file, sep, command = argv[0], argv[1], argv[2:]
    if sep != "--" or not command:
        raise SystemExit(__doc__)
    with open(unit_file) as fh:
        apply(fh.read(), kill=kill)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
