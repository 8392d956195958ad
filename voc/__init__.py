"""voc: voice-of-customer analysis for Chinese and English customer texts.

>>> import voc
>>> nlp = voc.load()
>>> doc = nlp("The food was great but the waiter was rude.")
>>> doc.to_dict()["touchpoints"][0]["id"]    # doctest: +SKIP
'service'
"""

from .document import Clause, Document
from .errors import DependencyError, InputError, ModelError, VocError
from .pipeline import Pipeline, default_model_path, load

__version__ = "0.1.0"

__all__ = ["load", "Pipeline", "Document", "Clause", "VocError", "InputError", "ModelError",
           "DependencyError", "default_model_path", "__version__"]
