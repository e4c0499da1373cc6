"""Fast bulk production of unkeyed values (replay, simulate, bench) through aiokafka batches."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from itertools import islice

from aiokafka.errors import KafkaError

from pulse.errors import PulseError
from pulse.preflight import require_kafka_reachable
from streams.kafka_batch import BatchSender, Record, make_producer
from streams.settings import Settings

CHUNK = 5000


def produce_values(settings: Settings, topic: str, values: Iterable[bytes],
                   progress: Callable[[int], object] | None = None) -> int:
    """Produce every value (no key), spreading chunks over the partitions like a sticky partitioner.

    Returns the number produced once Kafka acknowledged all of them.
    """
    require_kafka_reachable(settings)
    return asyncio.run(_produce(settings, topic, values, progress))


async def _produce(settings: Settings, topic: str, values: Iterable[bytes],
                   progress: Callable[[int], object] | None) -> int:
    producer = make_producer(settings, "pulse-producer")
    try:
        await producer.start()
        sender = BatchSender(producer)
        try:
            partitions = await sender.partitions(topic)
        except (KafkaError, TypeError) as exc:
            raise PulseError(f"topic {topic} does not exist; run `pulse migrate` first") from exc
        it = iter(values)
        produced = 0
        chunk_no = 0
        pending: asyncio.Task[int] | None = None
        while True:
            chunk = list(islice(it, CHUNK))
            if not chunk:
                break
            partition = chunk_no % partitions
            chunk_no += 1
            records: list[Record] = [(partition, None, v) for v in chunk]
            # Build the next chunk while the previous one is in flight.
            if pending is not None:
                produced += await pending
                if progress is not None:
                    progress(produced)
            pending = asyncio.ensure_future(sender.send_all(topic, records))
        if pending is not None:
            produced += await pending
            if progress is not None:
                progress(produced)
        return produced
    except KafkaError as exc:
        raise PulseError(f"producing to {topic} failed ({type(exc).__name__}); is Kafka up and the topic "
                         "created (`pulse migrate`)?") from exc
    finally:
        await producer.stop()
