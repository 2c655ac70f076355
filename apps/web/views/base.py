"""What every page shares: who is signed in, for which organization and in which role,
and the refusal, with its reason, of what that role may not do.

A page view is wrapped in ``member_required`` (functions) or inherits
``MemberRequiredMixin`` (classes). Both send a signed-out person to the login page and
back (``?next=``), put the ``Member`` on ``request.member``, and refuse with a 403 page
that says why any request other than GET/HEAD/OPTIONS when the role lacks the view's
write capability. Inside a view, ``refuse_unless`` checks a capability by hand (a page
that reads with one capability and acts with two). Service errors raised by a form's
action go back onto the form with ``add_service_error``, next to their fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.tenancy import selectors as tenancy
from apps.tenancy.models import Organization
from audit_platform.errors import ServiceError
from audit_platform.principal import Principal
from audit_platform.roles import ROLE_CAPABILITIES, Capability, Role

# The session key of the organization a person in several acts for.
SESSION_ORGANIZATION = "web_organization_id"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# How a refusal names what the role lacks.
CAPABILITY_WORDS: dict[Capability, str] = {
    Capability.READ: "reading the organization's records",
    Capability.RECORD: "putting lifecycle events on the record",
    Capability.COMPLY: "compliance decisions: classification, risks, assessments, "
    "approvals and incidents",
    Capability.VERIFY: "verifying the ledger and exporting evidence",
    Capability.ADMINISTER: "administering members, API keys and signing keys",
    Capability.SEE_MEMBERS: "seeing who the members are",
}


class Refused(PermissionDenied):
    """A refusal whose message the 403 page shows the person as the reason."""


@dataclass(frozen=True)
class Member:
    """A signed-in person acting for one of their organizations."""

    organization: Organization
    role: str
    principal: Principal
    # Every organization the person belongs to, for the switcher.
    organizations: tuple[Organization, ...]

    def can(self, capability: Capability) -> bool:
        return self.principal.can(capability)

    @property
    def capabilities(self) -> frozenset[str]:
        """The role's capabilities by name, for templates: ``{% if "comply" in caps %}``."""
        return frozenset(str(c) for c in ROLE_CAPABILITIES.get(self.role, frozenset()))

    @property
    def role_label(self) -> str:
        return Role(self.role).label


def member_of(request: HttpRequest) -> Member | None:
    """The signed-in person's membership for the organization chosen in the session
    (their first, by name, until they choose); None for a person with none. Read once
    per request."""
    if hasattr(request, "_web_member"):
        return request._web_member
    member = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        memberships = list(tenancy.memberships_of_user(user=user))
        if memberships:
            chosen = request.session.get(SESSION_ORGANIZATION)
            current = next(
                (m for m in memberships if str(m.organization_id) == chosen), memberships[0]
            )
            member = Member(
                organization=current.organization,
                role=current.role,
                principal=Principal.for_user(
                    organization=current.organization,
                    user=user,
                    role=current.role,
                    # OTPMiddleware's: whether this session logged in with a code.
                    second_factor=bool(getattr(user, "is_verified", lambda: False)()),
                ),
                organizations=tuple(m.organization for m in memberships),
            )
    request._web_member = member
    return member


def refuse_unless(request: HttpRequest, capability: Capability) -> Member:
    """The request's member, or a 403 page saying why: no organization, or a role
    without ``capability``."""
    member = member_of(request)
    if member is None:
        raise Refused(
            "Your account belongs to no organization, so there is nothing here for it to "
            "see or do. Ask an owner of your organization to invite you."
        )
    if not member.can(capability):
        raise Refused(
            f"Your role in {member.organization.name}, {member.role_label}, may not do this: "
            f"it needs the '{capability}' capability ({CAPABILITY_WORDS[capability]}), "
            "which owners, and for compliance decisions compliance officers, hold."
        )
    return member


def _check(request: HttpRequest, read: Capability, write: Capability | None) -> None:
    request.member = refuse_unless(request, read)
    if request.method not in SAFE_METHODS:
        if write is None:
            raise Refused("This page only shows; it changes nothing.")
        refuse_unless(request, write)


def member_required(
    view: Callable[..., HttpResponse] | None = None,
    *,
    read: Capability = Capability.READ,
    write: Capability | None = None,
) -> Any:
    """``@member_required`` or ``@member_required(write=Capability.COMPLY)``: signed in,
    a member whose role holds ``read``, and for a write (any method but GET, HEAD and
    OPTIONS) ``write`` as well; a page with no ``write`` refuses every write."""

    def decorate(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            _check(request, read, write)
            return func(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate(view) if view is not None else decorate


class MemberRequiredMixin(LoginRequiredMixin):
    """``member_required`` for class-based views; ``self.member`` is the Member."""

    read_capability: Capability = Capability.READ
    write_capability: Capability | None = None
    member: Member

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        _check(request, self.read_capability, self.write_capability)
        self.member = request.member
        return super().dispatch(request, *args, **kwargs)


def add_service_error(form: forms.Form, error: ServiceError) -> None:
    """Puts a service's refusal on the form: each named field's messages next to that
    field (when the form has it), the message itself at the top."""
    for name, messages in error.fields.items():
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
    form.add_error(None, error.message)


def one_of(records: QuerySet[Any], pk: Any) -> Any | None:
    """The record of ``records`` with primary key ``pk`` as a URL gives it, or None, also
    for text that could never be a key (a mistyped link reads as missing, not as an
    error)."""
    try:
        return records.filter(pk=pk).first()
    except (ValueError, ValidationError):
        return None


def safe_next(request: HttpRequest, fallback: str = "web:home") -> str:
    """The ``next`` the request names when it is a path of this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(fallback)


@require_POST
@login_required
def organization_switch(request: HttpRequest) -> HttpResponse:
    """Acts for another of the person's organizations from now on in this session."""
    wanted = request.POST.get("organization", "")
    # Compared as text: the session keeps it as text whatever the type of the keys.
    chosen = next(
        (
            m.organization_id
            for m in tenancy.memberships_of_user(user=request.user)
            if str(m.organization_id) == wanted
        ),
        None,
    )
    if chosen is None:
        raise Refused("You are not a member of that organization.")
    request.session[SESSION_ORGANIZATION] = str(chosen)
    return HttpResponseRedirect(safe_next(request))
