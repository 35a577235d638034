"""Invoices, their lines, the yearly number counter and the account balance ledger.

Amounts are integer cents in the invoice's currency. A finalized invoice (any status
but draft) is immutable: its amounts, number and lines never change. The services
refuse it, and the database refuses it too (triggers created by migration 0002), so a
stray ``UPDATE`` cannot rewrite an issued invoice. Only the payment state (status,
paid_at, attempts, payment reference, voided/refunded dates), the stored PDF and the
receipt timestamp may change after finalization.

The account balance is an append-only ledger; the database refuses ``UPDATE`` and
``DELETE`` on its rows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from invoices.errors import AccountBalanceAppendOnly, InvoiceImmutable
from workspaces.models import Workspace


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("invoice status", "Draft")
    OPEN = "open", pgettext_lazy("invoice status", "Open")
    PAID = "paid", pgettext_lazy("invoice status", "Paid")
    FAILED = "failed", pgettext_lazy("invoice status", "Failed")
    VOID = "void", pgettext_lazy("invoice status", "Void")
    REFUNDED = "refunded", pgettext_lazy("invoice status", "Refunded")
    #: A credit note, its amount put on the account balance at issue.
    CREDITED = "credited", pgettext_lazy("invoice status", "Credited")
    #: A credit note that cancels an unpaid invoice: nothing to give back.
    ISSUED = "issued", pgettext_lazy("invoice status", "Issued")


#: An invoice that can still be paid (charged, retried, marked paid) or voided.
PAYABLE_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.FAILED)


class DocumentType(models.TextChoices):
    """An invoice asks for money; a credit note (avoir) gives it back: a document that nets
    below zero, numbered in its own series (docs/rules/invoices.md#credit-notes)."""

    INVOICE = "invoice", pgettext_lazy("invoice", "Invoice")
    CREDIT_NOTE = "credit_note", pgettext_lazy("invoice", "Credit note")


#: The number prefix of each document type's gap-free yearly series.
NUMBER_SERIES = {DocumentType.INVOICE: "INV", DocumentType.CREDIT_NOTE: "AV"}


class BillingReason(models.TextChoices):
    SUBSCRIPTION_CREATE = "subscription_create", _("New subscription")
    SUBSCRIPTION_CYCLE = "subscription_cycle", _("Renewal")
    PLAN_CHANGE = "plan_change", _("Plan change")
    ANNUAL_SWITCH = "annual_switch", _("Switch to annual billing")
    CUSTOMIZATION = "customization", _("Customization")
    SEAT_CHANGE = "seat_change", _("Seat change")
    MANUAL = "manual", _("Manual invoice")


class LineKind(models.TextChoices):
    PLAN = "plan", _("Plan")
    SEATS = "seats", _("Seats")
    SEAT_PRORATION = "seat_proration", _("Seat proration")
    PLAN_PRORATION = "plan_proration", _("Plan proration")
    EXTRA_CREDITS = "extra_credits", _("Extra credits")
    ADDON = "addon", _("Add-on")
    CREDIT = "credit", _("Credit")


class FractionUnit(models.TextChoices):
    """The unit a prorated line counts its fraction in (docs/rules/proration.md#fraction-rule)."""

    DAY = "day", _("days")
    MONTH = "month", _("months")


#: What a finalized invoice never changes. Migration 0002's trigger protects the same columns.
PROTECTED_FIELDS = (
    "workspace_id",
    "document_type",
    "corrects_id",
    "currency",
    "number",
    "language",
    "billing_reason",
    "source",
    "created_at",
    "issued_at",
    "due_at",
    "subtotal_cents",
    "vat_rate_bp",
    "vat_cents",
    "account_credit_applied_cents",
    "total_cents",
    "amount_due_cents",
    "reverse_charge",
    "seller_name",
    "seller_address",
    "seller_country",
    "seller_vat_number",
    "seller_siren",
    "buyer_name",
    "buyer_email",
    "buyer_country",
    "buyer_vat_number",
    "parties",
    "einvoice_profile",
)

#: The e-invoice a document is issued as: a Factur-X PDF/A-3 carrying the CII XML of the
#: EN 16931 profile (docs/rules/invoices.md#factur-x). Blank on documents issued before
#: Factur-X: they stay plain PDFs.
FACTURX_EN16931 = "factur-x:en16931"


def invoice_pdf_path(invoice: Invoice, filename: str) -> str:
    """``invoices/<workspace id>/INV-2026-000001.pdf``."""
    return f"invoices/{invoice.workspace_id}/{filename}"


class Invoice(models.Model):
    workspace = models.ForeignKey(
        Workspace, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("workspace")
    )
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    document_type = models.CharField(
        _("document type"), max_length=16, choices=DocumentType.choices, default=DocumentType.INVOICE
    )
    #: The invoice a credit note corrects (its money goes to the account balance).
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("corrected invoice"),
    )
    number = models.CharField(_("number"), max_length=32, null=True, blank=True, unique=True)
    language = models.CharField(_("language"), max_length=8, default=settings.LANGUAGE_CODE)
    billing_reason = models.CharField(_("billing reason"), max_length=32, choices=BillingReason.choices)
    source = models.CharField(
        _("idempotency source"),
        max_length=200,
        help_text=_("Idempotency key of what issued it, unique per workspace."),
    )

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    subtotal_cents = models.BigIntegerField(_("subtotal (cents)"), default=0)
    vat_rate_bp = models.PositiveIntegerField(_("VAT rate (basis points)"), default=0)
    vat_cents = models.BigIntegerField(_("VAT (cents)"), default=0)
    account_credit_applied_cents = models.BigIntegerField(_("account balance applied (cents)"), default=0)
    total_cents = models.BigIntegerField(_("total (cents)"), default=0)
    amount_due_cents = models.BigIntegerField(_("amount due (cents)"), default=0)
    reverse_charge = models.BooleanField(_("reverse charge"), default=False)

    # Who sold to whom, frozen at finalization (the legal document must not follow
    # later edits of the settings or of the workspace).
    seller_name = models.CharField(_("seller name"), max_length=200, blank=True)
    seller_address = models.TextField(_("seller address"), blank=True)
    seller_country = models.CharField(_("seller country"), max_length=2, blank=True)
    seller_vat_number = models.CharField(_("seller VAT number"), max_length=32, blank=True)
    seller_siren = models.CharField(_("seller SIREN"), max_length=32, blank=True)
    buyer_name = models.CharField(_("buyer name"), max_length=200, blank=True)
    buyer_email = models.EmailField(_("buyer email"), blank=True)
    buyer_country = models.CharField(_("buyer country"), max_length=2, blank=True)
    buyer_vat_number = models.CharField(_("buyer VAT number"), max_length=32, blank=True)
    #: The rest of both parties' legal details, as issued (docs/rules/invoices.md#mandatory-mentions):
    #: ``{"seller": {legal_form, share_capital_cents, rcs, street, postal_code, city},
    #: "buyer": {street, postal_code, city, registration_number, purchase_order}}``.
    #: Empty on documents issued before they were recorded.
    parties = models.JSONField(_("legal details of the parties"), default=dict, blank=True, db_default={})
    #: ``factur-x:en16931`` for a Factur-X document; blank for a plain PDF (issued before).
    einvoice_profile = models.CharField(
        _("e-invoice profile"), max_length=32, blank=True, default="", db_default=""
    )

    # Payment state: may change after finalization.
    attempt_count = models.PositiveIntegerField(
        _("failed payment attempts"), default=0, help_text=_("Failed payment attempts so far.")
    )
    # Dunning is per invoice (docs/rules/dunning.md): retries count from its own first failure.
    past_due_since = models.DateTimeField(
        _("past due since"), null=True, blank=True, help_text=_("Its first failed payment.")
    )
    next_payment_attempt_at = models.DateTimeField(_("next payment attempt"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=200, blank=True)
    payment_failure_message = models.TextField(_("payment failure message"), blank=True)
    pdf = models.FileField(_("PDF file"), upload_to=invoice_pdf_path, max_length=200, blank=True)
    #: The stored PDF's SHA-256 (hex), recorded with it; neither changes once set.
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, default="", db_default="")
    receipt_sent_at = models.DateTimeField(_("receipt sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ("-issued_at", "-id")
        constraints = (
            models.UniqueConstraint(fields=("workspace", "source"), name="invoice_unique_source"),
            models.CheckConstraint(
                condition=models.Q(status__in=InvoiceStatus.values), name="invoice_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=InvoiceStatus.DRAFT)
                | models.Q(number__isnull=False, issued_at__isnull=False),
                name="invoice_finalized_has_number",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_due_cents__gte=0, account_credit_applied_cents__gte=0),
                name="invoice_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(total_cents=models.F("subtotal_cents") + models.F("vat_cents"))
                & (
                    models.Q(
                        document_type=DocumentType.INVOICE,
                        total_cents__gte=0,
                        amount_due_cents=models.F("total_cents") - models.F("account_credit_applied_cents"),
                    )
                    | models.Q(
                        document_type=DocumentType.CREDIT_NOTE,
                        total_cents__lt=0,
                        amount_due_cents=0,
                        account_credit_applied_cents=0,
                    )
                ),
                name="invoice_totals_add_up",
            ),
        )
        indexes = (
            models.Index(fields=("workspace", "-issued_at"), name="invoice_ws_issued"),
            models.Index(
                fields=("next_payment_attempt_at",),
                name="invoice_retry_due",
                condition=models.Q(next_payment_attempt_at__isnull=False),
            ),
        )

    def __str__(self) -> str:
        return self.number or f"draft #{self.pk}"

    # Immutability in code: an invoice loaded finalized remembers its protected values
    # (see from_db) and refuses to save different ones; the database trigger refuses too.
    def save(self, *args: Any, **kwargs: Any) -> None:
        state: dict[str, Any] | None = getattr(self, "_finalized_state", None)
        if state is not None and (
            not self.is_finalized or any(self.__dict__.get(name) != value for name, value in state.items())
        ):
            raise InvoiceImmutable()
        super().save(*args, **kwargs)
        self._remember_finalized_state()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_finalized:
            raise InvoiceImmutable()
        return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Invoice:
        instance = super().from_db(db, field_names, values)
        instance._remember_finalized_state()
        return instance

    def _loaded_protected_values(self) -> dict[str, Any]:
        return {name: self.__dict__[name] for name in PROTECTED_FIELDS if name in self.__dict__}

    def _remember_finalized_state(self) -> None:
        self._finalized_state = self._loaded_protected_values() if self.is_finalized else None

    @property
    def is_finalized(self) -> bool:
        return self.status != InvoiceStatus.DRAFT

    @property
    def pdf_filename(self) -> str:
        return f"{self.number}.pdf"

    @property
    def xml_filename(self) -> str:
        return f"{self.number}.xml"

    @property
    def is_facturx(self) -> bool:
        return self.einvoice_profile == FACTURX_EN16931

    @property
    def receipt_filename(self) -> str:
        return f"{self.number}-receipt.pdf"


class BillingLanguage(models.TextChoices):
    FRENCH = "fr", _("French")
    ENGLISH = "en", _("English")


class BillingDetails(models.Model):
    """Who the workspace's documents are made out to, beyond its name, country, billing
    email and VAT number (kept on the workspace): read at each issue and copied onto the
    document, so a later change never alters an issued one
    (docs/rules/invoices.md#billing-details)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, primary_key=True, related_name="billing_details"
    )
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    #: The street lines, one per line.
    street = models.TextField(_("address"), blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    #: A French buyer's SIREN (9 digits) or SIRET (14 digits), digits only.
    registration_number = models.CharField(_("SIREN or SIRET"), max_length=14, blank=True)
    purchase_order = models.CharField(_("purchase order reference"), max_length=100, blank=True)
    #: More addresses that receive the documents, one per line.
    extra_emails = models.TextField(_("other billing emails"), blank=True)
    #: The language documents are issued in, fixed on each at issue.
    language = models.CharField(
        _("billing language"), max_length=8, choices=BillingLanguage.choices, default=BillingLanguage.FRENCH
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "billing details"
        constraints = (
            models.CheckConstraint(
                condition=models.Q(language__in=BillingLanguage.values), name="billing_details_language_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(registration_number="")
                | models.Q(registration_number__regex=r"^([0-9]{9}|[0-9]{14})$"),
                name="billing_details_registration_digits",
            ),
        )

    def __str__(self) -> str:
        return self.legal_name or str(self.workspace_id)

    @property
    def extra_email_list(self) -> list[str]:
        return [line.strip() for line in self.extra_emails.splitlines() if line.strip()]


class InvoiceLine(models.Model):
    """A line stores its kind and its numbers; its words are written from them for each
    reader by :mod:`invoices.line_words` (docs/rules/invoices.md#line-words):
    ``quantity × unit_amount_cents × fraction_numerator / fraction_denominator``,
    rounded half-up to the cent, is ``amount_cents``."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=32, choices=LineKind.choices)
    description = models.TextField(
        blank=True,
        help_text=_("The words stored by a line issued before its words were written from its numbers."),
    )
    quantity = models.IntegerField(_("quantity"), default=1, help_text=_("Negative for credits."))
    unit_amount_cents = models.BigIntegerField(_("unit amount (cents)"), null=True, blank=True)
    #: The part of the period billed, ``fraction_numerator / fraction_denominator`` in
    #: ``fraction_unit`` (5/31 days, 10/12 months); none for a whole period.
    fraction_numerator = models.PositiveIntegerField(_("fraction numerator"), null=True, blank=True)
    fraction_denominator = models.PositiveIntegerField(_("fraction denominator"), null=True, blank=True)
    fraction_unit = models.CharField(
        _("fraction unit"), max_length=8, choices=FractionUnit.choices, blank=True, default="", db_default=""
    )
    #: What the line bills, by name: the plan or the add-on. None on a line issued before
    #: lines were named, whose stored words are shown instead.
    subject = models.CharField(max_length=200, null=True, blank=True)
    #: The holder of the seat a seat line bills.
    seat_email = models.CharField(max_length=254, blank=True, default="", db_default="")
    amount_cents = models.BigIntegerField(_("amount (cents)"), help_text=_("Negative for credits."))
    period_start = models.DateTimeField(_("period start"), null=True, blank=True)
    period_end = models.DateTimeField(_("period end"), null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ("invoice", "position", "id")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(kind__in=LineKind.values), name="invoice_line_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__isnull=True)
                | models.Q(period_end__isnull=True)
                | models.Q(period_end__gte=models.F("period_start")),
                name="invoice_line_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    fraction_numerator__isnull=True, fraction_denominator__isnull=True, fraction_unit=""
                )
                | models.Q(
                    fraction_denominator__gt=0,
                    fraction_numerator__lte=models.F("fraction_denominator"),
                    fraction_unit__in=FractionUnit.values,
                ),
                name="invoice_line_fraction_valid",
            ),
        )

    def __str__(self) -> str:
        return self.description or f"{self.kind} {self.subject or ''}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_finalized()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_finalized()
        return super().delete(*args, **kwargs)

    def _refuse_if_finalized(self) -> None:
        if (
            self.invoice_id is not None
            and Invoice.objects.filter(pk=self.invoice_id).exclude(status=InvoiceStatus.DRAFT).exists()
        ):
            raise InvoiceImmutable()


class InvoiceNumberCounter(models.Model):
    """The last number issued in a series (``INV``, ``AV``) and calendar year; its row is
    locked while a document is numbered."""

    series = models.CharField(max_length=8, default="INV")
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("series", "year"), name="invoice_counter_series_year"),
        )

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last_number}"


class AccountBalanceEntry(models.Model):
    """One movement of a workspace's money credit: + credited, − applied to an invoice."""

    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.PROTECT,
        related_name="account_balance_entries",
        verbose_name=_("workspace"),
    )
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(_("idempotency source"), max_length=200)
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account_balance_entries",
        verbose_name=_("invoice"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    balance_after_cents = models.BigIntegerField(_("balance after (cents)"))

    class Meta:
        verbose_name = _("account balance entry")
        verbose_name_plural = _("account balance entries")
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(fields=("workspace", "source"), name="account_balance_unique_source"),
            models.CheckConstraint(condition=~models.Q(amount_cents=0), name="account_balance_not_zero"),
            models.CheckConstraint(
                condition=models.Q(balance_after_cents__gte=0), name="account_balance_not_negative"
            ),
        )

    def __str__(self) -> str:
        return f"{self.workspace} {self.amount_cents:+d} {self.currency} ({self.reason})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AccountBalanceAppendOnly()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AccountBalanceAppendOnly()


class ChargeStatus(models.TextChoices):
    """Where one charge attempt stands (the gateway's states, docs/rules/payments.md#charging-an-invoice).
    ``pending``: asked, no answer yet. Succeeded, failed and canceled are final."""

    PENDING = "pending", _("Pending")
    REQUIRES_ACTION = "requires_action", _("Awaiting authentication")
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


#: A charge never moves back from these (docs/rules/payments.md#webhooks).
FINAL_CHARGE_STATUSES = (ChargeStatus.SUCCEEDED, ChargeStatus.FAILED, ChargeStatus.CANCELED)


class Charge(models.Model):
    """One attempt to collect an invoice through the payment gateway, keyed like the
    gateway's request (``invoice:<id>:attempt:<n>``), so a retried request and a late
    webhook find the same row and apply its outcome once."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.PROTECT, related_name="charges", verbose_name=_("workspace")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="charges", verbose_name=_("invoice")
    )
    attempt = models.PositiveIntegerField(_("attempt"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    #: The gateway's id of the charge (Stripe: the PaymentIntent), once it answered.
    reference = models.CharField(_("gateway reference"), max_length=200, blank=True, db_index=True)
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=16, choices=ChargeStatus.choices, default=ChargeStatus.PENDING
    )
    failure_message = models.CharField(_("failure message"), max_length=500, blank=True)
    refunded_cents = models.PositiveIntegerField(_("refunded (cents)"), default=0)
    #: For a charge awaiting authentication: the payer was sent the link.
    action_requested_at = models.DateTimeField(_("authentication requested at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded_cents__lte=models.F("amount_cents")),
                name="charge_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_CHARGE_STATUSES
