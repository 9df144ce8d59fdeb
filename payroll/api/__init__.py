"""The REST API at /api/v1/ (DRF, drf-spectacular): thin views over the
selectors and services of workforce and payroll."""
