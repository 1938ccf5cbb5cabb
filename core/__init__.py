"""The shared nouns and plumbing every layer of callqa uses: transcripts, verdicts, errors, settings.

The bottom layer: it imports nothing of the project and nothing beyond the standard library and numpy.
"""

__version__ = "0.1.0"
