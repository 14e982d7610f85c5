"""The master key of a test session, in the environment before anything reads the settings, so
that every app, projector and subprocess of the session seals and opens personal data alike."""

from __future__ import annotations

import os

from orders.vault import MasterKey

MASTER = MasterKey.parse(os.environ.setdefault("ORDERS_MASTER_KEY", MasterKey.generate()))
