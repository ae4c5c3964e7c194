"""``resume_lane LANE``: let the lane claim jobs again and wake it."""

from .pause_lane import Command as PauseCommand


class Command(PauseCommand):
    help = "Resume a paused lane."
    paused = False
