"""Enumerations that describe a case."""

from enum import Enum


class CaseKind(str, Enum):
    """What the resident is telling the City."""

    COMPLAINT = "complaint"
    COMPLIMENT = "compliment"
    SERVICE_REQUEST = "service_request"


class CaseStatus(str, Enum):
    """Where a case is in its handling."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
