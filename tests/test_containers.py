"""The container files (issue 17), checked where no container engine runs: docs/compose.yaml is valid YAML
of the Compose shape, builds the repository's Dockerfile, and starts the deployed shape of docs/deploy.md
(two web processes behind the balancer, exactly one worker with the periodic tasks, one plain worker), every
etender process with the same platform identity and shared services, and only settings the product reads.
The Dockerfile installs exactly the lock file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docs" / "compose.yaml"
SOURCES = ["core", "storage", "audit", "accounts", "tender", "evaluation", "web", "cli", "supervision"]
# settings read by the product: core.settings' _env("NAME", ...) and os.environ.get("NAME") anywhere
READ = re.compile(r"""(?:_env|environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(doc, dict) and isinstance(doc.get("services"), dict)
    return doc


def _etender_services() -> dict[str, dict[str, Any]]:
    return {
        name: s
        for name, s in _compose()["services"].items()
        if str(s.get("command", "")).startswith("etender ")
    }


def _settings_read() -> set[str]:
    names: set[str] = set()
    for package in SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            names |= set(READ.findall(path.read_text()))
    return names


def test_every_service_is_well_formed_and_builds_the_dockerfile():
    doc = _compose()
    for name, service in doc["services"].items():
        assert "image" in service or "build" in service, name
        for key in service:
            assert key in {
                "image",
                "build",
                "command",
                "environment",
                "volumes",
                "ports",
                "depends_on",
                "restart",
            }, (name, key)
        for dep in service.get("depends_on", []):
            assert dep in doc["services"], (name, dep)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith(".") or source in doc["volumes"], (name, volume)
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), (name, volume)
        if "build" in service:
            context = COMPOSE.parent / service["build"]["context"]
            assert (context / service["build"]["dockerfile"]).is_file(), name


def test_the_deployed_shape_of_deploy_md():
    services = _etender_services()
    web = [n for n, s in services.items() if s["command"].startswith("etender serve")]
    beat = [
        n
        for n, s in services.items()
        if s["command"].startswith("etender worker") and "--beat" in s["command"]
    ]
    plain = [
        n
        for n, s in services.items()
        if s["command"].startswith("etender worker") and "--beat" not in s["command"]
    ]
    assert len(web) >= 2 and len(beat) == 1 and len(plain) >= 1, services.keys()
    assert all("--no-demo" in services[n]["command"] for n in web)  # the demo's passwords are public
    balancer = [s for s in _compose()["services"].values() if "nginx" in str(s.get("image", ""))]
    assert len(balancer) == 1 and set(web) <= set(balancer[0]["depends_on"])
    upstream = (ROOT / "docs" / "nginx.conf").read_text()
    for name in web:
        assert f"server {name}:8000" in upstream


def test_every_etender_process_shares_one_identity_and_the_services():
    services = _etender_services()
    envs = [s["environment"] for s in services.values()]
    for key in (
        "DATABASE_URL",
        "ETENDER_SECRET_KEY",
        "ETENDER_SIGNING_KEYS",
        "ETENDER_ORIGIN",
        "ETENDER_SESSION_STORE",
        "CELERY_BROKER_URL",
        "ETENDER_BLOB_STORE",
    ):
        values = {e.get(key) for e in envs}
        assert len(values) == 1 and None not in values, (key, values)
    assert envs[0]["ETENDER_SESSION_STORE"].startswith("redis://")
    assert envs[0]["ETENDER_BLOB_STORE"] == "s3"
    keys = envs[0]["ETENDER_SIGNING_KEYS"]
    for name, service in services.items():
        mounts = {v.split(":")[1] for v in service["volumes"]}
        assert keys in mounts, (name, "the signing-key directory is not mounted")


def test_only_settings_the_product_reads():
    known = _settings_read()
    assert {"DATABASE_URL", "ETENDER_SIGNING_KEYS", "ETENDER_SECRET_KEY", "S3_ENDPOINT"} <= known
    for name, service in _etender_services().items():
        unknown = set(service["environment"]) - known
        assert not unknown, (name, unknown)


def test_the_dockerfile_installs_exactly_the_lock_and_fetches_nothing_at_run_time():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", text, re.M)
    assert "pip install -r requirements.lock" in text
    installs = re.findall(r"pip install ([^\n&]+)", text)
    for args in installs:  # only the lock, pip's own pinned version, and the project without its deps
        assert "requirements.lock" in args or "pip==" in args or "--no-deps" in args, args
    assert "http://" not in text and "https://" not in text
    assert re.search(r"^USER (?!root)", text, re.M)  # not as root
    assert re.search(r'^CMD \["etender", "serve"', text, re.M)
