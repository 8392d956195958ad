"""The pipeline's stages, one module per stage. Each is a named callable ``Document ->
Document``; the learned ones also take a batch through ``pipe(docs)`` so a batch is scored
with one matrix product.

Order (fixed): normalize → language → segment → clauses → lexicon → features →
sentiment → touchpoints → themes → signals → stage.
"""

from .base import Component, as_bias, evidence, language_bias, read_json
from .features import Featurizer, clause_matrix, clause_matrix_sparse, merge_clauses
from .lexicon import LEXICON_KINDS, LexiconTagger, scope_breaks
from .sentiment import SentimentClassifier
from .signals import SIGNAL_ORDER, SignalDetector, read_patterns
from .stage import STAGE_PRIORS, StageClassifier
from .text import ClauseSplitter, LanguageDetector, Normalizer, Tokenizer
from .themes import ThemeTagger
from .touchpoints import TouchpointClassifier

__all__ = ["Component", "Normalizer", "LanguageDetector", "Tokenizer", "ClauseSplitter", "LexiconTagger",
           "Featurizer", "SentimentClassifier", "TouchpointClassifier", "ThemeTagger", "StageClassifier",
           "SignalDetector", "LEXICON_KINDS", "SIGNAL_ORDER", "STAGE_PRIORS", "as_bias", "clause_matrix",
           "clause_matrix_sparse", "evidence", "language_bias", "merge_clauses", "read_json", "read_patterns",
           "scope_breaks"]
