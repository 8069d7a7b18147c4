FROM python:3.11-slim

# A CJK font so labels can print Chinese names.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cmdb ./cmdb
COPY importers ./importers
RUN pip install --no-cache-dir .

RUN useradd --create-home --uid 10001 cmdb && mkdir -p /data && chown cmdb /data
USER cmdb
ENV CMDB_HOST=0.0.0.0 CMDB_PORT=8000 CMDB_DATA_DIR=/data
EXPOSE 8000
CMD ["cmdb", "serve"]
