"""Import every domain's models, so that metadata (and Alembic) sees all tables."""

from lms.auth.models import PasswordToken, User, UserScope
from lms.register.models import Authority, Region

__all__ = ["Authority", "PasswordToken", "Region", "User", "UserScope"]
