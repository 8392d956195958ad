# voc HTTP service: docker build -t voc . && docker run -p 8000:8000 -v voc-data:/data -e VOC_API_KEYS=change-me voc
# A model from `voc train`: add -v "$PWD/models/airline:/models/airline" -e VOC_MODEL_PATH=/models/airline
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md MANIFEST.in ./
COPY voc ./voc
COPY api ./api
COPY models ./models
RUN pip install --no-cache-dir ".[api]" \
    && useradd --create-home --uid 10001 voc \
    && mkdir -p /data && chown voc /data \
    && python -c "import voc; voc.load()('warm up 预热')"
USER voc
ENV VOC_STORE_PATH=/data/voc.duckdb
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
# One process owns the DuckDB store file.
CMD ["voc", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "1"]
