"""Refusals carry the Chinese sentence the user sees; callers render it as it is."""


class Refused(Exception):
    """A rule said no. `str(err)` is the message for the user, in Chinese."""


class NotAllowed(Refused):
    """Wrong role or outside the actor's jurisdiction."""


class AlreadyDecided(Refused):
    """Someone else decided this task first."""


class NotFound(Refused):
    pass
