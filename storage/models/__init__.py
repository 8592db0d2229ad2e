"""All tables. Importing this package registers every model on ``Base.metadata``."""

from storage.models.announce import (
    Announcement,
    AnnouncementRecipient,
    AnnouncementRelay,
    AnnouncementState,
)
from storage.models.base import Base
from storage.models.cases import ImprovementCase, RecognitionRound, RecognitionVote
from storage.models.conversation import ConversationRef, TeamsAccount, TrustedServiceUrl
from storage.models.delivery import Delivery, DeliveryBudget, DeliveryOp, DeliveryState, DeliveryWorker
from storage.models.qa import (
    EntryStatus,
    Feedback,
    KbEntry,
    KbState,
    Phrasing,
    PhrasingSource,
    PhrasingStatus,
    QueryLog,
    Suggestion,
    SynonymGroup,
    Ticket,
    TicketAuthor,
    TicketMessage,
    TicketStatus,
)
from storage.models.receipts import ChatReadMark
from storage.models.roster import (
    Assignment,
    Department,
    DivisionRole,
    DivisionRoleKind,
    Person,
    PromoterRole,
    Section,
)
from storage.models.shared import AppSetting, AuditEntry
from storage.models.survey import (
    Survey,
    SurveyAnswerValue,
    SurveyRecipient,
    SurveyResponse,
    SurveyRound,
    SurveySchedule,
)

__all__ = [
    "Announcement",
    "AnnouncementRecipient",
    "AnnouncementRelay",
    "AnnouncementState",
    "AppSetting",
    "Assignment",
    "AuditEntry",
    "Base",
    "ChatReadMark",
    "ConversationRef",
    "Delivery",
    "DeliveryOp",
    "DeliveryState",
    "DeliveryBudget",
    "DeliveryWorker",
    "Department",
    "DivisionRole",
    "DivisionRoleKind",
    "EntryStatus",
    "Feedback",
    "ImprovementCase",
    "KbEntry",
    "KbState",
    "Phrasing",
    "PhrasingSource",
    "PhrasingStatus",
    "Person",
    "PromoterRole",
    "QueryLog",
    "RecognitionRound",
    "RecognitionVote",
    "Section",
    "Suggestion",
    "Survey",
    "SurveyAnswerValue",
    "SurveyRecipient",
    "SurveyResponse",
    "SurveyRound",
    "SurveySchedule",
    "SynonymGroup",
    "TeamsAccount",
    "TrustedServiceUrl",
    "Ticket",
    "TicketAuthor",
    "TicketMessage",
    "TicketStatus",
]
