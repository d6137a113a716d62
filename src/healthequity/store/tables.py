"""Every capability's tables, gathered so that migrations see the whole schema."""

from healthequity.audit import models as audit_models  # noqa: F401
from healthequity.auth import models as auth_models  # noqa: F401
from healthequity.directory import models as directory_models  # noqa: F401
from healthequity.letters import models as letters_models  # noqa: F401
from healthequity.people import models as people_models  # noqa: F401
from healthequity.places import models as places_models  # noqa: F401
from healthequity.referrals import models as referrals_models  # noqa: F401
from healthequity.social_history import models as social_history_models  # noqa: F401
from healthequity.store.database import Base

metadata = Base.metadata
