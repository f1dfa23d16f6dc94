"""Errors a user can act on. The CLI prints them as one sentence, never a traceback."""


class ListenerError(Exception):
    """Base class: the message says what failed and, where possible, how to fix it."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(ListenerError):
    """A configuration that cannot be used. ``problems`` lists its mistakes one by one, each as the key
    it is about, written as in the file (``sources[0].interval``), and what is wrong with it."""

    hint = "Fix the configuration file; `listener init` writes a valid example."

    def __init__(self, message: str, hint: str | None = None, problems: tuple[tuple[str, str], ...] = ()):
        super().__init__(message, hint)
        self.problems = tuple(problems)


class InputError(ListenerError):
    """A post in an input file could not be read."""


class BackendError(ListenerError):
    """The index backend failed as a whole (unreachable, misconfigured)."""


class NotFoundError(ListenerError):
    """No post with the id that was asked for."""


class ConflictError(ListenerError):
    """Someone else changed the post since it was read (optimistic concurrency)."""

    hint = "Reload the post and try again."


class TransitionError(ListenerError):
    """A workflow status change that the workflow does not allow."""
