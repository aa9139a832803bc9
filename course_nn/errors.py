"""Errors a user can cause. The CLI prints them as one line, never as a traceback."""


class CourseError(Exception):
    """Something went wrong that the user can fix; printed as one line, exit code 1."""

    exit_code = 1


class UsageError(CourseError):
    """Bad command-line input (unknown task, missing file, ...); printed as one line, exit code 2."""

    exit_code = 2
