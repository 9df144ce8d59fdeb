from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payroll import bank_layouts
from workforce import bounds
from workforce.models import Park, SkillLevel, Worker

RATE_CARD_RANGE = _("A rate card must end after it starts.")
UNITS_POSITIVE = _("Units must be a positive whole number.")
ACCURACY_RANGE = _("Accuracy is a percentage from 0.00 to 100.00.")
TIER_RANGE = _("A quality tier's multiplier must not be negative.")
ADJUSTMENT_POSITIVE = _(
    "The amount of an adjustment is positive; its kind says whether it adds or deducts."
)
ADJUSTMENT_REASON = _("Every adjustment needs a reason.")


class Client(models.Model):
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")

    def __str__(self):
        return self.name


class Project(models.Model):
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="projects"
    )
    park = models.ForeignKey(Park, on_delete=models.PROTECT, related_name="projects")
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["park", "code"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.UniqueConstraint(fields=["park", "code"], name="project_unique_code")
        ]

    def __str__(self):
        return self.name


class QualityTier(models.Model):
    """One band of R4.2: accuracy >= min_accuracy pays ``multiplier``."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="quality_tiers"
    )
    min_accuracy = models.DecimalField(
        _("minimum accuracy"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    multiplier = models.DecimalField(
        _("multiplier"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    label = models.SlugField(_("label"), max_length=30)

    class Meta:
        ordering = ["project", "-min_accuracy"]
        verbose_name = _("quality tier")
        verbose_name_plural = _("quality tiers")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "min_accuracy"], name="tier_unique_bound"
            ),
            models.CheckConstraint(
                condition=Q(multiplier__gte=0), name="tier_multiplier_not_negative"
            ),
        ]

    def __str__(self):
        return f"≥{self.min_accuracy} × {self.multiplier}"


class TaskType(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=30)

    class Meta:
        ordering = ["code"]
        verbose_name = _("task type")
        verbose_name_plural = _("task types")

    def __str__(self):
        return self.name


class RateCard(models.Model):
    """R3.1: the price of one unit, valid on [effective_from, effective_to)."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="rate_cards"
    )
    task_type = models.ForeignKey(
        TaskType, on_delete=models.PROTECT, related_name="rate_cards"
    )
    skill_level = models.CharField(
        _("skill level"), max_length=10, choices=SkillLevel.choices
    )
    rate = models.DecimalField(
        _("rate"),
        max_digits=12,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
    )
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["project", "task_type", "skill_level", "effective_from"]
        verbose_name = _("rate card")
        verbose_name_plural = _("rate cards")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "task_type", "skill_level", "effective_from"],
                name="rate_card_unique_start",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gt=F("effective_from")),
                name="rate_card_interval_positive",
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="rate_not_negative"),
        ]

    def __str__(self):
        return f"{self.project_id}/{self.task_type_id}/{self.skill_level} {self.rate}"

    def clean(self):
        if (
            self.effective_to
            and self.effective_from
            and self.effective_to <= self.effective_from
        ):
            raise ValidationError({"effective_to": RATE_CARD_RANGE})


class _ParkFromProject(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        missing = {o.project_id for o in objs if o.park_id is None}
        if missing:
            parks = dict(
                Project.objects.filter(pk__in=missing).values_list("pk", "park_id")
            )
            for obj in objs:
                if obj.park_id is None:
                    obj.park_id = parks.get(obj.project_id)
        return super().bulk_create(objs, *args, **kwargs)


class ParkOfItsOwner(models.Model):
    """A row whose ``park`` follows from another of its fields (``_fill_park``),
    kept so that uniqueness can be per park. ``park`` is in no form, but always
    known: it is filled before validation and its constraints are checked (a
    form that leaves it out would otherwise skip the unique check)."""

    class Meta:
        abstract = True

    def _fill_park(self):
        raise NotImplementedError

    def clean_fields(self, exclude=None):
        self._fill_park()
        super().clean_fields(exclude)

    def validate_constraints(self, exclude=None):
        self._fill_park()
        super().validate_constraints(exclude=set(exclude or ()) - {"park"})


class WorkRecord(ParkOfItsOwner):
    """Accepted work: ``units`` of a task type on a project on one day (R4.1).

    ``park`` is the project's, kept on the record so that external ids are
    unique per park: a park's import never meets another park's ids."""

    # The (worker, work_date) index serves lookups by worker; no second index.
    worker = models.ForeignKey(
        Worker, on_delete=models.PROTECT, related_name="records", db_index=False
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="records"
    )
    task_type = models.ForeignKey(
        TaskType, on_delete=models.PROTECT, related_name="records"
    )
    work_date = models.DateField(_("work date"))
    units = models.PositiveIntegerField(
        _("units"),
        validators=[
            MinValueValidator(1, message=UNITS_POSITIVE),
            MaxValueValidator(
                bounds.MAX_UNITS - 1,
                message=bounds.UNITS_VALIDATOR_MESSAGE,
            ),
        ],
    )
    accuracy = models.DecimalField(
        _("accuracy"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal("0"), message=ACCURACY_RANGE),
            MaxValueValidator(Decimal("100"), message=ACCURACY_RANGE),
        ],
    )
    source = models.CharField(_("source"), max_length=30, default="manual")
    external_id = models.CharField(_("external id"), max_length=100)
    # The project's park (filled on save); the unique constraint's index
    # serves lookups by park.
    park = models.ForeignKey(
        Park,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = _ParkFromProject.as_manager()

    class Meta:
        ordering = ["work_date", "id"]
        verbose_name = _("work record")
        verbose_name_plural = _("work records")
        constraints = [
            models.UniqueConstraint(
                fields=["park", "source", "external_id"],
                name="record_unique_park_external_id",
            ),
            models.CheckConstraint(
                condition=Q(units__gte=1), name="record_units_positive"
            ),
            models.CheckConstraint(
                condition=Q(accuracy__isnull=True)
                | (Q(accuracy__gte=0) & Q(accuracy__lte=100)),
                name="record_accuracy_range",
            ),
        ]
        indexes = [
            models.Index(fields=["work_date", "worker"]),
            models.Index(fields=["worker", "work_date"]),
        ]

    def __str__(self):
        return f"{self.source}:{self.external_id}"

    def save(self, *args, **kwargs):
        self._fill_park()
        super().save(*args, **kwargs)

    def _fill_park(self):
        if self.park_id is None and self.project_id is not None:
            self.park_id = Project.objects.values_list("park_id", flat=True).get(
                pk=self.project_id
            )


class AdjustmentKind(models.TextChoices):
    BONUS = "bonus", _("bonus")
    ALLOWANCE = "allowance", _("allowance")
    DEDUCTION = "deduction", _("deduction")


class PeriodStatus(models.TextChoices):
    OPEN = "open", _("open")
    CALCULATED = "calculated", _("calculated")
    APPROVED = "approved", _("approved")
    PAID = "paid", _("paid")


LOCKED_STATUSES = (PeriodStatus.APPROVED, PeriodStatus.PAID)


class PayPeriod(models.Model):
    """R1: a calendar month of one park, moving open → calculated → approved → paid."""

    park = models.ForeignKey(Park, on_delete=models.PROTECT, related_name="periods")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=PeriodStatus.choices,
        default=PeriodStatus.OPEN,
    )
    # Records created up to this moment belong to the calculation (R13.3).
    snapshot_at = models.DateTimeField(_("calculated up to"), null=True, blank=True)
    calculated_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    error_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["park", "-month"]
        verbose_name = _("pay period")
        verbose_name_plural = _("pay periods")
        constraints = [
            models.UniqueConstraint(
                fields=["park", "month"], name="period_unique_month"
            ),
            models.CheckConstraint(
                condition=Q(month__day=1), name="period_month_first_day"
            ),
        ]

    def __str__(self):
        return f"{self.park.code} {self.month:%Y-%m}"

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def locked(self) -> bool:
        return self.status in LOCKED_STATUSES


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class PayrollRun(models.Model):
    period = models.ForeignKey(PayPeriod, on_delete=models.CASCADE, related_name="runs")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    snapshot_at = models.DateTimeField()
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    workers_total = models.PositiveIntegerField(default=0)
    workers_done = models.PositiveIntegerField(default=0)
    payslip_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payroll run")
        verbose_name_plural = _("payroll runs")
        constraints = [
            # Only one run per period at a time, enforced by the database.
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(status__in=["queued", "running"]),
                name="run_one_active_per_period",
            ),
        ]

    def __str__(self):
        return f"{self.period} #{self.pk} {self.status}"

    @property
    def progress(self) -> int:
        if not self.workers_total:
            return 100 if self.status == RunStatus.DONE else 0
        return int(100 * self.workers_done / self.workers_total)


class RunChunk(models.Model):
    """One slice of a run's workers; done chunks are skipped on re-delivery."""

    run = models.ForeignKey(PayrollRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    worker_ids = models.JSONField()
    done = models.BooleanField(default=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="chunk_unique_index")
        ]

    def __str__(self):
        return f"{self.run_id}:{self.index}"


class Payslip(models.Model):
    """R14: one worker's pay for one period."""

    # Looked up through the (period, worker) constraint's index.
    period = models.ForeignKey(
        PayPeriod, on_delete=models.CASCADE, related_name="payslips", db_index=False
    )
    worker = models.ForeignKey(
        Worker, on_delete=models.PROTECT, related_name="payslips"
    )
    run = models.ForeignKey(
        PayrollRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    number = models.CharField(_("number"), max_length=40, unique=True)
    contract = models.CharField(_("contract"), max_length=12)
    skill_level = models.CharField(_("skill level"), max_length=10)
    minutes = models.PositiveIntegerField(_("minutes worked"))
    units = models.PositiveIntegerField(_("units"), default=0)
    accuracy = models.DecimalField(
        _("accuracy"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    piece_pay = models.DecimalField(max_digits=12, decimal_places=2)
    topup = models.DecimalField(max_digits=12, decimal_places=2)
    bonuses = models.DecimalField(max_digits=12, decimal_places=2)
    allowances = models.DecimalField(max_digits=12, decimal_places=2)
    taxable = models.DecimalField(_("taxable total"), max_digits=12, decimal_places=2)
    social_insurance = models.DecimalField(max_digits=12, decimal_places=2)
    tax = models.DecimalField(max_digits=12, decimal_places=2)
    deductions = models.DecimalField(max_digits=12, decimal_places=2)
    carried_in = models.DecimalField(max_digits=12, decimal_places=2)
    carried_forward = models.DecimalField(max_digits=12, decimal_places=2)
    net = models.DecimalField(_("net pay"), max_digits=12, decimal_places=2)
    ytd_taxable = models.DecimalField(max_digits=14, decimal_places=2)
    ytd_social_insurance = models.DecimalField(max_digits=14, decimal_places=2)
    ytd_tax = models.DecimalField(max_digits=14, decimal_places=2)
    warnings = models.JSONField(default=list, blank=True)
    generated_at = models.DateTimeField()
    pdf = models.FileField(upload_to="payslips/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["period", "worker__employee_no"]
        verbose_name = _("payslip")
        verbose_name_plural = _("payslips")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "worker"], name="payslip_unique_worker_period"
            ),
            models.CheckConstraint(
                condition=Q(net__gte=0), name="payslip_net_not_negative"
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))


class PayslipLine(models.Model):
    # Looked up through the (payslip, position) constraint's index, so no index
    # of its own to keep up when a period's lines are written.
    payslip = models.ForeignKey(
        Payslip, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20)
    project = models.CharField(max_length=100, blank=True)
    task_type = models.CharField(max_length=100, blank=True)
    unit = models.CharField(max_length=30, blank=True)
    quantity = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    rate = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    multiplier = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True
    )
    tier = models.CharField(max_length=30, blank=True)
    ref_period = models.CharField(max_length=7, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # Of ``quantity``, the units not yet reviewed, paid at 1.00 (R4.3).
    pending_units = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["payslip", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["payslip", "position"], name="line_unique_position"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.amount}"


class Adjustment(models.Model):
    """R9: a bonus, allowance or deduction added to a worker's period."""

    period = models.ForeignKey(
        PayPeriod, on_delete=models.PROTECT, related_name="adjustments"
    )
    worker = models.ForeignKey(
        Worker, on_delete=models.PROTECT, related_name="adjustments"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AdjustmentKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period", "worker", "created_at", "id"]
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="adjustment_positive"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount}"

    def clean(self):
        errors = {}
        if self.amount is not None and self.amount <= 0:
            errors["amount"] = ADJUSTMENT_POSITIVE
        if not (self.reason or "").strip():
            errors["reason"] = ADJUSTMENT_REASON
        if errors:
            raise ValidationError(errors)


class IdentityTool(models.TextChoices):
    LABEL_STUDIO = "labelstudio", _("Label Studio")
    CVAT = "cvat", _("CVAT")


class WorkerIdentity(ParkOfItsOwner):
    """Who a worker is in an annotation tool: the tool's user id or e-mail.

    Imports find the worker of an annotation through this mapping. E-mails are
    kept lower-case, ids as the tool writes them (``"17"``).
    """

    tool = models.CharField(_("tool"), max_length=20, choices=IdentityTool.choices)
    external_user = models.CharField(_("user id or e-mail in the tool"), max_length=254)
    worker = models.ForeignKey(
        Worker, on_delete=models.CASCADE, related_name="identities"
    )
    # The worker's park (filled on save): each park maps its own tool users.
    park = models.ForeignKey(
        Park,
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["tool", "external_user"]
        verbose_name = _("worker identity")
        verbose_name_plural = _("worker identities")
        constraints = [
            models.UniqueConstraint(
                fields=["park", "tool", "external_user"],
                name="identity_unique_park_user",
            )
        ]

    def __str__(self):
        return f"{self.tool}:{self.external_user} → {self.worker_id}"

    def save(self, *args, **kwargs):
        self._fill_park()
        self.external_user = normalise_external_user(self.external_user)
        super().save(*args, **kwargs)

    def _fill_park(self):
        if self.worker_id is not None:
            self.park_id = Worker.objects.values_list("park_id", flat=True).get(
                pk=self.worker_id
            )

    def clean(self):
        # Before the unique check of full_clean(), so "A@x.cn" meets "a@x.cn".
        self.external_user = normalise_external_user(self.external_user or "")


def normalise_external_user(value) -> str:
    """The form an identity is stored and looked up in: trimmed, e-mails
    lower-case, numbers as plain digits (``17`` and ``"17"`` are one user)."""
    text = str(value).strip()
    return text.lower() if "@" in text else text


class ApiKey(models.Model):
    """An API key of a park integration. Only the SHA-256 of the key is kept
    (a key is 160 random bits, so a fast hash cannot be reversed by guessing);
    its first characters name it in lists. Revoked, never deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("login"),
    )
    prefix = models.CharField(_("prefix"), max_length=8)
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.prefix}…"


class CorrectionKind(models.TextChoices):
    VOID = "void", _("void")
    UNITS = "units", _("units")
    ACCURACY = "accuracy", _("accuracy")


CORRECTION_REASON = _("Every correction needs a reason.")


class WorkCorrection(models.Model):
    """R13.5: a wrong work record of an approved or paid month, voided or
    corrected by a new event; the record itself is never changed.

    ``old_*`` are the record's figures as this correction found them (after
    any earlier correction), ``new_*`` what they become. The difference is
    paid in the period of ``booked_month`` (the first open month when it was
    made, moved on if that month was approved from an older calculation),
    priced at the record's own date (like late work, R13.3)."""

    record = models.ForeignKey(
        WorkRecord, on_delete=models.PROTECT, related_name="corrections"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=CorrectionKind.choices)
    old_units = models.PositiveIntegerField(_("units before"))
    new_units = models.PositiveIntegerField(_("units after"))  # 0: voided
    old_accuracy = models.DecimalField(
        _("accuracy before"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    new_accuracy = models.DecimalField(
        _("accuracy after"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    reason = models.CharField(_("reason"), max_length=200)
    booked_month = models.DateField(_("paid in month"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("work correction")
        verbose_name_plural = _("work corrections")
        constraints = [
            models.CheckConstraint(
                condition=Q(booked_month__day=1), name="correction_month_first_day"
            ),
        ]
        indexes = [models.Index(fields=["booked_month", "record"])]

    def __str__(self):
        return f"{self.kind} of {self.record_id}"

    @property
    def corrected_month(self) -> str:
        return f"{self.record.work_date:%Y-%m}"

    def clean(self):
        if not (self.reason or "").strip():
            raise ValidationError({"reason": CORRECTION_REASON})


class IncomeCertificate(models.Model):
    """R17.3: a certificate of income (收入证明) over paid months of one worker.

    The figures are a snapshot taken at issue (``months``: one entry per month
    with its payslip number, gross and net), signed with the server's key
    (``digest``), so that a record changed afterwards no longer verifies. The
    ``code`` is 128 random bits; anybody holding it may verify the certificate
    on the public page, which shows only the park, the span, the totals and a
    masked name.
    """

    code = models.CharField(_("verification code"), max_length=32, unique=True)
    park = models.ForeignKey(
        Park, on_delete=models.PROTECT, related_name="income_certificates"
    )
    worker = models.ForeignKey(
        Worker, on_delete=models.PROTECT, related_name="income_certificates"
    )
    # The name and park as printed, at the moment of issue.
    holder_name = models.CharField(_("name"), max_length=100)
    park_name = models.CharField(_("employer"), max_length=100)
    employed_from = models.DateField(_("hire date"))
    employed_until = models.DateField(_("leave date"), null=True, blank=True)
    span_start = models.DateField(_("from (month)"))
    span_end = models.DateField(_("to (month)"))
    months = models.JSONField(default=list)
    total_gross = models.DecimalField(
        _("total gross pay"), max_digits=14, decimal_places=2
    )
    total_net = models.DecimalField(_("total net pay"), max_digits=14, decimal_places=2)
    digest = models.CharField(max_length=64)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoke_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("income certificate")
        verbose_name_plural = _("income certificates")
        constraints = [
            models.CheckConstraint(
                condition=Q(span_start__lte=F("span_end")),
                name="certificate_span_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["worker", "-issued_at"]),
            models.Index(fields=["park", "-issued_at"]),
        ]

    def __str__(self):
        return f"{self.worker_id} {self.span_start:%Y-%m}–{self.span_end:%Y-%m}"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class ParkPaymentSettings(models.Model):
    """How a park's payments go out: the column layout of its bank batch
    payment file (``payroll.bank_layouts``), chosen by its director."""

    park = models.OneToOneField(
        Park, on_delete=models.CASCADE, related_name="payment_settings"
    )
    bank_layout = models.CharField(
        _("bank file layout"),
        max_length=20,
        choices=bank_layouts.LAYOUT_CHOICES,
        default=bank_layouts.DEFAULT_LAYOUT,
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")

    def __str__(self):
        return f"{self.park.code} {self.bank_layout}"
