"""yipanqi (一盘棋): the platform for cross-regional cooperation between 政法 agencies."""

__version__ = "0.1.0"
