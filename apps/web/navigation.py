"""The main navigation: one entry per area, shown to the roles whose capability lets
them use it. An area's pages add their entry here, in the order people look for them."""

from __future__ import annotations

from dataclasses import dataclass

from audit_platform.roles import Capability


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    capability: Capability = Capability.READ


NAV: tuple[NavItem, ...] = (
    NavItem("Dashboard", "web:home"),
    NavItem("AI systems", "web:systems"),
    NavItem("Approvals", "web:approvals"),
    NavItem("Incidents", "web:incidents"),
    NavItem("Fleet", "web:fleet"),
    NavItem("Ledger", "web:ledger"),
    NavItem("Reports", "web:reports"),
    NavItem("Members", "web:members", Capability.SEE_MEMBERS),
    NavItem("API keys", "web:api-keys", Capability.ADMINISTER),
)
