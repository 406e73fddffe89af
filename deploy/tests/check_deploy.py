#!/usr/bin/env python3
"""Static checks of the deploy files that no linter makes (run by scripts/test-deploy with the
deploy venv's Python, which has PyYAML and Jinja2):

- containerfile: multi-stage, the final stage runs as a non-root USER, has a VOLUME for the
  data folder, a HEALTHCHECK on /healthz at the port Quire listens on, and the ARM triples.
- k8s: what the schemas cannot say: one replica, `Recreate`, probes on /healthz and /readyz,
  requests and limits, non-root and a read-only root filesystem, the volume at the data
  folder, a Service and a Traefik Ingress that reach the pod, a parseable quire.toml.
- unit: the Ansible role's unit template, rendered with the role's defaults, is exactly
  deploy/systemd/quire.service (below its header comment).
"""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = "/var/lib/quire"
problems = []


def check(ok, message):
    if not ok:
        problems.append(message)
    return ok


# -- Containerfile -------------------------------------------------------------------------

def instructions(text):
    """(keyword, argument) pairs, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, arg = current.partition(" ")
        lines.append((keyword.upper(), arg.strip()))
        current = ""
    return lines


def containerfile():
    path = ROOT / "deploy/container/Containerfile"
    text = path.read_text()
    stages, stage = [], None
    for keyword, arg in instructions(text):
        if keyword == "FROM":
            stage = {"from": arg, "items": []}
            stages.append(stage)
        elif stage is not None:
            stage["items"].append((keyword, arg))
    check(len(stages) >= 2, "Containerfile: not multi-stage (one FROM)")
    if not stages:
        return
    final = stages[-1]["items"]

    def last(keyword):
        found = [arg for k, arg in final if k == keyword]
        return found[-1] if found else None

    check(any(k == "COPY" and "--from=" in a for k, a in final), "Containerfile: the final stage copies nothing from a build stage")
    user = last("USER")
    if check(user is not None, "Containerfile: the final stage has no USER (it would run as root)"):
        name = user.split(":")[0]
        check(name not in ("root", "0"), f"Containerfile: USER {user} is root")
    volume = last("VOLUME") or ""
    check(DATA_DIR in volume, f"Containerfile: no VOLUME for {DATA_DIR}")
    env = " ".join(a for k, a in final if k == "ENV")
    check(f"QUIRE_DATA_DIR={DATA_DIR}" in env, f"Containerfile: QUIRE_DATA_DIR is not {DATA_DIR}")
    listen = re.search(r"QUIRE_LISTEN=(\S+)", env)
    port = listen.group(1).rsplit(":", 1)[1] if check(listen, "Containerfile: no QUIRE_LISTEN") else "?"
    check(listen is None or listen.group(1).startswith("0.0.0.0:"), "Containerfile: QUIRE_LISTEN must be 0.0.0.0:… to be reachable")
    health = last("HEALTHCHECK") or ""
    check(f"127.0.0.1:{port}/healthz" in health, f"Containerfile: no HEALTHCHECK on http://127.0.0.1:{port}/healthz")
    check(port in (last("EXPOSE") or ""), f"Containerfile: EXPOSE does not name port {port}")
    check((last("STOPSIGNAL") or "SIGTERM") == "SIGTERM", "Containerfile: STOPSIGNAL must be SIGTERM (graceful stop)")
    entry = last("ENTRYPOINT") or ""
    check(entry.startswith("["), "Containerfile: ENTRYPOINT is not in exec form (signals would go to a shell)")
    for triple in ("aarch64-unknown-linux-musl", "armv7-unknown-linux-musleabihf"):
        check(triple in text, f"Containerfile: no build for {triple}")
    ignore = (ROOT / ".containerignore").read_text().split()
    check("target" in ignore, ".containerignore: target/ would be sent as build context")


# -- Kubernetes manifests ------------------------------------------------------------------

def k8s():
    import yaml

    docs = []
    for path in sorted((ROOT / "deploy/k3s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    kinds = {}
    for d in docs:
        kinds.setdefault(d["kind"], []).append(d)
    missing = [kind for kind in ("Deployment", "PersistentVolumeClaim", "Service", "Ingress", "ConfigMap") if kind not in kinds]
    if not check(not missing, f"k3s: no {', '.join(missing)}"):
        return
    dep = kinds["Deployment"][0]
    spec, pod = dep["spec"], dep["spec"]["template"]["spec"]
    check(spec.get("replicas") == 1, "k3s: the Deployment must have exactly one replica (one process opens the log)")
    check(spec.get("strategy", {}).get("type") == "Recreate", "k3s: the Deployment strategy must be Recreate")
    check(pod.get("enableServiceLinks") is False, "k3s: enableServiceLinks must be false (QUIRE_* service variables break the config)")
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, "k3s: the pod must run as non-root")
    (container,) = pod["containers"]
    csc = container.get("securityContext", {})
    check(csc.get("readOnlyRootFilesystem") is True, "k3s: readOnlyRootFilesystem must be true")
    check(csc.get("allowPrivilegeEscalation") is False, "k3s: allowPrivilegeEscalation must be false")
    check("ALL" in csc.get("capabilities", {}).get("drop", []), "k3s: capabilities must drop ALL")
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path and get.get("port") in (*ports, *ports.values()), f"k3s: {probe} must GET {path} on the container port")
    res = container.get("resources", {})
    for part in ("requests", "limits"):
        check({"cpu", "memory"} <= set(res.get(part, {})), f"k3s: resources.{part} needs cpu and memory")
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    pvc_name = kinds["PersistentVolumeClaim"][0]["metadata"]["name"]
    data = volumes.get(mounts.get(DATA_DIR, ""), {})
    check(data.get("persistentVolumeClaim", {}).get("claimName") == pvc_name, f"k3s: {DATA_DIR} is not the PersistentVolumeClaim {pvc_name}")
    check("/tmp" in mounts, "k3s: a read-only root filesystem needs a writable /tmp (git push)")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    svc = kinds["Service"][0]
    check(svc["spec"]["selector"].items() <= labels.items(), "k3s: the Service selector does not match the pod")
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    check(all(p["targetPort"] in (*ports, *ports.values()) for p in svc_ports.values()), "k3s: the Service targets no container port")
    ing = kinds["Ingress"][0]["spec"]
    check(ing.get("ingressClassName") == "traefik", "k3s: the Ingress class must be traefik (k3s's)")
    backends = [p["backend"]["service"] for r in ing["rules"] for p in r["http"]["paths"]]
    check(all(b["name"] == svc["metadata"]["name"] and b["port"].get("name", b["port"].get("number")) in (*svc_ports, *(p["port"] for p in svc_ports.values())) for b in backends), "k3s: the Ingress does not reach the Service")
    config = tomllib.loads(kinds["ConfigMap"][0]["data"]["quire.toml"])
    check(config.get("data_dir") == DATA_DIR, f"k3s: quire.toml data_dir is not {DATA_DIR}")
    listen_port = int(config.get("listen", ":0").rsplit(":", 1)[1])
    check(listen_port in ports.values() and config["listen"].startswith("0.0.0.0:"), "k3s: quire.toml listen does not match the container port")


# -- systemd unit vs the Ansible template -------------------------------------------------

def unit():
    import jinja2
    import yaml

    role = ROOT / "deploy/ansible/roles/quire"
    defaults = yaml.safe_load((role / "defaults/main.yml").read_text())
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True)
    rendered = env.from_string((role / "templates/quire.service.j2").read_text()).render(**defaults, ansible_managed="")
    shipped = (ROOT / "deploy/systemd/quire.service").read_text()
    service = {}
    for line in shipped.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            service.setdefault(key.strip(), []).append(value.strip())
    required = {
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
        "ReadWritePaths": DATA_DIR, "CapabilityBoundingSet": "", "Restart": "on-failure", "KillSignal": "SIGTERM",
    }
    for key, value in required.items():
        check(service.get(key) == [value], f"unit: {key}={value} expected, found {service.get(key)}")
    check(service.get("User", ["root"])[0] not in ("root", "0"), "unit: User= must be a dedicated non-root user")
    check("@system-service" in service.get("SystemCallFilter", []), "unit: SystemCallFilter=@system-service missing")
    families = " ".join(service.get("RestrictAddressFamilies", [])).split()
    check(families and set(families) <= {"AF_UNIX", "AF_INET", "AF_INET6"}, "unit: RestrictAddressFamilies must allow only AF_UNIX/AF_INET/AF_INET6")
    body = lambda s: s[s.index("[Unit]"):]  # noqa: E731
    if not check(body(rendered) == body(shipped), "unit: roles/quire/templates/quire.service.j2 with the defaults differs from deploy/systemd/quire.service"):
        import difflib
        sys.stderr.writelines(difflib.unified_diff(body(shipped).splitlines(True), body(rendered).splitlines(True), "quire.service", "rendered template"))


def main():
    which = sys.argv[1:] or ["containerfile", "k8s", "unit"]
    for name in which:
        before = len(problems)
        globals()[name]()
        print(f"   {name}: {'ok' if len(problems) == before else 'FAILED'}")
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
