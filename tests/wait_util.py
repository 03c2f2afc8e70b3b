"""Waiting in tests for something another process does (a worker's snapshot, a freed place)."""
import time


def wait_for(cond, timeout: float = 30.0, every: float = 0.05):
    """Poll ``cond()`` until it returns something truthy (returned), or fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := cond():
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")
