"""Asynchronous scoring jobs: upload a dump, follow its progress, download the tables.

The job runs the same code as ``voc score`` (:func:`voc.batch.score_file`) in a background
thread of the service; its outputs (documents and mentions as Parquet, errors as JSONL) and a
status file live in ``VOC_JOBS_DIR/<id>/``, so a finished job survives a restart.
"""

import json
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import List, Optional

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from api.deps import get_nlp
from api.schemas import ErrorResponse
from api.security import require_read, require_write
from api.settings import Settings, get_settings
from voc.batch import ScoreSettings, score_file
from voc.errors import E_BAD_REQUEST, E_JOB_NOT_DONE, E_NOT_FOUND, E_TOO_MANY, InputError, VocError
from voc.io import guess_format, split_fields

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
TABLES = {"documents": "scored.parquet", "mentions": "scored.mentions.parquet", "errors": "scored.errors.jsonl"}


class NotFound(VocError):
    """404: no such job or result."""


def _folder(settings: Settings, job_id: str) -> Path:
    if not _ID_RE.match(job_id):
        raise NotFound(f"No job {job_id!r}.", E_NOT_FOUND)
    d = Path(settings.jobs_dir) / job_id
    if not (d / "status.json").exists():
        raise NotFound(f"No job {job_id!r}.", E_NOT_FOUND)
    return d


def _write_status(folder: Path, status: dict) -> None:
    tmp = folder / "status.json.tmp"
    tmp.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    tmp.replace(folder / "status.json")


def _run(nlp, folder: Path, settings: ScoreSettings, status: dict) -> None:
    status.update(state="running", started_at=time.time())
    _write_status(folder, status)
    last = [0.0]

    def progress(done: int) -> None:
        status["rows_done"] = done
        if time.time() - last[0] > 0.5:
            last[0] = time.time()
            _write_status(folder, status)

    try:
        summary = score_file(nlp, settings, on_progress=progress)
        status.update(state="done", summary={k: v for k, v in summary.items() if k != "outputs"},
                      rows_done=summary["read"])
    except VocError as e:
        status.update(state="failed", error=e.to_dict())
    except Exception as e:  # noqa: BLE001 - recorded on the job, never lost
        status.update(state="failed", error={"code": "E199", "message": f"{type(e).__name__}: {e}"})
    status["finished_at"] = time.time()
    _write_status(folder, status)


@router.post("", status_code=202, dependencies=[Depends(require_write)],
             responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
                        422: {"model": ErrorResponse}})
def create_job(request: Request, file: UploadFile = File(..., description=".csv, .tsv, .jsonl, .txt, .parquet, "
                                                                         "optionally .gz"),
               text_field: str = Form("text"), id_field: str = Form("id"), time_field: Optional[str] = Form(None),
               channel_field: Optional[str] = Form(None), customer_field: Optional[str] = Form(None),
               reach_field: Optional[str] = Form(None), segment_field: List[str] = Form([]),
               encoding: Optional[str] = Form(None), nlp=Depends(get_nlp),
               settings: Settings = Depends(get_settings)) -> JSONResponse:
    """Upload a dump and score it in the background, exactly as ``voc score`` would. Poll
    ``GET /v1/jobs/{id}`` for progress; download ``GET /v1/jobs/{id}/results/{table}``."""
    name = Path(file.filename or "upload").name
    fmt = guess_format(name)  # E402 for an extension voc cannot read
    job_id = uuid.uuid4().hex
    folder = Path(settings.jobs_dir) / job_id
    folder.mkdir(parents=True)
    target = folder / ("input-" + re.sub(r"[^\w.\-]", "_", name))
    size = 0
    with open(target, "wb") as out:
        while chunk := file.file.read(1 << 20):
            size += len(chunk)
            if size > settings.max_upload_bytes:
                out.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise InputError(f"The upload is larger than {settings.max_upload_bytes:,} bytes "
                                 "(VOC_MAX_UPLOAD_BYTES); score it with `voc score` instead.", E_TOO_MANY)
            out.write(chunk)
    fields = {role: col for role, col in (("time", time_field), ("channel", channel_field),
                                          ("customer", customer_field), ("reach", reach_field)) if col}
    segs = split_fields(segment_field)
    if set(segs) & (set(fields) | {"id", "row", "text", "source"}):
        shutil.rmtree(folder, ignore_errors=True)
        raise InputError("A segment name clashes with a record field; name it NAME=COLUMN.", E_BAD_REQUEST)
    fields.update(segs)
    score = ScoreSettings(str(target), output=str(folder / TABLES["documents"]), format=fmt,
                          text_field=text_field, id_field=id_field, fields=fields, encoding=encoding, workers=1,
                          source=name, progress=False, force=True)
    status = {"id": job_id, "state": "queued", "input": name, "bytes": size, "rows_done": 0,
              "created_at": time.time()}
    _write_status(folder, status)
    answer = dict(status)  # the thread updates its own copy from here on
    threading.Thread(target=_run, args=(nlp, folder, score, status), daemon=True, name=f"voc-job-{job_id}").start()
    base = str(request.url_for("get_job", job_id=job_id))
    return JSONResponse(status_code=202, content={**answer, "links": {
        "status": base, **{t: f"{base}/results/{t}" for t in TABLES}}})


@router.get("/{job_id}", name="get_job", dependencies=[Depends(require_read)],
            responses={404: {"model": ErrorResponse}})
def get_job(job_id: str, settings: Settings = Depends(get_settings)) -> dict:
    """State (queued, running, done, failed), rows done, and the summary or error."""
    return json.loads((_folder(settings, job_id) / "status.json").read_text(encoding="utf-8"))


@router.get("/{job_id}/results/{table}", dependencies=[Depends(require_read)],
            responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
def get_results(job_id: str, table: str, settings: Settings = Depends(get_settings)):
    """Download ``documents`` or ``mentions`` (Parquet) or ``errors`` (JSON Lines)."""
    folder = _folder(settings, job_id)
    if table not in TABLES:
        raise NotFound(f"No table {table!r}; tables: {', '.join(TABLES)}.", E_NOT_FOUND)
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    if status["state"] != "done":
        return JSONResponse(status_code=409, content={"error": {"code": E_JOB_NOT_DONE, "message":
                            f"The job is {status['state']}; results are ready when it is done."}})
    path = folder / TABLES[table]
    media = "application/vnd.apache.parquet" if path.suffix == ".parquet" else "application/x-ndjson"
    return FileResponse(path, media_type=media, filename=f"{job_id}-{path.name}")
