"""Who is asking: the person behind a web request or an export, and what they may see.

Every read and write made for a person takes a :class:`Viewer` and filters by it in SQL, so the web
routes, the audio endpoint, the exports and the dispute handling share one access rule:

- ``admin`` and ``qa`` see every call;
- ``supervisor`` sees the calls of the teams in ``teams``;
- ``agent`` sees the calls of ``agent_id`` only.

Personal data is hidden from everyone (placeholders in the text, silence in the recording) except the holders of
the ``pii:clear`` permission (:data:`PII_CLEAR`), who may hear and read a call they see in clear, every time
audited. Which roles hold it is a setting (the web app's ``pii_clear_roles``, default :data:`PII_CLEAR_ROLES`).

A resource outside the viewer's scope is reported exactly like a missing one (:class:`NotFound`), so a
guessed id tells an agent nothing about another agent's calls.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum


class UserRole(StrEnum):
    ADMIN = "admin"
    QA = "qa"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


PII_CLEAR = "pii:clear"  # the permission's name, as error messages and the docs say it
PII_CLEAR_ROLES: tuple[str, ...] = (UserRole.ADMIN.value,)  # who holds it unless configured otherwise


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person.

    Attributes:
        user_id: the login name.
        role: what they are.
        agent_id: for an agent, the agent id whose calls they see.
        teams: for a supervisor, the teams whose calls they see.
    """

    user_id: str
    role: UserRole
    agent_id: str | None = None
    teams: tuple[str, ...] = ()

    @property
    def sees_everything(self) -> bool:
        return self.role in (UserRole.ADMIN, UserRole.QA)

    @property
    def reviews(self) -> bool:
        """Whether they may confirm or overturn verdicts and answer disputes."""
        return self.role in (UserRole.ADMIN, UserRole.QA, UserRole.SUPERVISOR)

    def has_pii_clear(self, roles: Collection[str] = PII_CLEAR_ROLES) -> bool:
        """Whether they hold ``pii:clear`` (hear and read personal data in clear) when ``roles`` hold it."""
        return self.role.value in roles

    @property
    def audits_pii(self) -> bool:
        """Whether they may read the audit of clear reads (admins only: it says who heard which call)."""
        return self.role is UserRole.ADMIN

    def call_filter(self, alias: str = "c") -> tuple[str, list[object]]:
        """A SQL condition on the ``calls`` table (aliased ``alias``) and its parameters.

        Returns:
            ``("TRUE", [])`` for admin and QA; the team or agent condition otherwise. A supervisor with no
            team and an agent with no agent id see nothing.
        """
        if self.sees_everything:
            return "TRUE", []
        if self.role is UserRole.SUPERVISOR:
            if not self.teams:
                return "FALSE", []
            marks = ", ".join("?" for _ in self.teams)
            return f"{alias}.team IN ({marks})", list(self.teams)
        if self.agent_id is None:
            return "FALSE", []
        return f"{alias}.agent_id = ?", [self.agent_id]

    def may_see(self, agent_id: str | None, team: str | None) -> bool:
        """The same rule as :meth:`call_filter`, for one call's agent and team."""
        if self.sees_everything:
            return True
        if self.role is UserRole.SUPERVISOR:
            return team is not None and team in self.teams
        return self.agent_id is not None and agent_id == self.agent_id
