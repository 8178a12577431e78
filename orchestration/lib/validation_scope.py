"""Whether a run validates every row or only what changed (expectations/windows.py)."""

# A run tagged so validates every row of every table: the weekly `full_validation` job.
VALIDATION_TAG = "atw/validation"
FULL = "full"


def is_full(context) -> bool:
    return context.run.tags.get(VALIDATION_TAG) == FULL
