"""All tables. Importing this package registers every model on ``Base.metadata``."""

from storage.models.base import Base
from storage.models.conversation import ConversationRef, TeamsAccount
from storage.models.delivery import Delivery, DeliveryOp, DeliveryState, DeliveryWorker
from storage.models.roster import (
    AppSetting,
    Assignment,
    AuditEntry,
    Department,
    DivisionRole,
    DivisionRoleKind,
    Person,
    PromoterRole,
    Section,
)
from storage.models.survey import (
    Survey,
    SurveyAnswerValue,
    SurveyRecipient,
    SurveyResponse,
    SurveyRound,
    SurveySchedule,
)

__all__ = [
    "AppSetting",
    "Assignment",
    "AuditEntry",
    "Base",
    "ConversationRef",
    "Delivery",
    "DeliveryOp",
    "DeliveryState",
    "DeliveryWorker",
    "Department",
    "DivisionRole",
    "DivisionRoleKind",
    "Person",
    "PromoterRole",
    "Section",
    "Survey",
    "SurveyAnswerValue",
    "SurveyRecipient",
    "SurveyResponse",
    "SurveyRound",
    "SurveySchedule",
    "TeamsAccount",
]
