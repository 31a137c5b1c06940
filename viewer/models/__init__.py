"""Qt item models: one per list or table the window shows."""
