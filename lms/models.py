"""Import every domain's models, so that metadata (and Alembic) sees all tables."""

from lms.assessments.models import QuizAttempt
from lms.audit.models import AuditEntry, AuditObject
from lms.auth.models import PasswordToken, User, UserScope
from lms.certificates.models import Certificate
from lms.courses.models import Course, CourseCompletion, Module, ModuleProgress, QuizVersion
from lms.enrolments.models import Enrolment, EnrolmentRule, PendingUpload
from lms.external.models import ExternalTraining
from lms.live.models import LiveAttendance, LiveEdition, LiveSignup
from lms.notifications.models import Notification
from lms.register.models import Authority, Region, StaffMember
from lms.spid.models import SamlRequest  # noqa: F401 - the SPID requests table
from lms.surveys.models import SurveyAnswer, SurveyResponse, SurveySubmission

__all__ = [
    "AuditEntry",
    "AuditObject",
    "Authority",
    "Certificate",
    "Course",
    "CourseCompletion",
    "Enrolment",
    "EnrolmentRule",
    "ExternalTraining",
    "LiveAttendance",
    "LiveEdition",
    "LiveSignup",
    "Module",
    "ModuleProgress",
    "Notification",
    "PasswordToken",
    "PendingUpload",
    "QuizAttempt",
    "QuizVersion",
    "Region",
    "StaffMember",
    "SurveyAnswer",
    "SurveyResponse",
    "SurveySubmission",
    "User",
    "UserScope",
]
