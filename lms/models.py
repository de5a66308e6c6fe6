"""Import every domain's models, so that metadata (and Alembic) sees all tables."""

from lms.assessments.models import QuizAttempt
from lms.auth.models import PasswordToken, User, UserScope
from lms.courses.models import Course, Module, QuizVersion
from lms.enrolments.models import CourseCompletion, ModuleProgress
from lms.register.models import Authority, Region

__all__ = [
    "Authority",
    "Course",
    "CourseCompletion",
    "Module",
    "ModuleProgress",
    "PasswordToken",
    "QuizAttempt",
    "QuizVersion",
    "Region",
    "User",
    "UserScope",
]
