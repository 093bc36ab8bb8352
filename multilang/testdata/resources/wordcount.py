"""pystorm components for squall's multilang tests, used unchanged the way
Storm runs them:

    python wordcount.py SplitBolt [-s msgpack]       # Flux-style argv
    streamparse_run "-s msgpack wordcount.SplitBolt"  # streamparse-style

Nothing here knows about squall.
"""

import os
import sys
import time
from collections import Counter

from pystorm import BatchingBolt, Bolt, Spout

SENTENCES = [
    "the cow jumped over the moon",
    "an apple a day keeps the doctor away",
    "four score and seven years ago",
    "snow white and the seven dwarfs",
    "i am at two with nature",
]


class SentenceSpout(Spout):
    """Emits conf["test.sentences"] (default SENTENCES) once each, with the
    index as the tuple id, and replays failed ones."""

    def initialize(self, conf, context):
        self.sentences = conf.get("test.sentences") or SENTENCES
        self.next_index = 0
        self.replay = []

    def next_tuple(self):
        if self.replay:
            i = self.replay.pop(0)
        elif self.next_index < len(self.sentences):
            i = self.next_index
            self.next_index += 1
        else:
            return
        self.emit([self.sentences[i]], tup_id=i)

    def ack(self, tup_id):
        pass

    def fail(self, tup_id):
        self.replay.append(tup_id)


class SplitBolt(Bolt):
    """Splits a sentence into words (auto-anchored, auto-acked)."""

    def process(self, tup):
        for word in tup.values[0].split():
            self.emit([word])


class CountBolt(Bolt):
    """Counts words and emits the running count."""

    def initialize(self, conf, context):
        self.counts = Counter()

    def process(self, tup):
        word = tup.values.word  # a namedtuple: the context's source->stream->fields
        self.counts[word] += 1
        self.emit([word, self.counts[word]])


class BatchCountBolt(BatchingBolt):
    """Counts the words of each batch (between tick tuples) and emits
    [word, count-in-batch]."""

    ticks_between_batches = 1

    def group_key(self, tup):
        return tup.values[0]

    def process_batch(self, key, tups):
        self.emit([key, len(tups)])


class FaultyBolt(Bolt):
    """Echoes words, except "raise" (an exception: pystorm reports it, fails
    the tuple and exits), "hang" (sleeps for ever) and "garbage" (writes
    bytes that are not the protocol to stdout)."""

    def process(self, tup):
        word = tup.values[0]
        if word == "raise":
            raise ValueError("I do not like %r" % word)
        if word == "hang":
            while True:
                time.sleep(60)
        if word == "metric":
            self.report_metric("words", {"word": word, "n": 1})
            self.log("reported a metric", level="warning")
        if word == "garbage":
            os.write(1, b"this is not json\n{{{\nend\n\xc1\xc1\xc1")
            time.sleep(60)
        self.emit([word])


class CrashOnStartBolt(Bolt):
    """Raises in initialize, outside pystorm's handling: Python prints the
    traceback on stderr and exits, as a bolt whose database is down does."""

    def initialize(self, conf, context):
        self.logger.info("connecting to the database")
        raise RuntimeError("cannot connect to the database at db:5432")

    def process(self, tup):
        pass


class LogBolt(Bolt):
    """Logs each word it is given (pystorm's logger: log commands) and acks it."""

    def process(self, tup):
        self.logger.info("LogBolt saw %s", tup.values[0])


class FileSinkBolt(Bolt):
    """Appends each tuple's values, space-separated, to conf["test.output"]."""

    def initialize(self, conf, context):
        self.path = conf["test.output"]

    def process(self, tup):
        with open(self.path, "a") as f:
            f.write(" ".join(str(v) for v in tup.values) + "\n")


def main(argv):
    serializer = "json"
    names = []
    i = 0
    while i < len(argv):
        if argv[i] in ("-s", "--serializer"):
            serializer = argv[i + 1]
            i += 2
        else:
            names.append(argv[i])
            i += 1
    globals()[names[0]](serializer=serializer).run()


if __name__ == "__main__":
    main(sys.argv[1:])
