"""Wire schemas, separate from the library's Document."""

from typing import Any, List, Optional

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_ZH = "菜品味道不错，但是服务员态度太差了，再也不来了"
EXAMPLE_EN = "The food was great but the waiter was rude."


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": EXAMPLE_ZH, "id": "wb-001"},
                                                              {"text": EXAMPLE_EN, "id": "tw-001", "clauses": True}]})

    # Any type, so that a number or null gets the library's E102 like everywhere else.
    text: Any = Field(..., description="the customer's text (Chinese, English or mixed)",
                      json_schema_extra={"type": "string", "minLength": 1, "pattern": "\\S"})
    id: Optional[Any] = Field(None, description="your id for the text, echoed in the record")
    tokens: bool = Field(False, strict=True, description="include tokens with offsets")
    clauses: bool = Field(False, strict=True, description="include clauses with their sentiment")


class BatchItem(BaseModel):
    # Any type on purpose: a wrong type gets the item its own coded error (E102), never a 422
    # for the whole batch.
    text: Any = Field(None, description="the customer's text")
    id: Optional[Any] = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [{"text": EXAMPLE_ZH, "id": "1"},
                                                                         {"text": EXAMPLE_EN, "id": "2"}]}]})

    items: List[BatchItem]


class Span(BaseModel):
    start: int
    end: int
    text: str


class Sentiment(BaseModel):
    label: str
    score: float
    confidence: float


class Tagged(BaseModel):
    id: str
    parent: Optional[str] = None
    confidence: float
    sentiment: Sentiment
    evidence: List[Span]


class Signal(BaseModel):
    id: str
    confidence: float
    evidence: List[Span]


class Stage(BaseModel):
    id: str
    confidence: float


class Error(BaseModel):
    code: str
    message: str


class Record(BaseModel):
    id: Optional[str]
    language: str
    sentiment: Optional[Sentiment]
    touchpoints: List[Tagged]
    themes: List[Tagged]
    stage: Optional[Stage]
    signals: List[Signal]
    error: Optional[Error]
    tokens: Optional[List[Span]] = None
    clauses: Optional[List[dict]] = None


class BatchResponse(BaseModel):
    records: List[Record]
    errors: int


class ErrorResponse(BaseModel):
    """Every error the service returns has this one shape, with the library's codes."""

    error: Error
