# The etender image: the product and exactly the packages of requirements.lock, nothing fetched at run time.
# Built by docs/compose.yaml (`docker compose -f docs/compose.yaml build`); see docs/deploy.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ETENDER_DATA=/data

# The record PDF is typeset with a CJK font (the opening record is in Chinese).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app etender \
    && mkdir -p /data && chown etender /data

WORKDIR /app
# the lock first: the layer of packages is rebuilt only when the lock changes
COPY requirements.lock ./
RUN pip install pip==26.3 && pip install -r requirements.lock
COPY . .
RUN pip install --no-deps --no-build-isolation -e . && python -m compileall -q /app

USER etender
EXPOSE 8000
# Migrates, then serves; `--no-demo` because a deployment never loads the public demo accounts.
CMD ["etender", "serve", "--host", "0.0.0.0", "--no-demo"]
