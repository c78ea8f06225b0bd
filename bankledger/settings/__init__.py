"""Settings, one module per integration, all read from the environment (and `.env`)."""

from .api import *  # noqa: F403
from .auth import *  # noqa: F403
from .base import *  # noqa: F403
from .cache import *  # noqa: F403
from .database import *  # noqa: F403
from .email import *  # noqa: F403
from .events import *  # noqa: F403
from .limits import *  # noqa: F403
from .log import *  # noqa: F403
from .security import *  # noqa: F403
from .tasks import *  # noqa: F403
