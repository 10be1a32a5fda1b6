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


class UpdateKind(str, Enum):
    """What one entry of a case's history records."""

    STATUS = "status"
    NOTE = "note"
    CONTACT = "contact"
    CORRECTIVE_ACTION = "corrective_action"
    PREVENTIVE_ACTION = "preventive_action"
    ASSIGNMENT = "assignment"
    DIVISION = "division"
    CATEGORY = "category"
    RECLASSIFICATION = "reclassification"
    ESCALATION = "escalation"
    REPLY = "reply"
    FORWARD = "forward"


class ContactMethod(str, Enum):
    """How staff reached the resident."""

    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    CHAT = "chat"
    LETTER = "letter"
    IN_PERSON = "in_person"


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)

# What a complaint is about, as the assistant records it in the case's details ("complaint_category"). Complaints
# about a policy are counted apart: they feed policy review rather than service fixes.
COMPLAINT_SUBJECT_KEY = "complaint_category"
COMPLAINT_SUBJECTS = {
    "service": "The service",
    "staff": "Staff",
    "timeliness": "A delay",
    "decision": "A decision",
    "charge": "A charge or fee",
    "policy": "A City rule or policy",
    "accessibility": "Access for people with disabilities",
    "other": "Something else",
}
