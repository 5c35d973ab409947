"""Clinical logic as pure functions: doses, codes, safety checks and outcomes.

Nothing here reads files or prints: each function takes records and settings and returns values.
"""
