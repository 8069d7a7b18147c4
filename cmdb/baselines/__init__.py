"""Configuration baselines: a named record of the register (or one location's part of it) at
one moment, and what has changed since, with who changed it and when."""
