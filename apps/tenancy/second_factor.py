"""A person's second factor: a TOTP authenticator (django-otp), set up once and then
asked for at every login.

Owners, compliance officers and ML engineers need it for the acts the Act holds a
person to: approving a deployment, closing an incident and signing a test report
(``require_second_factor``, which the compliance services call). A second factor
belongs to the person's account, not to an organization's record, so setting one up
writes no ledger entry (the ledger holds no personal data)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import segno
from django.db import transaction
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit_platform.errors import InvalidInput
from audit_platform.roles import ROLE_CAPABILITIES, TEST_REPORT_SIGNER_ROLES, Capability

DEVICE_NAME = "authenticator"
# How authenticator apps name the account.
ISSUER = "AI audit trail"


def totp_device_confirmed(*, user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def totp_device_pending(*, user: Any) -> TOTPDevice:
    """The person's authenticator being set up: the same secret on every visit to the
    set-up page until they confirm it with a code."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, user: Any, token: str) -> TOTPDevice:
    """Confirms the pending authenticator with a code it shows; the person's earlier
    authenticator, if any, stops working."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise InvalidInput(
                "There is no authenticator being set up: open the set-up page again.",
                fields={"code": ["Open the set-up page again."]},
            )
        if not device.verify_token(token.strip()):
            raise InvalidInput(
                "That code is not the one your authenticator shows now.",
                fields={"code": ["Wrong or expired code: type the one shown now."]},
            )
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return device


def totp_check(*, user: Any, token: str) -> TOTPDevice | None:
    """The person's confirmed device that accepts this code, or None."""
    device = match_token(user, token.strip())
    return device if isinstance(device, TOTPDevice) and device.confirmed else None


def role_needs_second_factor(*, role: str) -> bool:
    """Roles that approve deployments and close incidents (they hold COMPLY) or sign
    test reports."""
    return (
        Capability.COMPLY in ROLE_CAPABILITIES.get(role, frozenset())
        or role in TEST_REPORT_SIGNER_ROLES
    )


def totp_secret_words(*, device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(*, device: TOTPDevice, account: str) -> str:
    """The device's otpauth:// link as an inline SVG QR code (no script, no style)."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    label = quote(f"{ISSUER}:{account}")
    url = (
        f"otpauth://totp/{label}?secret={secret}&issuer={quote(ISSUER)}"
        f"&digits={device.digits}&period={device.step}"
    )
    return segno.make(url, error="m").svg_inline(scale=4, title="QR code")
