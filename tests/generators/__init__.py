"""Real generators built by the suite: each module builds one site into a folder (tests only)."""
