# syntax=docker/dockerfile:1
# Build stage: the dependencies, then the package, into a virtual environment.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# The dependencies in a layer of their own, from pyproject.toml alone: a change to the code
# (or the README) reuses it instead of reinstalling every dependency. The embedded
# PostgreSQL (the `embedded` extra) is not among them: the image is given DATABASE_URL.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip /opt/venv/bin/pip install -r requirements.txt
COPY README.md ./
COPY service ./service
RUN --mount=type=cache,target=/root/.cache/pip /opt/venv/bin/pip install --no-deps .

# Runtime stage: only the environment, run as an unprivileged user.
FROM python:3.11-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="Partnership Opportunity API" \
      org.opencontainers.image.description="HTTP API for cluster organisations, their strategic partnerships, missions, agreements and opportunities abroad" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SERVER__HOST=0.0.0.0 \
    SERVER__PORT=8000
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin partnerships
COPY --from=build /opt/venv /opt/venv
USER partnerships
EXPOSE 8000
# Readiness, not liveness: the database is reachable and migrated. The slim image has no
# curl; Python's standard library makes the request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"SERVER__PORT\", \"8000\")}/readyz', timeout=4)"]
# The image never starts an embedded database: DATABASE_URL must point at PostgreSQL.
# `serve` applies the migrations, then serves.
CMD ["sh", "-c", ": \"${DATABASE_URL:?set DATABASE_URL to a PostgreSQL URL}\" && exec partnerships serve"]
