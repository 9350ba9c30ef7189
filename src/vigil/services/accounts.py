"""Members, their people, sign-in sessions and API keys.

Passwords are hashed with argon2 (argon2-cffi). Session tokens and API-key secrets are random
and long, so a plain SHA-256 of them is what is stored: a slow hash adds nothing against
guessing 256 random bits and would cost a hash per request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.domain.people import Actor, Role, Scope
from vigil.domain.registry import MemberKind
from vigil.errors import VigilError
from vigil.store.db import Store, audit
from vigil.store.tables import ApiKeyRow, MemberRow, UserRow, WebSessionRow, as_utc

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
SESSION_TTL = timedelta(hours=12)
KEY_PREFIX = "vk_"
# A key's last-used time is written at most this often, so that reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MEMBER_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so that a wrong address costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(VigilError):
    """A request about members, users or keys that cannot be carried out as asked."""


class NotFound(AccountError):
    """No such member, user or key (or not one the actor may see)."""


class Conflict(AccountError):
    """The member, user or key already exists."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a session or key belongs to, resolved from the store."""

    user: UserRow
    member: MemberRow
    csrf: str | None = None  # sessions only
    key: ApiKeyRow | None = None  # API keys only

    def actor(self, source: str | None) -> Actor:
        scope = Scope(self.key.scope) if self.key is not None else Scope.WRITE
        return Actor(
            name=self.user.email,
            member_id=self.member.id,
            member_kind=MemberKind(self.member.kind),
            role=Role(self.user.role),
            scope=scope,
            user_id=self.user.id,
            source=source,
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is too long: use at most {MAX_PASSWORD} characters")


# Members -------------------------------------------------------------------------------------


def create_member(store: Store, *, member_id: str, name: str, kind: str, actor: Actor) -> MemberRow:
    """Admit a member to the alliance (the operator does this)."""
    if not MEMBER_ID.match(member_id):
        raise AccountError(
            f"member id {member_id!r} is not valid: use lowercase letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (at most 100 characters)"
        )
    if not name.strip():
        raise AccountError("the member's name is empty: give the organisation's name")
    try:
        member_kind = MemberKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in MemberKind)
        raise AccountError(f"member kind {kind!r} is not known: use one of {kinds}") from None
    with store.session() as session:
        if session.get(MemberRow, member_id) is not None:
            raise Conflict(f"member {member_id!r} already exists")
        row = MemberRow(id=member_id, name=name.strip(), kind=member_kind.value, active=True)
        session.add(row)
        audit(
            session,
            action="member.create",
            subject=member_id,
            details={"name": row.name, "kind": row.kind},
            actor=actor,
            member_id=member_id,
        )
    return row


def update_member(
    store: Store, member_id: str, *, name: str | None, active: bool | None, actor: Actor
) -> MemberRow:
    """Rename a member, or suspend (active=False) or readmit it."""
    with store.session() as session:
        row = get_member(session, member_id)
        changes: dict[str, object] = {}
        if name is not None and name.strip():
            row.name = name.strip()
            changes["name"] = row.name
        if active is not None:
            if not active and row.kind == MemberKind.OPERATOR.value:
                raise AccountError("the operator cannot be suspended")
            row.active = active
            changes["active"] = active
        audit(
            session,
            action="member.update",
            subject=member_id,
            details=changes,
            actor=actor,
            member_id=member_id,
        )
    return row


def get_member(session: Session, member_id: str) -> MemberRow:
    row = session.get(MemberRow, member_id)
    if row is None:
        raise NotFound(f"no member {member_id!r}")
    return row


# Users ---------------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise AccountError(f"{email!r} is not an e-mail address: give one like name@example.org")
    return email


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise AccountError(f"role {value!r} is not known: use one of {roles}") from None


def create_user(
    store: Store,
    *,
    member_id: str,
    email: str,
    name: str,
    role: str,
    password: str,
    actor: Actor,
) -> UserRow:
    email = normalise_email(email)
    user_role = _role(role)
    check_password(password)
    with store.session() as session:
        get_member(session, member_id)
        if session.scalar(select(UserRow.id).where(UserRow.email == email)) is not None:
            raise Conflict(f"a user with e-mail {email} already exists")
        row = UserRow(
            member_id=member_id,
            email=email,
            name=name.strip() or email,
            role=user_role.value,
            password_hash=_hasher.hash(password),
            active=True,
        )
        session.add(row)
        session.flush()
        audit(
            session,
            action="user.create",
            subject=email,
            details={"role": row.role, "user_id": row.id},
            actor=actor,
            member_id=member_id,
        )
    return row


def update_user(
    store: Store,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    actor: Actor,
) -> UserRow:
    with store.session() as session:
        row = session.get(UserRow, user_id)
        if row is None:
            raise NotFound(f"no user {user_id}")
        changes: dict[str, object] = {}
        if role is not None:
            row.role = _role(role).value
            changes["role"] = row.role
        if active is not None:
            row.active = active
            changes["active"] = active
            if not active:  # a deactivated user is signed out everywhere
                session.query(WebSessionRow).filter(WebSessionRow.user_id == user_id).delete()
        audit(
            session,
            action="user.update",
            subject=row.email,
            details=changes,
            actor=actor,
            member_id=row.member_id,
        )
    return row


def authenticate(store: Store, email: str, password: str) -> UserRow | None:
    """The user with this e-mail and password, if active and of an active member."""
    with store.session() as session:
        row = session.scalar(select(UserRow).where(UserRow.email == email.strip().lower()))
        stored = row.password_hash if row is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        member = session.get(MemberRow, row.member_id)
        if member is None or not member.active:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        return row


def change_password(store: Store, user_id: int, *, current: str, new: str, actor: Actor) -> None:
    check_password(new)
    with store.session() as session:
        row = session.get(UserRow, user_id)
        if row is None:
            raise NotFound(f"no user {user_id}")
        try:
            _hasher.verify(row.password_hash, current)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise AccountError("the current password is wrong") from None
        row.password_hash = _hasher.hash(new)
        row.password_changed_at = _now()
        audit(
            session,
            action="user.password",
            subject=row.email,
            details={},
            actor=actor,
            member_id=row.member_id,
        )


def reset_password(store: Store, user_id: int, *, new: str, actor: Actor) -> None:
    """Set a password without the current one (an admin's reset; the demo's fresh passwords).
    The user's sessions end."""
    check_password(new)
    with store.session() as session:
        row = session.get(UserRow, user_id)
        if row is None:
            raise NotFound(f"no user {user_id}")
        row.password_hash = _hasher.hash(new)
        row.password_changed_at = _now()
        session.query(WebSessionRow).filter(WebSessionRow.user_id == user_id).delete()
        audit(
            session,
            action="user.password_reset",
            subject=row.email,
            details={},
            actor=actor,
            member_id=row.member_id,
        )


# Sessions ------------------------------------------------------------------------------------


def start_session(
    store: Store, user: UserRow, *, ip: str | None, replaces: str | None = None
) -> tuple[str, str]:
    """A new session for `user`: (cookie token, CSRF token). A session the browser held before
    is ended, so a token planted before sign-in is worthless after it (no session fixation)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with store.session() as session:
        if replaces:
            old = session.get(WebSessionRow, _digest(replaces))
            if old is not None:
                session.delete(old)
        session.add(
            WebSessionRow(
                id=_digest(token),
                user_id=user.id,
                csrf=csrf,
                expires_at=_now() + SESSION_TTL,
                ip=ip,
            )
        )
        audit(
            session,
            action="session.start",
            subject=user.email,
            details={},
            actor=Actor(
                name=user.email,
                member_id=user.member_id,
                member_kind=None,
                role=Role(user.role),
                user_id=user.id,
                source=ip,
            ),
            member_id=user.member_id,
        )
    return token, csrf


def resolve_session(store: Store, token: str) -> SignedIn | None:
    if not token or len(token) > 200:
        return None
    with store.session() as session:
        row = session.get(WebSessionRow, _digest(token))
        if row is None:
            return None
        if as_utc(row.expires_at) <= _now():
            session.delete(row)
            return None
        return _signed_in(session, row.user_id, csrf=row.csrf)


def end_session(store: Store, token: str) -> None:
    with store.session() as session:
        row = session.get(WebSessionRow, _digest(token))
        if row is not None:
            session.delete(row)


def _signed_in(
    session: Session, user_id: int, *, csrf: str | None = None, key: ApiKeyRow | None = None
) -> SignedIn | None:
    user = session.get(UserRow, user_id)
    if user is None or not user.active:
        return None
    member = session.get(MemberRow, user.member_id)
    if member is None or not member.active:
        return None
    return SignedIn(user=user, member=member, csrf=csrf, key=key)


# API keys ------------------------------------------------------------------------------------


def create_api_key(
    store: Store, user_id: int, *, name: str, scope: str, actor: Actor
) -> tuple[ApiKeyRow, str]:
    """A new key for the user: (its row, the whole key). The whole key is never stored."""
    try:
        key_scope = Scope(scope)
    except ValueError:
        raise AccountError(f"scope {scope!r} is not known: use 'read' or 'write'") from None
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("give the key a name of 1 to 200 characters, e.g. 'nightly upload'")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    whole = f"{KEY_PREFIX}{prefix}_{secret}"
    with store.session() as session:
        user = session.get(UserRow, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        row = ApiKeyRow(
            user_id=user_id,
            prefix=prefix,
            secret_hash=_digest(whole),
            name=name,
            scope=key_scope.value,
        )
        session.add(row)
        session.flush()
        audit(
            session,
            action="key.create",
            subject=f"key:{prefix}",
            details={"name": name, "scope": row.scope, "user": user.email},
            actor=actor,
            member_id=user.member_id,
        )
    return row, whole


def resolve_api_key(store: Store, whole: str) -> SignedIn | None:
    """Who holds this key, if it is valid and not revoked; records when it was last used."""
    if not whole.startswith(KEY_PREFIX) or len(whole) > 200:
        return None
    prefix, _, secret = whole.removeprefix(KEY_PREFIX).partition("_")
    if not secret:
        return None
    with store.session() as session:
        row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, _digest(whole)):
            return None
        now = _now()
        if row.last_used_at is None or now - as_utc(row.last_used_at) > LAST_USED_RESOLUTION:
            row.last_used_at = now
        return _signed_in(session, row.user_id, key=row)


def revoke_api_key(store: Store, key_id: int, *, actor: Actor) -> ApiKeyRow:
    with store.session() as session:
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            raise NotFound(f"no API key {key_id}")
        user = session.get(UserRow, row.user_id)
        if row.revoked_at is None:
            row.revoked_at = _now()
            audit(
                session,
                action="key.revoke",
                subject=f"key:{row.prefix}",
                details={"name": row.name},
                actor=actor,
                member_id=user.member_id if user is not None else None,
            )
    return row
