"""Roles and what each may do: the one place that decides who may see and change what."""

from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    """A staff member's role."""

    AGENT = "agent"
    DIVISION_REVIEWER = "division_reviewer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """Return the role's name as people say it."""
        return self.value.replace("_", " ").capitalize()


class Permission(str, Enum):
    """Something a role may do."""

    VIEW_CASES = "view_cases"
    HANDLE_CASES = "handle_cases"  # acknowledge, assign, note, contact, actions, reply, reroute, resolve, close
    ESCALATE = "escalate"
    REOPEN = "reopen"
    VIEW_ANALYTICS = "view_analytics"
    EXPORT = "export"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"


_HANDLER = {Permission.VIEW_CASES, Permission.HANDLE_CASES, Permission.VIEW_ANALYTICS, Permission.EXPORT}
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_HANDLER | {Permission.ESCALATE}),
    # Reviewers act only on their own divisions' cases: see `can_see_division`.
    Role.DIVISION_REVIEWER: frozenset(_HANDLER),
    Role.SUPERVISOR: frozenset(set(Permission) - {Permission.MANAGE_USERS}),
    Role.ADMIN: frozenset(Permission),
}


def allows(role: Role, permission: Permission) -> bool:
    """Return True when `role` grants `permission`."""
    return permission in GRANTS[role]


def is_division_scoped(role: Role) -> bool:
    """Return True when the role sees only the cases of its own divisions."""
    return role is Role.DIVISION_REVIEWER


def can_see_division(role: Role, own_divisions: list[str], division: str | None) -> bool:
    """Return True when a staff member with `role` and `own_divisions` may see a case of `division`."""
    if not is_division_scoped(role):
        return True
    return division is not None and division in own_divisions
