"""The window and dialogs: synchronous, signal-driven widgets (no coroutines here)."""
