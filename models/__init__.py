"""SQLAlchemy models, one module per main entity."""

from models.audit import AuditEvent
from models.base import Base, db, utcnow
from models.codebook import Code, CodeEvent, CodePatternRule
from models.coding import (
    Adjudication,
    AssignmentCoder,
    AssignmentStatus,
    Coding,
    CodingAssignment,
    CodingOrigin,
    Decision,
    Memo,
    SpeakerLink,
    Suggestion,
    SuggestionDecision,
    SuggestionStatus,
    TaggerModel,
    UnitRef,
)
from models.consultation import (
    Campaign,
    Comment,
    CommentSource,
    CommentStatus,
    Consultation,
    IntakeRejection,
)
from models.job import Job, JobStatus
from models.participant import AttributeDefinition, AttributeKind, Participant
from models.recording import Recording
from models.scheduling import (
    Attendance,
    Booking,
    BookingStatus,
    CalendarFeed,
    ConsentText,
    Invitation,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    SessionKind,
    SessionStatus,
    SlotOffer,
    StudySession,
)
from models.study import StakeholderGroup, Study, StudyMember, StudyRole
from models.theme import Theme, ThemeEvidence, ThemeStatus
from models.topics import Embedding, Topic, TopicAssignment, TopicRun, TopicRunStatus
from models.transcript import SegmentRevision, Transcript, TranscriptSegment
from models.user import Role, User

__all__ = [
    "Attendance", "AttributeDefinition", "AttributeKind", "Booking", "BookingStatus",
    "CalendarFeed", "ConsentText", "Invitation", "MessageKind", "MessageStatus",
    "OutboxMessage", "SessionKind", "SessionStatus", "SlotOffer", "StudySession",
    "AuditEvent", "Base", "db", "utcnow", "Campaign", "Code", "Comment", "CommentSource",
    "CommentStatus",
    "Consultation", "IntakeRejection", "Job", "JobStatus", "Participant", "Recording", "Role",
    "SegmentRevision", "StakeholderGroup", "Study", "StudyMember", "StudyRole", "Transcript",
    "TranscriptSegment", "User",
]
__all__ += [
    "Adjudication", "AssignmentCoder", "AssignmentStatus", "CodeEvent", "CodePatternRule",
    "Coding", "CodingAssignment", "CodingOrigin", "Decision", "Memo", "SpeakerLink",
    "Suggestion", "SuggestionDecision", "SuggestionStatus", "TaggerModel", "UnitRef",
]
__all__ += ["Embedding", "Theme", "ThemeEvidence", "ThemeStatus", "Topic", "TopicAssignment",
            "TopicRun", "TopicRunStatus"]
