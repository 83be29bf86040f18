"""No network where queries run: a seccomp filter, installed by each query worker at start-up.

The filter refuses `socket()` for every address family but AF_UNIX with EPERM, as systemd's
`RestrictAddressFamilies=AF_UNIX` does: seccomp cannot read the address `connect()` or `sendto()`
is given (it is behind a pointer), so the kernel refuses the TCP/UDP socket they would need. io_uring
is refused too, because its operations do not pass through the syscall filter. The pipes and Unix
sockets a worker already has, or makes, keep working. Whatever a parser makes of a query, the
process running it cannot reach another host, nor a service on this one (tests/test_guard.py)."""
from __future__ import annotations

import errno
import socket
from typing import Any

from ..errors import SandboxError

_IO_URING = ("io_uring_setup", "io_uring_enter", "io_uring_register")


def _filter() -> Any:   # a pyseccomp.SyscallFilter: pyseccomp is untyped (pyproject.toml, [tool.mypy])
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError, RuntimeError) as exc:   # the module loads libseccomp.so.2 on import
        raise SandboxError(f"cannot load libseccomp for the query workers' network sandbox ({exc}); "
                           "install libseccomp2 (Debian) and the pyseccomp package") from None
    deny = seccomp.ERRNO(errno.EPERM)
    filt = seccomp.SyscallFilter(seccomp.ALLOW)
    filt.set_attr(seccomp.Attr.CTL_TSYNC, 1)   # every thread of the process, not only the caller
    filt.add_rule(deny, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    for name in _IO_URING:
        filt.add_rule(deny, name)
    return filt


def check_available() -> None:
    """Raise SandboxError now if workers could not install the filter (they would die at start)."""
    _filter()


def deny_network() -> None:
    """Install the filter in this process, for good (a seccomp filter cannot be removed)."""
    try:
        _filter().load()
    except OSError as exc:
        raise SandboxError(f"the kernel refused the query workers' network sandbox: {exc}") from None


def connect_errno(host: str, port: int) -> int:
    """Try a TCP connection; 0 if it opened, else the errno (start-up self-check and tests)."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return 0
    except OSError as exc:
        return exc.errno or -1
