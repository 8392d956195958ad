"""Wire schemas, separate from the library's Document."""

from typing import List, Optional

from pydantic import BaseModel, Field


class AnalyzeRequest(BaseModel):
    text: str = Field(..., description="the customer's text, any length up to the model's max_chars")
    id: Optional[str] = None
    tokens: bool = False
    clauses: bool = False


class BatchItem(BaseModel):
    text: Optional[str] = None
    id: Optional[str] = None


class BatchRequest(BaseModel):
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


class BatchResponse(BaseModel):
    records: List[Record]
    errors: int
