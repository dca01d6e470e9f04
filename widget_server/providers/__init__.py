"""Provider adapters, keyed by kind."""

from __future__ import annotations

from widget_server.providers.base import Provider
from widget_server.providers.c2c_php import C2CPhpProvider
from widget_server.providers.calledin import CalledInProvider
from widget_server.providers.dialogtech import DialogTechProvider
from widget_server.providers.simulator import SimulatorProvider
from widget_server.providers.voice1 import Voice1Provider
from widget_server.providers.voicenter import VoicenterProvider

PROVIDERS: dict[str, type[Provider]] = {cls.kind: cls for cls in (
    SimulatorProvider,
    C2CPhpProvider,
    DialogTechProvider,
    VoicenterProvider,
    Voice1Provider,
    CalledInProvider,
)}

