# The shape of Storm's Flux multilang example: `python splitsentence.py`.
from wordcount import SplitBolt

if __name__ == "__main__":
    SplitBolt().run()
