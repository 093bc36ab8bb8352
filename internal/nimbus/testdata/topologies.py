"""Builds the StormTopology values of testdata/*.thrift with streamparse 5.0.1's
own DSL, as `sparse submit` sends them (serializer prefix applied by
streamparse's own set_topology_serializer).

Run from this directory:  $SQUALL_PYTHON topologies.py
The Python component classes are never imported by the DSL beyond their
module path, so they are declared here.
"""

import sys

from streamparse import Bolt, Grouping, JavaBolt, JavaSpout, ShellBolt, Spout, Stream, Topology
from streamparse.util import set_topology_serializer


class WordSpout(Spout):
    outputs = ["word"]


class WordCountBolt(Bolt):
    outputs = ["word", "count"]


class SplitBolt(Bolt):
    outputs = [Stream(fields=["word"], name="default"), Stream(fields=["msg"], name="errors"),
               Stream(fields=["word", "n"], name="audit", direct=True)]


class SinkBolt(Bolt):
    outputs = []


for cls in (WordSpout, WordCountBolt, SplitBolt, SinkBolt):
    cls.__module__ = "components." + cls.__name__.lower()


class WordCount(Topology):
    """The quickstart's wordcount."""
    word_spout = WordSpout.spec()
    count_bolt = WordCountBolt.spec(inputs={word_spout: Grouping.fields("word")}, par=2)


class Streams(Topology):
    """Named and direct streams, every grouping, component config, a shell bolt."""
    words = WordSpout.spec(name="words", par=3, config={"topology.tick.tuple.freq.secs": 5})
    split = SplitBolt.spec(name="split", inputs=[words])
    count = WordCountBolt.spec(name="count", inputs={split: Grouping.fields("word")}, par=2,
                               config={"counter.flush": 10, "labels": ["a", "b"]})
    errors = SinkBolt.spec(name="errors", inputs={split["errors"]: Grouping.GLOBAL})
    audit = SinkBolt.spec(name="audit", inputs={split["audit"]: Grouping.DIRECT})
    everyone = SinkBolt.spec(name="everyone", inputs={count: Grouping.ALL, words: Grouping.NONE})
    near = SinkBolt.spec(name="near", inputs={count: Grouping.LOCAL_OR_SHUFFLE})
    shell = ShellBolt.spec(name="shell", command="python3", script="sink.py", inputs=[count], outputs=["x"])


class Kafka(Topology):
    """storm-kafka-client's spout and bolt by class name, configured by config."""
    pixels = JavaSpout.spec(name="pixels", full_class_name="org.apache.storm.kafka.spout.KafkaSpout",
                            args_list=[], outputs=["topic", "partition", "offset", "key", "value"],
                            config={"kafka.input": "pixels", "kafka.brokers": "127.0.0.1:9092"})
    count = WordCountBolt.spec(name="count", inputs={pixels: Grouping.fields("value")})
    out = JavaBolt.spec(name="out", full_class_name="org.apache.storm.kafka.bolt.KafkaBolt", args_list=[],
                        inputs=[count], config={"kafka.output": "counts", "kafka.brokers": "127.0.0.1:9092"})


class JavaPixel(Topology):
    """examples/kafka-jvm: a user's JVM class squall cannot run."""
    pixel_spout = JavaSpout.spec(name="pixel-spout", full_class_name="pixelcount.spouts.PixelSpout",
                                 args_list=[7, "x", True], outputs=["pixel"])
    count = WordCountBolt.spec(name="count", inputs=[pixel_spout])


class PartialKey(Topology):
    """Storm's PartialKeyGrouping (maps to squall's), and one custom class (rejected)."""
    words = WordSpout.spec(name="words")
    pk = WordCountBolt.spec(name="pk", inputs={
        words: Grouping.custom_object("org.apache.storm.grouping.PartialKeyGrouping", [])})


class CustomGrouping(Topology):
    words = WordSpout.spec(name="words")
    odd = SinkBolt.spec(name="odd", inputs={words: Grouping.custom_object("com.example.OddGrouping", [1])})


def main():
    cases = [("wordcount", WordCount, "json"), ("streams", Streams, "msgpack"), ("kafka", Kafka, "json"),
             ("javapixel", JavaPixel, "json"), ("partialkey", PartialKey, None), ("customgrouping", CustomGrouping, "json")]
    for name, topo, ser in cases:
        set_topology_serializer({}, {"serializer": ser} if ser else {}, topo)
        topo.write(name + ".thrift")
        print("wrote", name + ".thrift", file=sys.stderr)


if __name__ == "__main__":
    main()
