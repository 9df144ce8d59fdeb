from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from workforce import identity
from workforce.bounds import DEFAULT_MAX_RATE, SESSION_DAY, day_error
from workforce.crypto import EncryptedTextField
from workforce.identity import IDENTITY_FIELDS

# Error messages that tests check (STYLE: module-level constants).
LEAVE_BEFORE_HIRE = _("The leave date cannot be before the hire date.")
SENSITIVE_WITHOUT_CONSENT = _(
    "Ethnicity and household status are kept only with the worker's consent."
)
SESSION_END_BEFORE_START = _("A work session must end after it starts.")
SESSION_TOO_SHORT = _("A work session lasts at least 1 minute.")
SESSION_TOO_LONG = _("A work session lasts at most 16 hours.")
SESSION_IN_FUTURE = _("A work session cannot start in the future.")
SESSION_OVERLAP = _(
    "This session overlaps another session of the same worker, "
    "from %(start)s to %(end)s."
)
DEDUCTION_NOT_FIRST_OF_MONTH = _(
    "A special additional deduction applies from the first day of a month."
)
DEDUCTION_UNSPECIFIED = _("Choose the category of the special additional deduction.")
POLICY_RANGE = _("The social insurance base floor must not exceed its ceiling.")

MAX_SESSION = timedelta(hours=16)
MIN_SESSION = timedelta(minutes=1)


class Park(models.Model):
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=20, unique=True)
    county = models.CharField(_("county"), max_length=100)
    township = models.CharField(_("township"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Shanghai")
    opened_on = models.DateField(
        _("opened on"),
        null=True,
        blank=True,
        help_text=_("Nothing is dated before this day."),
    )
    # R13.5: the last day of the latest approved month, kept by payroll's
    # approval; work, hours and adjustments up to it are frozen.
    closed_through = models.DateField(
        _("closed through"), null=True, blank=True, editable=False
    )
    require_2fa = models.BooleanField(
        _("require two-factor login"),
        default=False,
        help_text=_(
            "Directors, payroll officers and county officials of the park must "
            "set up a code from an authenticator app before any staff page."
        ),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("park")
        verbose_name_plural = _("parks")

    def __str__(self):
        return self.name


class PayPolicy(models.Model):
    """The park's policy numbers of R7.1 and R10, effective from a date."""

    park = models.ForeignKey(Park, on_delete=models.CASCADE, related_name="policies")
    effective_from = models.DateField(_("effective from"))
    min_monthly = models.DecimalField(
        _("monthly minimum wage"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("2080.00"),
    )
    min_hourly = models.DecimalField(
        _("part-time hourly minimum"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("21.00"),
    )
    standard_hours = models.DecimalField(
        _("standard monthly hours"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("174"),
    )
    training_stipend = models.DecimalField(
        _("training stipend"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    si_base_floor = models.DecimalField(
        _("social insurance base floor"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("4600.00"),
    )
    si_base_ceiling = models.DecimalField(
        _("social insurance base ceiling"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("22900.00"),
    )
    pension_rate = models.DecimalField(
        _("pension rate"), max_digits=5, decimal_places=4, default=Decimal("0.08")
    )
    medical_rate = models.DecimalField(
        _("medical insurance rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.02"),
    )
    unemployment_rate = models.DecimalField(
        _("unemployment insurance rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.005"),
    )
    max_rate = models.DecimalField(
        _("highest rate per unit"),
        max_digits=12,
        decimal_places=4,
        default=DEFAULT_MAX_RATE,
        validators=[MinValueValidator(Decimal("0.0001"))],
    )

    class Meta:
        ordering = ["park", "-effective_from"]
        verbose_name = _("pay policy")
        verbose_name_plural = _("pay policies")
        constraints = [
            models.UniqueConstraint(
                fields=["park", "effective_from"], name="policy_unique_per_day"
            ),
            models.CheckConstraint(
                condition=Q(si_base_floor__lte=F("si_base_ceiling")),
                name="policy_si_floor_below_ceiling",
            ),
        ]

    def __str__(self):
        return f"{self.park.code} {self.effective_from}"

    def clean(self):
        floor, ceiling = self.si_base_floor, self.si_base_ceiling
        if floor is not None and ceiling is not None and floor > ceiling:
            raise ValidationError({"si_base_floor": POLICY_RANGE})


class Team(models.Model):
    park = models.ForeignKey(Park, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["park", "name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(fields=["park", "name"], name="team_unique_name")
        ]

    def __str__(self):
        return self.name


class Gender(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")


class Contract(models.TextChoices):
    FULL_TIME = "full_time", _("full-time")
    PART_TIME = "part_time", _("part-time")
    TRAINING = "training", _("training agreement")


class SkillLevel(models.TextChoices):
    TRAINEE = "trainee", _("trainee")
    JUNIOR = "junior", _("junior")
    SENIOR = "senior", _("senior")


class Worker(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="worker",
    )
    park = models.ForeignKey(Park, on_delete=models.PROTECT, related_name="workers")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="workers"
    )
    employee_no = models.CharField(_("employee number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices)
    # Sensitive personal information: kept only with consent, shown only aggregated.
    ethnicity = models.CharField(_("ethnicity"), max_length=30, blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), validators=[MinValueValidator(1940), MaxValueValidator(2015)]
    )
    hire_date = models.DateField(_("hire date"))
    leave_date = models.DateField(_("leave date"), null=True, blank=True)
    contract = models.CharField(
        _("contract"),
        max_length=12,
        choices=Contract.choices,
        default=Contract.FULL_TIME,
    )
    monitored_household = models.BooleanField(
        _("monitored (poverty-risk) household"), default=False
    )
    returner = models.BooleanField(_("returner"), default=False)
    insured = models.BooleanField(_("social insurance"), default=False)
    sensitive_consent = models.BooleanField(
        _("consent to sensitive data"), default=False
    )
    si_base = models.DecimalField(
        _("declared contribution base"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    full_year_basic_deduction = models.BooleanField(
        _("full-year basic deduction (STA 2020 No. 19)"), default=False
    )
    # R17.1: sensitive personal information, encrypted at rest, shown masked.
    resident_id = EncryptedTextField(_("resident ID number"), blank=True)
    bank_name = EncryptedTextField(_("bank"), blank=True)
    bank_account = EncryptedTextField(_("bank account number"), blank=True)
    account_holder = EncryptedTextField(_("account holder"), blank=True)

    class Meta:
        ordering = ["employee_no"]
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        constraints = [
            models.CheckConstraint(
                condition=Q(leave_date__isnull=True)
                | Q(leave_date__gte=F("hire_date")),
                name="worker_leave_after_hire",
            ),
        ]
        indexes = [models.Index(fields=["park", "hire_date"])]

    def __str__(self):
        return f"{self.employee_no} {self.name}"

    def clean(self):
        errors = {}
        if self.leave_date and self.hire_date and self.leave_date < self.hire_date:
            errors["leave_date"] = LEAVE_BEFORE_HIRE
        if not self.sensitive_consent and (self.ethnicity or self.monitored_household):
            errors["sensitive_consent"] = SENSITIVE_WITHOUT_CONSENT
        if self.team_id and self.park_id and self.team.park_id != self.park_id:
            errors["team"] = _("The team belongs to another park.")
        errors.update(self._identity_errors())
        if errors:
            raise ValidationError(errors)

    def _identity_errors(self) -> dict:
        """R17.1: a resident ID number with a valid check digit and the birth
        year on record; an account number of digits. Either may be missing
        (the exports list who still lacks them)."""
        errors = {}
        self.resident_id = identity.normalize_resident_id(self.resident_id)
        self.bank_account = identity.normalize_account(self.bank_account)
        self.bank_name = (self.bank_name or "").strip()
        self.account_holder = (self.account_holder or "").strip()
        for name, check in (
            (
                "resident_id",
                lambda v: identity.validate_resident_id(v, self.birth_year),
            ),
            ("bank_account", identity.validate_account),
        ):
            value = getattr(self, name)
            if value:
                try:
                    check(value)
                except ValidationError as exc:
                    errors[name] = exc
        return errors

    def identity_masked(self) -> dict[str, str]:
        """The identity and bank fields with only their last 4 characters."""
        return {name: identity.mask(getattr(self, name)) for name in IDENTITY_FIELDS}

    def employed_on(self, day: date) -> bool:
        # The leave date is the last day of employment.
        return self.hire_date <= day and (
            self.leave_date is None or day <= self.leave_date
        )


class DeductionCategory(models.TextChoices):
    """R11.2: the categories of special additional deductions (专项附加扣除)."""

    CHILD_EDUCATION = "child_education", _("child education")
    CONTINUING_EDUCATION = "continuing_education", _("continuing education")
    HOUSING_LOAN_INTEREST = "housing_loan_interest", _("housing loan interest")
    HOUSING_RENT = "housing_rent", _("housing rent")
    ELDERLY_CARE = "elderly_care", _("elderly care")
    INFANT_CARE = "infant_care", _("infant care")
    PERSONAL_PENSION = "personal_pension", _("personal pension")
    # Only for amounts carried over from the single undated figure kept before
    # R11.2 was dated: their category was never recorded. It counts for tax
    # like any other, but must be reassigned before the tax filing (R17.2).
    UNSPECIFIED = "unspecified", _("unspecified (carried over)")


FILING_CATEGORIES = [c for c in DeductionCategory if c != DeductionCategory.UNSPECIFIED]


class SpecialDeduction(models.Model):
    """R11.2: a monthly amount of one category, in force from ``valid_from``
    (the first of a month) until the same category's next row. An amount of
    0.00 ends a category."""

    worker = models.ForeignKey(
        Worker, on_delete=models.CASCADE, related_name="special_deductions"
    )
    category = models.CharField(
        _("category"), max_length=30, choices=DeductionCategory.choices
    )
    monthly_amount = models.DecimalField(
        _("amount per month"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    valid_from = models.DateField(_("valid from (month)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["worker", "category", "valid_from"]
        verbose_name = _("special additional deduction")
        verbose_name_plural = _("special additional deductions")
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "category", "valid_from"],
                name="special_deduction_unique_month",
            ),
            models.CheckConstraint(
                condition=Q(monthly_amount__gte=0),
                name="special_deduction_not_negative",
            ),
        ]

    def __str__(self):
        month = f"{self.valid_from:%Y-%m}"
        return f"{self.get_category_display()} {self.monthly_amount} ({month})"

    def clean(self):
        errors = {}
        if self.valid_from and self.valid_from.day != 1:
            errors["valid_from"] = DEDUCTION_NOT_FIRST_OF_MONTH
        if self.category == DeductionCategory.UNSPECIFIED and self._state.adding:
            errors["category"] = DEDUCTION_UNSPECIFIED
        if errors:
            raise ValidationError(errors)


class SkillPeriod(models.Model):
    """One interval of a worker's skill history: [valid_from, valid_to)."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="skills")
    level = models.CharField(
        _("skill level"), max_length=10, choices=SkillLevel.choices
    )
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["worker", "valid_from"]
        verbose_name = _("skill level period")
        verbose_name_plural = _("skill level history")
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "valid_from"], name="skill_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="skill_interval_positive",
            ),
        ]
        indexes = [models.Index(fields=["worker", "valid_from", "valid_to"])]

    def __str__(self):
        return f"{self.worker_id} {self.level} {self.valid_from}–{self.valid_to or ''}"


class StaffAssignment(models.Model):
    """Links a staff login (director, payroll officer, trainer, county official)
    to a park it may see. Workers are linked through ``Worker.user`` instead."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    park = models.ForeignKey(Park, on_delete=models.CASCADE, related_name="staff")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["park", "user"]
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "park"], name="staff_unique_park")
        ]

    def __str__(self):
        return f"{self.user} @ {self.park}"


class WorkSession(models.Model):
    """Hours worked (R6). ``minutes`` and ``work_date`` are derived on save."""

    worker = models.ForeignKey(
        Worker, on_delete=models.CASCADE, related_name="sessions"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"), null=True, blank=True)
    minutes = models.PositiveIntegerField(_("minutes"), default=0, editable=False)
    # Local date of the start, in the park's time zone (R8 daily warnings).
    work_date = models.DateField(_("work date"), editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["worker", "start"]
        verbose_name = _("work session")
        verbose_name_plural = _("work sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=F("start")),
                name="session_end_after_start",
            ),
            # One open (clocked-in) session per worker at a time.
            models.UniqueConstraint(
                fields=["worker"],
                condition=Q(end__isnull=True),
                name="session_one_open_per_worker",
            ),
        ]
        indexes = [
            models.Index(fields=["worker", "work_date"]),
            models.Index(fields=["work_date"]),
        ]

    def __str__(self):
        return f"{self.worker_id} {self.start:%Y-%m-%d %H:%M}"

    def derive(self, tz_name: str) -> None:
        """Set ``minutes`` and the local ``work_date`` from start and end."""
        if self.start:
            self.work_date = self.start.astimezone(ZoneInfo(tz_name)).date()
        if self.start and self.end:
            seconds = (self.end - self.start).total_seconds()
            self.minutes = max(0, int(seconds // 60))
        else:
            self.minutes = 0

    def clean(self):
        from django.utils import timezone

        errors = {}
        if self.start and self.start > timezone.now() + timedelta(minutes=1):
            errors["start"] = SESSION_IN_FUTURE
        if self.start and self.end:
            length = self.end - self.start
            if length <= timedelta(0):
                errors["end"] = SESSION_END_BEFORE_START
            elif length < MIN_SESSION:
                errors["end"] = SESSION_TOO_SHORT
            elif length > MAX_SESSION:
                errors["end"] = SESSION_TOO_LONG
            elif self.end > timezone.now() + timedelta(minutes=1):
                errors["end"] = SESSION_IN_FUTURE
        if self.start and self.worker_id and "start" not in errors:
            park = self.worker.park
            day = self.start.astimezone(ZoneInfo(park.time_zone)).date()
            problem = day_error(park, day, SESSION_DAY)
            if problem:
                errors["start"] = problem
        if errors:
            raise ValidationError(errors)


class IdentityChangeStatus(models.TextChoices):
    PENDING = "pending", _("waiting for confirmation")
    CONFIRMED = "confirmed", _("confirmed")
    REJECTED = "rejected", _("rejected")
    REPLACED = "replaced", _("replaced by a newer entry")


class IdentityChange(models.Model):
    """R17.1: identity or bank data a worker entered herself, kept encrypted
    until the park's director or payroll officer confirms it (then it is
    copied to the worker) or rejects it. A field left empty is not changed."""

    worker = models.ForeignKey(
        Worker, on_delete=models.CASCADE, related_name="identity_changes"
    )
    resident_id = EncryptedTextField(_("resident ID number"), blank=True)
    bank_name = EncryptedTextField(_("bank"), blank=True)
    bank_account = EncryptedTextField(_("bank account number"), blank=True)
    account_holder = EncryptedTextField(_("account holder"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=IdentityChangeStatus.choices,
        default=IdentityChangeStatus.PENDING,
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("identity data change")
        verbose_name_plural = _("identity data changes")
        constraints = [
            models.UniqueConstraint(
                fields=["worker"],
                condition=Q(status="pending"),
                name="identity_change_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self):
        return f"{self.worker_id} {self.status} {self.submitted_at:%Y-%m-%d}"

    def masked(self) -> dict[str, str]:
        """The entered fields with only their last 4 characters."""
        return {name: identity.mask(getattr(self, name)) for name in IDENTITY_FIELDS}

    def fields_given(self) -> list[str]:
        return [name for name in IDENTITY_FIELDS if getattr(self, name)]
