# voc HTTP service: docker build -t voc . && docker run -p 8000:8000 voc
# A model from `voc train`: docker run -p 8000:8000 -v "$PWD/models/airline:/models/airline" \
#   -e VOC_MODEL_PATH=/models/airline voc
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY voc ./voc
COPY api ./api
COPY models ./models
COPY data/samples ./data/samples
RUN pip install --no-cache-dir -e ".[api]" \
    && python -c "import voc; voc.load()('warm up 预热')"
EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
