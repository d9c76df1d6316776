"""The recorder: consumes every event from JetStream and appends it to the event store."""

from sonda_events.recorder.consumer import RECORDER_CONSUMER, recorder_consumer_config
from sonda_events.recorder.main import RecorderSettings, build_dead_letter_copier, build_recorder, main, run
from sonda_events.recorder.recorder import Recorder, RecorderStats

__all__ = [
    "RECORDER_CONSUMER",
    "Recorder",
    "RecorderSettings",
    "RecorderStats",
    "build_dead_letter_copier",
    "build_recorder",
    "main",
    "recorder_consumer_config",
    "run",
]
