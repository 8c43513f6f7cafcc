#!/usr/bin/env bash
# Offline schema check of every manifest under deploy/k8s (also secrets.example.yaml and the
# admin Job that kustomization.yaml leaves out):
#
#   deploy/local/k8s-check.sh            check every YAML file in deploy/k8s
#   deploy/local/k8s-check.sh FILE...    check only these
#
# Kubernetes' own kinds are validated, strictly (unknown fields are errors), against the JSON
# schemas that the PyPI package kubernetes-validate ships, for the oldest and newest Kubernetes
# versions named in K8S_VERSIONS: no cluster and no download of schemas at check time. The
# package is installed once, pinned, into .kaiku/tools/venv (PyPI is the only network use).
#
# kubernetes-validate knows no custom resources (it only warns about them), so the
# CloudNativePG kinds (Cluster, ScheduledBackup) are checked here against small schemas of our
# own, written from CloudNativePG's API for the fields these manifests use: a field outside them
# is an error, so a typo cannot pass; extend the schema when a manifest starts using another
# field. kustomization.yaml is checked for its structure and that it lists every manifest but
# the two left out on purpose. Also checked: every object is in namespace kaiku, and the NATS
# ConfigMap's users.conf is byte-for-byte deploy/nats/users.conf.
#
# When kubectl is on PATH, `kubectl kustomize deploy/k8s` must also build (no cluster needed).
#
# Not checked: whether the cluster accepts the objects (admission, quotas, the operator's
# webhooks), nats.conf and the collector's configuration beyond parsing as text and YAML.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly K8S_DIR="${KAIKU_ROOT}/deploy/k8s"
readonly TOOLS_DIR="${KAIKU_ROOT}/.kaiku/tools"
readonly VENV_DIR="${TOOLS_DIR}/venv"
readonly KUBERNETES_VALIDATE_VERSION=1.37.0
# The oldest Kubernetes deploy/k8s/README.md asks for (gRPC probes are GA since 1.27) and the
# newest this package version knows; KAIKU_K8S_VERSIONS overrides.
readonly K8S_VERSIONS="${KAIKU_K8S_VERSIONS:-1.30.0 1.37.0}"

ensure_validator() {
    local installed=""
    if [[ -x "${VENV_DIR}/bin/kubernetes-validate" ]]; then
        installed="$("${VENV_DIR}/bin/kubernetes-validate" --version 2>/dev/null || true)"
    fi
    if [[ "${installed}" == "${KUBERNETES_VALIDATE_VERSION}" ]]; then
        return 0
    fi
    log_step "installing kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} into ${VENV_DIR}"
    command -v python3 >/dev/null 2>&1 || die "python3 not found (apt-get install python3 python3-venv)"
    mkdir -p -- "${TOOLS_DIR}"
    if [[ ! -x "${VENV_DIR}/bin/pip" ]]; then
        python3 -m venv "${VENV_DIR}" ||
            die "python3 -m venv failed; on Debian install python3-venv (apt-get install python3-venv)"
    fi
    "${VENV_DIR}/bin/pip" install --quiet --disable-pip-version-check \
        "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}" ||
        die "pip could not install kubernetes-validate ${KUBERNETES_VALIDATE_VERSION}"
}

# kubectl's built-in kustomize renders the kustomization offline; skipped without kubectl.
check_kustomize_build() {
    if ! command -v kubectl >/dev/null 2>&1; then
        log_info "kubectl not found: skipping the kustomize build"
        return 0
    fi
    local rendered objects
    rendered="$(kubectl kustomize "${K8S_DIR}")" || die "kubectl kustomize ${K8S_DIR} failed (above)"
    objects="$(grep -c '^kind:' <<<"${rendered}" || true)"
    log_step "kubectl kustomize deploy/k8s builds: ${objects} objects"
}

main() {
    local -a files=()
    if (($# > 0)); then
        files=("$@")
    else
        mapfile -t files < <(find "${K8S_DIR}" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
    fi
    ((${#files[@]} > 0)) || die "no YAML files in ${K8S_DIR}"
    ensure_validator
    check_kustomize_build
    log_step "checking ${#files[@]} files in deploy/k8s against Kubernetes ${K8S_VERSIONS}"
    KAIKU_K8S_DIR="${K8S_DIR}" KAIKU_USERS_CONF="${KAIKU_ROOT}/deploy/nats/users.conf" \
        KAIKU_K8S_VERSIONS="${K8S_VERSIONS}" \
        "${VENV_DIR}/bin/python" - "${files[@]}" <<'PYTHON'
import os
import sys

import jsonschema
import yaml
from kubernetes_validate import utils as kv

K8S_DIR = os.environ["KAIKU_K8S_DIR"]
USERS_CONF = os.environ["KAIKU_USERS_CONF"]
VERSIONS = os.environ["KAIKU_K8S_VERSIONS"].split()
NAMESPACE = "kaiku"
# Files kustomization.yaml must not list; every other manifest it must.
NOT_IN_KUSTOMIZATION = {"secrets.example.yaml", "projection-rebuild-job.yaml"}
CLUSTER_SCOPED = {"Namespace"}


def obj(properties, required=()):
    """A JSON-schema object that allows only the named properties."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


STRING = {"type": "string"}
BOOL = {"type": "boolean"}
STRING_MAP = {"type": "object", "additionalProperties": STRING}
QUANTITY = {"type": ["string", "integer", "number"]}
METADATA = {
    "type": "object",
    "properties": {"name": STRING, "namespace": STRING, "labels": STRING_MAP,
                   "annotations": STRING_MAP},
    "required": ["name"],
    "additionalProperties": False,
}
RESOURCES = obj({"requests": {"type": "object", "additionalProperties": QUANTITY},
                 "limits": {"type": "object", "additionalProperties": QUANTITY}})
LOCAL_REF = obj({"name": STRING}, ["name"])

# postgresql.cnpg.io/v1 Cluster: the fields of CloudNativePG's ClusterSpec (api/v1) that these
# manifests use, with their types and enums.
CNPG_CLUSTER = obj({
    "apiVersion": {"const": "postgresql.cnpg.io/v1"},
    "kind": {"const": "Cluster"},
    "metadata": METADATA,
    "spec": obj({
        "description": STRING,
        "instances": {"type": "integer", "minimum": 1},
        "imageName": STRING,
        "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
        "primaryUpdateMethod": {"enum": ["switchover", "restart"]},
        "enableSuperuserAccess": BOOL,
        "bootstrap": obj({
            "initdb": obj({"database": STRING, "owner": STRING, "secret": LOCAL_REF,
                           "postInitSQL": {"type": "array", "items": STRING},
                           "postInitApplicationSQL": {"type": "array", "items": STRING}}),
        }),
        "managed": obj({
            "roles": {"type": "array", "items": obj({
                "name": STRING,
                "ensure": {"enum": ["present", "absent"]},
                "comment": STRING,
                "login": BOOL,
                "superuser": BOOL,
                "createdb": BOOL,
                "createrole": BOOL,
                "inherit": BOOL,
                "replication": BOOL,
                "bypassrls": BOOL,
                "connectionLimit": {"type": "integer"},
                "validUntil": STRING,
                "disablePassword": BOOL,
                "inRoles": {"type": "array", "items": STRING},
                "passwordSecret": LOCAL_REF,
            }, ["name"])},
        }),
        "postgresql": obj({
            "parameters": STRING_MAP,
            "pg_hba": {"type": "array", "items": STRING},
        }),
        "storage": obj({"size": STRING, "storageClass": STRING,
                        "resizeInUseVolumes": BOOL}),
        "walStorage": obj({"size": STRING, "storageClass": STRING}),
        "resources": RESOURCES,
        "affinity": obj({
            "enablePodAntiAffinity": BOOL,
            "topologyKey": STRING,
            "podAntiAffinityType": {"enum": ["preferred", "required"]},
            "nodeSelector": STRING_MAP,
        }),
        "backup": obj({
            "volumeSnapshot": obj({
                "className": STRING,
                "walClassName": STRING,
                "labels": STRING_MAP,
                "annotations": STRING_MAP,
                "online": BOOL,
                "snapshotOwnerReference": {"enum": ["none", "cluster", "backup"]},
            }),
            "retentionPolicy": STRING,
            "target": {"enum": ["primary", "prefer-standby"]},
        }),
        "monitoring": obj({"enablePodMonitor": BOOL}),
    }, ["instances", "storage"]),
}, ["apiVersion", "kind", "metadata", "spec"])

# postgresql.cnpg.io/v1 ScheduledBackup (ScheduledBackupSpec). The schedule is robfig/cron with
# a leading seconds field: six fields.
CNPG_SCHEDULED_BACKUP = obj({
    "apiVersion": {"const": "postgresql.cnpg.io/v1"},
    "kind": {"const": "ScheduledBackup"},
    "metadata": METADATA,
    "spec": obj({
        "schedule": {"type": "string", "pattern": r"^\S+( \S+){5}$"},
        "cluster": LOCAL_REF,
        "method": {"enum": ["barmanObjectStore", "volumeSnapshot", "plugin"]},
        "immediate": BOOL,
        "suspend": BOOL,
        "online": BOOL,
        "target": {"enum": ["primary", "prefer-standby"]},
        "backupOwnerReference": {"enum": ["none", "self", "cluster"]},
        "pluginConfiguration": obj({"name": STRING, "parameters": STRING_MAP}, ["name"]),
    }, ["schedule", "cluster"]),
}, ["apiVersion", "kind", "metadata", "spec"])

KUSTOMIZATION = obj({
    "apiVersion": {"const": "kustomize.config.k8s.io/v1beta1"},
    "kind": {"const": "Kustomization"},
    "namespace": {"const": NAMESPACE},
    "resources": {"type": "array", "items": STRING, "minItems": 1},
    "images": {"type": "array", "items": obj({"name": STRING, "newName": STRING,
                                              "newTag": STRING, "digest": STRING},
                                             ["name"])},
}, ["apiVersion", "kind", "resources"])

OWN_SCHEMAS = {
    ("postgresql.cnpg.io/v1", "Cluster"): CNPG_CLUSTER,
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): CNPG_SCHEDULED_BACKUP,
}

passed = 0
failed = 0


def report(ok, where, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {where}: {what}{(' (' + detail + ')') if detail else ''}")
    else:
        failed += 1
        print(f"FAIL  {where}: {what}: {detail}")


def schema_errors(schema, doc):
    validator = jsonschema.Draft202012Validator(schema)
    return ["/".join(str(p) for p in e.absolute_path) + ": " + e.message
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))]


def check_kustomization(where, path, doc):
    errors = schema_errors(KUSTOMIZATION, doc)
    listed = set(doc.get("resources") or [])
    manifests = {name for name in os.listdir(K8S_DIR)
                 if name.endswith((".yaml", ".yml")) and name != os.path.basename(path)}
    for name in sorted(listed - manifests):
        errors.append(f"resources names {name}, which is not in deploy/k8s")
    for name in sorted(manifests - listed - NOT_IN_KUSTOMIZATION):
        errors.append(f"{name} is not listed in resources")
    for name in sorted(listed & NOT_IN_KUSTOMIZATION):
        errors.append(f"{name} must not be listed in resources")
    report(not errors, where, "Kustomization", "; ".join(errors))


def check_object(where, doc):
    kind = doc.get("kind", "?")
    name = (doc.get("metadata") or {}).get("name", "?")
    what = f"{kind}/{name}"
    if kind not in CLUSTER_SCOPED and (doc.get("metadata") or {}).get("namespace") != NAMESPACE:
        report(False, where, what, f"metadata.namespace is not {NAMESPACE}")
        return
    own = OWN_SCHEMAS.get((doc.get("apiVersion"), kind))
    if own is not None:
        errors = schema_errors(own, doc)
        report(not errors, where, what,
               "; ".join(errors) if errors else "own schema of the CloudNativePG fields used")
        return
    problems = []
    for version in VERSIONS:
        try:
            kv.validate(doc, version, strict=True)
        except kv.SchemaNotFoundError as e:
            problems.append(f"Kubernetes {version} has no schema for it ({e.message}); add one "
                            "to this script if it is a custom resource")
        except kv.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            problems.append(f"Kubernetes {version}: {path}: {e.message}")
    if problems:
        report(False, where, what, "; ".join(problems))
        return
    extra = check_content(doc)
    report(not extra, where, what,
           "; ".join(extra) if extra else "Kubernetes " + ", ".join(VERSIONS) + ", strict")


def check_content(doc):
    """Checks of what a ConfigMap carries."""
    problems = []
    if doc.get("kind") != "ConfigMap":
        return problems
    data = doc.get("data") or {}
    if "users.conf" in data:
        with open(USERS_CONF, encoding="utf-8") as f:
            if data["users.conf"] != f.read():
                problems.append("data.users.conf differs from deploy/nats/users.conf (copy it "
                                "again; it must stay identical)")
    for key, value in data.items():
        if key.endswith((".yaml", ".yml")):
            try:
                yaml.safe_load(value)
            except yaml.YAMLError as e:
                problems.append(f"data.{key} is not YAML: {e}")
    return problems


for path in sys.argv[1:]:
    where = os.path.relpath(path, os.path.dirname(os.path.dirname(K8S_DIR)))
    try:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        report(False, where, "file", str(e))
        continue
    if not docs:
        report(False, where, "file", "no YAML documents")
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            report(False, where, "document", "not an object with apiVersion and kind")
        elif doc["kind"] == "Kustomization":
            check_kustomization(where, path, doc)
        else:
            check_object(where, doc)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PYTHON
}

main "$@"
