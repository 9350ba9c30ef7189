"""Who acts on the platform: a member's user in a role, through a session or an API key."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vigil.domain.registry import MemberKind


class Role(StrEnum):
    """A user's role within their member; each includes what the ones before it may do."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


class Scope(StrEnum):
    """What an API key may do: read only, or read and write."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Actor:
    """The one on whose behalf a service call runs; every write's audit event names it."""

    name: str  # the user's e-mail, or "cli:<login>" on the command line
    member_id: str | None  # None only for the command line, which acts as the operator
    member_kind: MemberKind | None
    role: Role
    scope: Scope = Scope.WRITE
    user_id: int | None = None
    source: str | None = None  # the client's address, or "cli"

    @property
    def is_operator(self) -> bool:
        return self.member_id is None or self.member_kind is MemberKind.OPERATOR

    @property
    def can_write(self) -> bool:
        return self.scope is Scope.WRITE
