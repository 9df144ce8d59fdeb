"""API views: ``GenericViewSet`` + mixins for resources, one ``APIView`` per
operation with rules of its own. Querysets come from the selectors, writes
go through the services; both decide, the views only translate.

Another person's object answers 404 (the selectors do not find it); a
forbidden action on an object the caller sees answers 403 (the services
raise ``PermissionDenied``); a refused value 400 with the field messages.
"""

from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from payroll import corrections, exports, imports, integrations, periods
from payroll import selectors as pay
from payroll.api import filters
from payroll.api import serializers as out
from payroll.api.pagination import Pagination
from payroll.api.permissions import ParkRolePermission, ScopedThrottle
from payroll.api.schema import ErrorSerializer
from payroll.api.selectors import client_list, task_type_list
from payroll.integrations import has_park_role
from payroll.models import (
    AdjustmentKind,
    Connector,
    IdentityTool,
    PayPeriod,
    Project,
    TaskType,
)
from payroll.services import rate_card_create, rate_card_problems
from workforce import bounds
from workforce import selectors as people
from workforce.closing import is_closed
from workforce.models import Park, SkillLevel, SkillPeriod, Worker
from workforce.services import (
    work_session_correct,
    work_session_log,
    worker_set_identity,
)

NOT_FOUND = _("Not found.")
ONLY_WORKERS_LOG = _("Only workers log hours, their own.")
PAY_STAFF_ONLY = _("Only the park's director or payroll officer can do this.")
OUT_OF_RANGE = _("Give a date between 2000 and 2100.")
IMPORTERS_ONLY = integrations.IMPORT_FORBIDDEN

PK = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
# Dates and times the payroll can compute with (month arithmetic, time zones).
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _in_range(day: date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise serializers.ValidationError(OUT_OF_RANGE)


class SessionTimes(serializers.Serializer):
    """A session's start and end; the start's day in the park's time zone
    (``context["park"]``) within the bounds of ``workforce.bounds``."""

    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate_end(self, value):
        _in_range(value.date())
        return value

    def validate_start(self, value):
        _in_range(value.date())
        park = self.context.get("park")
        if park is not None:
            day = value.astimezone(ZoneInfo(park.time_zone)).date()
            problem = bounds.day_error(park, day, bounds.SESSION_DAY)
            if problem:
                raise serializers.ValidationError(problem)
        return value


def _scope(serializer, name: str, selector) -> None:
    """Let a reference field of an input accept only what the caller sees:
    another person's object is "not found" (400), never used."""
    user = serializer.context.get("user")
    if user is not None:
        serializer.fields[name].queryset = selector(user=user)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other address under /api/v1/: a JSON 404 like the API's own, for
    every method (it changes nothing, so a session's DELETE needs no CSRF
    token to be told so: otherwise Django's HTML 403 page would answer)."""
    return JsonResponse({"detail": str(NOT_FOUND)}, status=404)


class _Resource(GenericViewSet):
    """What every resource shares: who may call, paging, filters, throttles."""

    permission_classes = [ParkRolePermission]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    throttle_classes = [ScopedThrottle]
    ordering = ["id"]
    selector = None

    def get_queryset(self):
        return type(self).selector(user=self.request.user)


class _ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Resource):
    pass


class ParkViewSet(_ReadOnly):
    """Parks the caller belongs to."""

    serializer_class = out.ParkSerializer
    selector = people.park_list
    ordering_fields = ["id", "code", "name"]
    ordering = ["code"]


class TeamViewSet(_ReadOnly):
    serializer_class = out.TeamSerializer
    selector = people.team_list
    filterset_class = filters.TeamFilter
    ordering_fields = ["id", "name"]


class WorkerViewSet(_ReadOnly):
    """Workers: a worker sees themself, park staff their parks' workers.
    Sensitive personal fields are never part of the answer."""

    serializer_class = out.WorkerSerializer
    filterset_class = filters.WorkerFilter
    ordering_fields = ["id", "employee_no", "name", "hire_date"]
    ordering = ["employee_no"]

    def get_queryset(self):
        today = timezone.localdate()
        level = (
            SkillPeriod.objects.filter(worker=OuterRef("pk"), valid_from__lte=today)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
            .order_by("-valid_from")
            .values("level")[:1]
        )
        return people.worker_list(user=self.request.user).annotate(
            current_skill_level=Subquery(level)
        )


class WorkSessionViewSet(mixins.CreateModelMixin, _ReadOnly):
    """Hours worked (R6). A worker logs their own finished sessions."""

    serializer_class = out.WorkSessionSerializer
    selector = people.work_session_list
    filterset_class = filters.WorkSessionFilter
    ordering_fields = ["id", "start", "work_date"]
    ordering = ["-start"]
    throttle_scope = "write"

    @extend_schema_serializer(component_name="WorkSessionInput")
    class InputSerializer(SessionTimes):
        pass

    @extend_schema(request=InputSerializer, responses={201: out.WorkSessionSerializer})
    def create(self, request, *args, **kwargs):
        worker = Worker.objects.filter(user=request.user).select_related("park").first()
        if worker is None:
            raise PermissionDenied(ONLY_WORKERS_LOG)
        data = self.InputSerializer(data=request.data, context={"park": worker.park})
        data.is_valid(raise_exception=True)
        session = work_session_log(worker=worker, **data.validated_data)
        return Response(
            out.WorkSessionSerializer(session).data, status=status.HTTP_201_CREATED
        )


class ClientViewSet(_ReadOnly):
    serializer_class = out.ClientSerializer
    selector = client_list
    ordering_fields = ["id", "code", "name"]
    ordering = ["name"]


class ProjectViewSet(_ReadOnly):
    serializer_class = out.ProjectSerializer
    selector = pay.project_list
    filterset_class = filters.ProjectFilter
    ordering_fields = ["id", "code", "name"]
    ordering = ["park", "code"]


class TaskTypeViewSet(_ReadOnly):
    serializer_class = out.TaskTypeSerializer
    selector = task_type_list
    ordering_fields = ["id", "code", "name"]
    ordering = ["code"]


class RateCardViewSet(mixins.CreateModelMixin, _ReadOnly):
    """Rate cards (R3). A new price is a new card, made by the park's
    director or payroll officer."""

    serializer_class = out.RateCardSerializer
    selector = pay.rate_card_list
    filterset_class = filters.RateCardFilter
    ordering_fields = ["id", "effective_from", "rate"]
    throttle_scope = "write"

    @extend_schema_serializer(component_name="RateCardInput")
    class InputSerializer(serializers.Serializer):
        project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none())
        task_type = serializers.PrimaryKeyRelatedField(queryset=TaskType.objects)
        skill_level = serializers.ChoiceField(choices=SkillLevel.choices)
        rate = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0)
        effective_from = serializers.DateField()
        effective_to = serializers.DateField(required=False, allow_null=True)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            _scope(self, "project", pay.project_list)

        def validate_effective_from(self, value):
            _in_range(value)
            return value

        def validate_effective_to(self, value):
            if value is not None:
                _in_range(value)
            return value

        def validate(self, attrs):
            problems = rate_card_problems(
                project=attrs["project"],
                rate=attrs["rate"],
                effective_from=attrs["effective_from"],
            )
            if problems:
                raise serializers.ValidationError(problems)
            return attrs

    @extend_schema(request=InputSerializer, responses={201: out.RateCardSerializer})
    def create(self, request, *args, **kwargs):
        data = self.InputSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        project = data.validated_data["project"]
        if not has_park_role(request.user, project.park_id, pay.PAY_STAFF):
            raise PermissionDenied(PAY_STAFF_ONLY)
        card = rate_card_create(actor=request.user, **data.validated_data)
        return Response(
            out.RateCardSerializer(card).data, status=status.HTTP_201_CREATED
        )


class QualityTierViewSet(_ReadOnly):
    serializer_class = out.QualityTierSerializer
    selector = pay.quality_tier_list
    filterset_class = filters.QualityTierFilter
    ordering_fields = ["id", "min_accuracy"]
    ordering = ["project", "-min_accuracy"]


class WorkRecordViewSet(_ReadOnly):
    """Accepted work (R4). Written by imports (``/imports/``)."""

    serializer_class = out.WorkRecordSerializer
    selector = pay.work_record_list
    filterset_class = filters.WorkRecordFilter
    ordering_fields = ["id", "work_date", "units", "accuracy", "created_at"]
    ordering = ["-work_date", "id"]


class PayPeriodViewSet(mixins.CreateModelMixin, _ReadOnly):
    """Pay periods (R1, R13). Creating one for a month that has one already
    answers the existing period (200)."""

    serializer_class = out.PayPeriodSerializer
    selector = pay.period_list
    filterset_class = filters.PayPeriodFilter
    ordering_fields = ["id", "month"]
    ordering = ["-month", "park"]
    throttle_scope = "write"

    @extend_schema_serializer(component_name="PayPeriodInput")
    class InputSerializer(serializers.Serializer):
        park = serializers.PrimaryKeyRelatedField(queryset=Park.objects.none())
        month = serializers.DateField(help_text="Any day of the month.")

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            _scope(self, "park", people.park_list)

        def validate_month(self, value):
            _in_range(value)
            return value.replace(day=1)

        def validate(self, attrs):
            # The range starts at the park's first month, so it is checked
            # once the park is known.
            problem = bounds.month_error(attrs["month"], [attrs["park"]])
            if problem:
                raise serializers.ValidationError({"month": problem})
            return attrs

    @extend_schema(
        request=InputSerializer,
        responses={200: out.PayPeriodSerializer, 201: out.PayPeriodSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = self.InputSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        park, month = data.validated_data["park"], data.validated_data["month"]
        if not has_park_role(request.user, park.id, pay.PAY_STAFF):
            raise PermissionDenied(PAY_STAFF_ONLY)
        existed = PayPeriod.objects.filter(park=park, month=month).exists()
        period = periods.period_get_or_create(park=park, month=month)
        return Response(
            out.PayPeriodSerializer(period).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class PayrollRunViewSet(_ReadOnly):
    """Calculations of a period: status and progress, to poll."""

    serializer_class = out.PayrollRunSerializer
    selector = pay.run_list
    filterset_class = filters.PayrollRunFilter
    ordering_fields = ["id", "created_at"]
    ordering = ["-created_at", "-id"]


class PayslipViewSet(_ReadOnly):
    """Payslips (R14); one payslip answers with its lines."""

    filterset_class = filters.PayslipFilter
    ordering_fields = ["id", "number", "net"]
    ordering = ["period", "number"]

    def get_queryset(self):
        qs = pay.payslip_list(user=self.request.user)
        if self.action == "retrieve":
            qs = qs.prefetch_related("lines")
        return qs

    def get_serializer_class(self):
        if self.action == "retrieve":
            return out.PayslipDetailSerializer
        return out.PayslipSerializer


class AdjustmentViewSet(_ReadOnly):
    """Adjustments (R9); added through ``/pay-periods/{id}/adjustments/``."""

    serializer_class = out.AdjustmentSerializer
    selector = pay.adjustment_list
    filterset_class = filters.AdjustmentFilter
    ordering_fields = ["id", "created_at", "amount"]


class WorkerIdentityViewSet(
    mixins.CreateModelMixin, mixins.DestroyModelMixin, _ReadOnly
):
    """Who a worker is in Label Studio or CVAT (the imports' mapping):
    managed by the park's director or payroll officer."""

    serializer_class = out.WorkerIdentitySerializer
    selector = integrations.worker_identity_list
    filterset_class = filters.WorkerIdentityFilter
    ordering_fields = ["id", "tool", "external_user"]
    throttle_scope = "write"

    @extend_schema_serializer(component_name="WorkerIdentityInput")
    class InputSerializer(serializers.Serializer):
        worker = serializers.PrimaryKeyRelatedField(queryset=Worker.objects.none())
        tool = serializers.ChoiceField(choices=IdentityTool.choices)
        external_user = serializers.CharField(
            max_length=254, help_text="The tool's user id, or the user's e-mail."
        )
        connector = serializers.PrimaryKeyRelatedField(
            queryset=Connector.objects.none(),
            required=False,
            allow_null=True,
            help_text="The tool server whose user id this is (user ids restart "
            "at 1 on each server); empty: the park's own namespace, for files "
            "imported without a connector and for e-mails.",
        )

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            _scope(self, "worker", people.worker_list)
            _scope(self, "connector", integrations.connector_list)

    @extend_schema(
        request=InputSerializer, responses={201: out.WorkerIdentitySerializer}
    )
    def create(self, request, *args, **kwargs):
        data = self.InputSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        identity = integrations.worker_identity_create(
            actor=request.user, **data.validated_data
        )
        return Response(
            out.WorkerIdentitySerializer(identity).data,
            status=status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance):
        integrations.worker_identity_delete(identity=instance, actor=self.request.user)


class IntegrationViewSet(_ReadOnly):
    """The API keys of park integrations, for the park's director. A key is
    made with ``POST /parks/{id}/integrations/`` and shown once."""

    serializer_class = out.IntegrationSerializer
    selector = integrations.integration_list
    ordering_fields = ["id", "date_joined"]
    ordering = ["-date_joined", "-id"]


# Operations


class _Operation(APIView):
    permission_classes = [ParkRolePermission]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "write"


def _period(request, pk) -> PayPeriod:
    return get_object_or_404(pay.period_list(user=request.user), pk=pk)


@extend_schema_view(
    post=extend_schema(
        parameters=[PK],
        request=None,
        responses={202: out.PayrollRunSerializer},
        summary="Calculate a pay period",
        description="Starts a payroll run (R13.1); poll it at /payroll-runs/{id}/.",
    )
)
class PeriodCalculateView(_Operation):
    def post(self, request, pk):
        run = periods.payroll_run_start(period=_period(request, pk), actor=request.user)
        run.refresh_from_db()
        return Response(
            out.PayrollRunSerializer(run).data, status=status.HTTP_202_ACCEPTED
        )


@extend_schema_view(
    post=extend_schema(
        parameters=[PK],
        request=None,
        responses={200: out.PayPeriodSerializer},
        summary="Approve a calculated pay period (director, R13.2)",
    )
)
class PeriodApproveView(_Operation):
    def post(self, request, pk):
        period = periods.period_approve(period=_period(request, pk), actor=request.user)
        return Response(out.PayPeriodSerializer(period).data)


@extend_schema_view(
    post=extend_schema(
        parameters=[PK],
        request=None,
        responses={200: out.PayPeriodSerializer},
        summary="Mark an approved pay period paid (R13.4)",
    )
)
class PeriodMarkPaidView(_Operation):
    def post(self, request, pk):
        period = periods.period_mark_paid(
            period=_period(request, pk), actor=request.user
        )
        return Response(out.PayPeriodSerializer(period).data)


class AdjustmentAddView(_Operation):
    @extend_schema_serializer(component_name="AdjustmentInput")
    class InputSerializer(serializers.Serializer):
        worker = serializers.PrimaryKeyRelatedField(queryset=Worker.objects.none())
        kind = serializers.ChoiceField(choices=AdjustmentKind.choices)
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        reason = serializers.CharField(max_length=200)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            _scope(self, "worker", people.worker_list)

    @extend_schema(
        parameters=[PK],
        request=InputSerializer,
        responses={201: out.AdjustmentSerializer},
        summary="Add a bonus, allowance or deduction to a period (R9)",
    )
    def post(self, request, pk):
        period = _period(request, pk)
        data = self.InputSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        adjustment = periods.adjustment_add(
            period=period, actor=request.user, **data.validated_data
        )
        return Response(
            out.AdjustmentSerializer(adjustment).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    get=extend_schema(
        parameters=[
            PK,
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=exports.KINDS),
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=exports.FORMATS),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="The workers whose data is missing."),
        },
        summary="Export an approved period for the bank or the tax office (R17.2)",
        description="bank, iit, si or personnel, as xlsx or csv. A worker "
        "without valid identity or bank data answers 400 with the list.",
    )
)
class PeriodExportView(_Operation):
    def get(self, request, pk, kind, fmt):
        period = _period(request, pk)
        try:
            filename, content, content_type = exports.period_export(
                period=period, kind=kind, fmt=fmt, actor=request.user
            )
        except exports.ExportRefused as exc:
            return Response(
                {"errors": [{k: str(v) for k, v in p.items()} for p in exc.problems]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class WorkerIdentitySetView(_Operation):
    """R17.1: identity and bank data, write-only: the answer shows them
    masked (last 4 characters), never as sent."""

    @extend_schema_serializer(component_name="WorkerIdentityBankInput")
    class InputSerializer(serializers.Serializer):
        resident_id = serializers.CharField(
            required=False, allow_blank=True, write_only=True, max_length=18
        )
        bank_name = serializers.CharField(
            required=False, allow_blank=True, write_only=True, max_length=100
        )
        bank_account = serializers.CharField(
            required=False, allow_blank=True, write_only=True, max_length=40
        )
        account_holder = serializers.CharField(
            required=False, allow_blank=True, write_only=True, max_length=100
        )

    @extend_schema(
        parameters=[PK],
        request=InputSerializer,
        responses={200: out.WorkerIdentityMaskedSerializer},
        summary="Set a worker's resident ID and bank account (R17.1)",
        description="Fields left out are kept; the answer is masked.",
    )
    def put(self, request, pk):
        worker = get_object_or_404(people.worker_list(user=request.user), pk=pk)
        if not has_park_role(
            request.user, worker.park_id, {"director", "payroll_officer"}
        ):
            raise PermissionDenied(PAY_STAFF_ONLY)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changed = worker_set_identity(
            worker=worker, actor=request.user, **data.validated_data
        )
        worker.refresh_from_db()
        return Response(
            out.WorkerIdentityMaskedSerializer(
                {**worker.identity_masked(), "changed": changed}
            ).data
        )


def _corrected(record, made: list, before: dict | None = None) -> Response:
    """The answer of a void or correction (R13.5): ``before`` is the record
    as it was, when it has been deleted."""
    if made:
        outcome, data = "booked", out.WorkRecordSerializer(record).data
    elif before is not None:
        outcome, data = "deleted", before
    else:
        record.refresh_from_db()
        outcome, data = "changed", out.WorkRecordSerializer(record).data
    booked = [out.WorkCorrectionSerializer(c).data for c in made]
    return Response(
        {"outcome": outcome, "record": data, "corrections": booked},
        status=status.HTTP_201_CREATED if made else status.HTTP_200_OK,
    )


# 200: the record of an open month changed or deleted; 201: corrections booked.
CORRECTED = {200: out.CorrectionResultSerializer, 201: out.CorrectionResultSerializer}


class WorkRecordVoidView(_Operation):
    @extend_schema_serializer(component_name="WorkRecordVoidInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200)

    @extend_schema(
        parameters=[PK],
        request=InputSerializer,
        responses=CORRECTED,
        summary="Void a wrong work record (director, payroll officer; R13.5)",
        description="In an open month the record is deleted (200). In an "
        "approved or paid month it stays as it is and a void correction is "
        "booked in the first open month (201), paid there as a negative line "
        "'correction of YYYY-MM'.",
    )
    def post(self, request, pk):
        record = get_object_or_404(pay.work_record_list(user=request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        before = out.WorkRecordSerializer(record).data
        made = corrections.work_record_void(
            record=record, actor=request.user, **data.validated_data
        )
        if made is None:
            return _corrected(record, [], before)
        return _corrected(record, [made])


class WorkSessionCorrectView(_Operation):
    """A staff correction of a worker's hours (R13.5): in an open month the
    session changes; in an approved or paid month nothing changes and the
    correction, with its reason, is kept in the audit trail."""

    @extend_schema_serializer(component_name="WorkSessionCorrectInput")
    class InputSerializer(SessionTimes):
        reason = serializers.CharField(max_length=200)

    class OutputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(["changed", "recorded"])
        session = out.WorkSessionSerializer()

    @extend_schema(
        parameters=[PK],
        request=InputSerializer,
        responses={200: OutputSerializer},
        summary="Correct a worker's hours (director, payroll officer; R13.5)",
        description="In an open month the session is changed (outcome "
        "'changed'). In an approved or paid month it stays as it is; the "
        "correction is recorded with its reason (outcome 'recorded') and the "
        "month's pay does not change.",
    )
    def post(self, request, pk):
        session = get_object_or_404(
            people.work_session_list(user=request.user).select_related("worker__park"),
            pk=pk,
        )
        data = self.InputSerializer(
            data=request.data, context={"park": session.worker.park}
        )
        data.is_valid(raise_exception=True)
        closed = is_closed(session.worker.park, session.work_date)
        session = work_session_correct(
            session=session, actor=request.user, **data.validated_data
        )
        session.refresh_from_db()
        outcome = "recorded" if closed else "changed"
        return Response(
            self.OutputSerializer({"outcome": outcome, "session": session}).data
        )


class WorkRecordCorrectView(_Operation):
    @extend_schema_serializer(component_name="WorkRecordCorrectInput")
    class InputSerializer(serializers.Serializer):
        units = serializers.IntegerField(
            required=False, validators=[bounds.validate_units]
        )
        accuracy = serializers.DecimalField(
            max_digits=5, decimal_places=2, required=False
        )
        reason = serializers.CharField(max_length=200)

        def validate(self, attrs):
            if "units" not in attrs and "accuracy" not in attrs:
                raise serializers.ValidationError(corrections.NOTHING_TO_CORRECT)
            return attrs

    @extend_schema(
        parameters=[PK],
        request=InputSerializer,
        responses=CORRECTED,
        summary="Correct a work record's units or accuracy (R13.5)",
        description="In an open month the record is changed (200). In an "
        "approved or paid month it stays as it is and one correction per "
        "changed figure is booked in the first open month (201), paying the "
        "difference at the record's own rate and tier.",
    )
    def post(self, request, pk):
        record = get_object_or_404(pay.work_record_list(user=request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        made = corrections.work_record_correct(
            record=record, actor=request.user, **data.validated_data
        )
        return _corrected(record, made)


class IntegrationCreateSerializer(out.IntegrationSerializer):
    token = serializers.CharField(
        help_text="The API key: send it as `Authorization: Token <key>`. "
        "Shown only in this answer."
    )


class IntegrationCreateView(_Operation):
    throttle_scope = "auth"

    @extend_schema_serializer(component_name="IntegrationInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(
            max_length=150, help_text="What the key is for, e.g. the QA system."
        )

    @extend_schema(
        parameters=[PK],
        request=InputSerializer,
        responses={201: IntegrationCreateSerializer},
        summary="Create an API key for a park integration (director)",
        description="The integration may import work into the park's projects "
        "and do nothing else. The key is in this answer only.",
    )
    def post(self, request, pk):
        park = get_object_or_404(people.park_list(user=request.user), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, key = integrations.integration_create(
            park=park, name=data.validated_data["name"], actor=request.user
        )
        user.park_id = park.id
        user.token = key
        user.key_prefix = key[: integrations.API_KEY_PREFIX_LENGTH]
        return Response(
            IntegrationCreateSerializer(user).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    post=extend_schema(
        parameters=[PK],
        request=None,
        responses={200: out.IntegrationSerializer},
        summary="Revoke a park integration's API key (director)",
    )
)
class IntegrationRevokeView(_Operation):
    throttle_scope = "auth"

    def post(self, request, pk):
        integration = get_object_or_404(
            integrations.integration_list(user=request.user), pk=pk
        )
        integrations.integration_revoke(integration=integration, actor=request.user)
        integration.refresh_from_db(fields=["is_active"])
        return Response(out.IntegrationSerializer(integration).data)


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True,
        help_text="CSV: the row as a spreadsheet numbers it (header = 1); JSON: "
        "the position of the task or report in the file; null: the whole file.",
    )
    ref = serializers.CharField(
        allow_blank=True, help_text="Task and annotation, or job, in the file."
    )
    field = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    format = serializers.CharField()
    park = serializers.CharField()
    project = serializers.CharField()
    dry_run = serializers.BooleanField()
    ok = serializers.BooleanField()
    records = serializers.IntegerField(help_text="Records read.")
    created = serializers.IntegerField(
        help_text="Work records created (dry run: that would be created)."
    )
    updated = serializers.IntegerField(help_text="Accuracies set (cvat-quality).")
    unchanged = serializers.IntegerField(
        help_text="Records imported before, left as they are."
    )
    cancelled = serializers.IntegerField(help_text="Cancelled annotations skipped.")
    ground_truth = serializers.IntegerField(
        help_text="Ground-truth annotations, not paid (Label Studio)."
    )
    rejected = serializers.IntegerField(
        help_text="Annotations rejected in review, paid at the rejected tier."
    )
    predicted_units = serializers.IntegerField(
        help_text="Units of pre-annotations accepted unchanged (Label Studio)."
    )
    skip_unmatched = serializers.BooleanField()
    skipped_count = serializers.IntegerField(
        help_text="Records skipped (skip_unmatched, or not paid by the rules)."
    )
    skipped = ProblemSerializer(many=True, help_text="The first 1,000 skipped.")
    error_count = serializers.IntegerField()
    warning_count = serializers.IntegerField()
    errors = ProblemSerializer(many=True, help_text="The first 1,000 problems.")
    warnings = ProblemSerializer(many=True)


class ImportView(APIView):
    """Import a file of completed work, all-or-nothing (docs/imports.md)."""

    permission_classes = [ParkRolePermission]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "import"
    parser_classes = [MultiPartParser, FormParser]
    allow_integration = True

    @extend_schema_serializer(component_name="ImportInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True)
        format = serializers.ChoiceField(choices=imports.FORMATS)
        project = serializers.CharField(
            max_length=30, help_text="Code of the project (CSV: of rows naming none)."
        )
        park = serializers.CharField(
            max_length=20,
            required=False,
            allow_blank=True,
            help_text="Code of the park, when the project code is not unique.",
        )
        task_type = serializers.CharField(
            max_length=30,
            required=False,
            allow_blank=True,
            help_text="Code of the task type of Label Studio annotations "
            "(default: the project's only one) or of CSV rows naming none.",
        )
        dry_run = serializers.BooleanField(default=False)
        skip_unmatched = serializers.BooleanField(
            default=False,
            help_text="Import the rest when a record names no worker of the "
            "park (an unmapped or deleted annotator, an unknown employee "
            "number); the report lists what was skipped.",
        )

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            200: OpenApiResponse(ImportReportSerializer, "Dry run: nothing written."),
            201: OpenApiResponse(ImportReportSerializer, "Imported."),
            400: OpenApiResponse(
                {
                    "anyOf": [
                        {"$ref": "#/components/schemas/ImportReport"},
                        {"$ref": "#/components/schemas/ValidationError"},
                    ]
                },
                "Nothing imported: the report lists every problem of the file; "
                "or the form itself was refused (messages by field).",
            ),
            413: OpenApiResponse(ErrorSerializer, "The file is over the limit."),
        },
        summary="Import completed work from a file",
    )
    def post(self, request):
        user = request.user
        if not (user.is_superuser or people.user_roles(user) & integrations.IMPORTERS):
            raise PermissionDenied(IMPORTERS_ONLY)
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        too_large = self._too_large(request.META.get("CONTENT_LENGTH"), limit)
        if too_large:
            return too_large
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return Response(data.errors, status=status.HTTP_400_BAD_REQUEST)
        values = data.validated_data
        too_large = self._too_large(values["file"].size, limit, slack=0)
        if too_large:
            return too_large
        project = imports.resolve_project(
            code=values["project"],
            park_code=values.get("park") or None,
            projects=integrations.import_project_list(user=user),
        )
        task_type = None
        if values.get("task_type"):
            task_type = TaskType.objects.filter(code=values["task_type"]).first()
            if task_type is None:
                return Response(
                    {
                        "task_type": [
                            str(
                                imports.UNKNOWN_TASK_TYPE
                                % {"value": values["task_type"]}
                            )
                        ]
                    },
                    status=status.HTTP_400_BAD_REQUEST,
                )
        report = imports.import_work(
            file=values["file"],
            fmt=values["format"],
            project=project,
            task_type=task_type,
            dry_run=values["dry_run"],
            actor=user,
            max_bytes=limit,
            skip_unmatched=values["skip_unmatched"],
        )
        if not report.ok:
            code = status.HTTP_400_BAD_REQUEST
        elif report.dry_run:
            code = status.HTTP_200_OK
        else:
            code = status.HTTP_201_CREATED
        return Response(ImportReportSerializer(report.as_dict()).data, status=code)

    @staticmethod
    def _too_large(size, limit: int, slack: int = 64 * 1024):
        try:
            size = int(size or 0)
        except (TypeError, ValueError):
            return None
        if size <= limit + slack:
            return None
        message = imports.too_large_message(size, limit)
        return Response(
            {"detail": str(message)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
