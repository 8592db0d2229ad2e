# syntax=docker/dockerfile:1
# dx-promoter-bot: build wheels in one stage, run as a non-root user in a slim one.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY storage ./storage
# The FAQ search's general synonym lexicon (the Sudachi synonym dictionary, from PyPI), as package data.
RUN python dialogs/qa/search/lexicon.py fetch
RUN python -m venv /opt/dxbot && /opt/dxbot/bin/pip install --upgrade pip && /opt/dxbot/bin/pip install .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/dxbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DXBOT_HOST=0.0.0.0 \
    DXBOT_PORT=3978 \
    DXBOT_DATABASE_URL=sqlite+aiosqlite:////var/lib/dxbot/dxbot.sqlite3 \
    MPLCONFIGDIR=/tmp/matplotlib
RUN groupadd --system dxbot && useradd --system --gid dxbot --home /var/lib/dxbot dxbot \
    && mkdir -p /var/lib/dxbot && chown dxbot:dxbot /var/lib/dxbot
COPY --from=build /opt/dxbot /opt/dxbot
USER dxbot
WORKDIR /var/lib/dxbot
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request;urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"DXBOT_PORT\",\"3978\")}/readyz',timeout=4)"
# Check the settings, migrate, then serve. With PostgreSQL, set
# DXBOT_DATABASE_URL=postgresql+asyncpg://user:pass@host/db.
# The image listens on every interface, so it refuses to start without MicrosoftAppId (local mode has
# no authentication) and without MicrosoftAppPassword, MicrosoftAppTenantId and DXBOT_SECRET_KEY; the
# message says what to set. See "Security" in README.md.
CMD ["sh", "-c", "dxbot check && dxbot db upgrade && exec dxbot run"]
