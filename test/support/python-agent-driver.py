"""
Runs the real Python agent (plexus-agent 0.3.x, imported from PYTHONPATH) the way a device with
one sensor runs it: its own PlexusConnector, configured from ~/.plexus/config.json and
PLEXUS_WS_URL as `plexus run` would be, with a counter sensor ("temp" = 1, 2, 3, ...) because
`plexus run` only finds I2C sensors. Prints every status line of the connector, flushed.
"""
import asyncio
import sys

from plexus.connector import PlexusConnector
from plexus.sensors.base import BaseSensor, SensorHub, SensorReading


class Counter(BaseSensor):
    name = "Counter"
    metrics = ["temp"]

    def __init__(self):
        super().__init__(sample_rate=10)
        self.count = 0

    def read(self):
        self.count += 1
        return [SensorReading("temp", float(self.count))]


def status(text):
    print(text, flush=True)


hub = SensorHub()
hub.add(Counter())
status("driver: plexus-agent connector starting")
try:
    asyncio.run(PlexusConnector(on_status=status, sensor_hub=hub).connect())
except KeyboardInterrupt:
    sys.exit(0)
