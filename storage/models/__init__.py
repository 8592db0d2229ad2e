"""All tables. Importing this package registers every model on ``Base.metadata``."""

from storage.models.base import Base
from storage.models.conversation import ConversationRef, TeamsAccount

__all__ = ["Base", "ConversationRef", "TeamsAccount"]
