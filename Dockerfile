# Build stage: install the package and its dependencies into a virtual environment.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY service ./service
COPY migrations ./migrations
RUN /opt/venv/bin/pip install .

# Runtime stage: only the environment, run as an unprivileged user.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SERVER__HOST=0.0.0.0 \
    SERVER__PORT=8000
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin partnerships
COPY --from=build /opt/venv /opt/venv
USER partnerships
EXPOSE 8000
# The image never starts an embedded database: DATABASE_URL must point at PostgreSQL.
# `serve` applies the migrations, then serves.
CMD ["sh", "-c", ": \"${DATABASE_URL:?set DATABASE_URL to a PostgreSQL URL}\" && exec partnerships serve"]
