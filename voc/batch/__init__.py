"""Batch scoring: dumps of customer texts in, flat documents / mentions / errors tables out.

``score_file`` is what ``voc score`` runs; ``engine.run`` is the ordered multi-process
runner that ``voc analyze`` and ``Pipeline.pipe`` share.
"""

from .records import DOC_COLUMNS, MENTION_COLUMNS, Flattener, experience_score
from .score import ScoreSettings, score_file

__all__ = ["ScoreSettings", "score_file", "Flattener", "DOC_COLUMNS", "MENTION_COLUMNS", "experience_score"]
