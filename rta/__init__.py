"""rta: reflexive thematic analysis of anonymised Norwegian interview transcripts.

The command line (`rta ...`) is a thin layer over this library; every module can be used
from Python and notebooks. Data flows one way: files -> parsed model -> store -> analysis
-> report.
"""

__version__ = "0.1.0"
