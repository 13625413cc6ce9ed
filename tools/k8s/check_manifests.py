#!/usr/bin/env python3
"""Checks one rendered kustomization (a multi-document YAML file).

1. Every object validates against the Kubernetes JSON schemas that ship in
   the kubernetes-validate wheel (strict: unknown fields are errors; a kind
   without a schema is an error too), for each --kubernetes-version.
2. What lotledger relies on (see docs/operations.md):
   - one writer per topic: lotledgerd (embedded log) has replicas 1; a
     writing service with more replicas runs the writer election
     (LOTLEDGER_WRITER_ELECTION=true) with one writer id for all, each
     replica advertising its own address, a PodDisruptionBudget that keeps
     a replica, and anti-affinity over nodes;
   - every server StatefulSet:
     native gRPC startup/readiness/liveness probes on the plaintext
     health port 7071 (7070 speaks TLS, which kubelet probes cannot), non-root,
     read-only root filesystem, no capabilities, seccomp RuntimeDefault,
     requests and limits, a volumeClaimTemplate mounted at
     /var/lib/lotledger, terminationGracePeriodSeconds > preStop + the
     configured shutdown grace, a headless Service, a ClusterIP Service and
     a PodDisruptionBudget selecting it; the process's memory budget
     (LOTLEDGER_MEMORY_BUDGET_MB, default 512) within the container's memory
     limit, and projection checks at start (LOTLEDGER_VERIFY_PROJECTION)
     "quick" or "off": "full" hashes the whole projection at every start and
     stop, minutes at 10^7 events, beyond the shutdown grace;
   - every ConfigMap reference resolves within the rendered output;
   - NetworkPolicies for gRPC 7070, metrics 9090 and egress exist;
   - base and prod: one StatefulSet per directory of k8s/base/services,
     running `<name>-service`, and the topic Job creating the four topics
     with replication.factor 3, min.insync.replicas 2 and retention.ms=-1;
   - dev: exactly one StatefulSet, lotledgerd, and no Job;
   - security (docs/security.md, "Threat model"), every server:
     --insecure-dev=true only with a loopback --listen, as the server itself
     requires; /metrics off loopback only behind a NetworkPolicy that
     restricts who may scrape 9090. Every kustomization but dev (base,
     prod, any other overlay) additionally: no dev tokens (neither
     LOTLEDGER_DEV_TOKENS nor --dev-tokens nor a dev-token Secret), no
     --insecure-dev, TLS on the gRPC port, JWTs (JWKS file mounted from a
     volume, issuer, audience) and a checkpoint signing key mounted from a
     required Secret.
"""
import argparse
import os
import sys

import yaml
from kubernetes_validate import utils as kv

TOPICS = ["lots", "quality", "inventory", "recall"]
DATA_DIR = "/var/lib/lotledger"


class Checker:
    def __init__(self, name):
        self.name = name
        self.errors = []

    def fail(self, what, msg):
        self.errors.append(f"{what}: {msg}")

    def expect(self, cond, what, msg):
        if not cond:
            self.fail(what, msg)
        return cond


def ident(o):
    md = o.get("metadata") or {}
    return f"{o.get('kind')}/{md.get('name')}"


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def validate_schemas(c, objs, versions):
    for o in objs:
        if not isinstance(o, dict) or "kind" not in o or "apiVersion" not in o:
            c.fail("document", f"not a Kubernetes object: {str(o)[:80]}")
            continue
        for v in versions:
            try:
                kv.validate(o, v, strict=True)
            except kv.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                c.fail(ident(o), f"k8s {v}: {path}: {e.message}")
            except kv.SchemaNotFoundError as e:
                c.fail(ident(o), f"k8s {v}: {e.message}")
            except kv.VersionNotSupportedError as e:
                c.fail("kubernetes-validate", e.message)
                return


def env_value(c, container, key, configmaps, what):
    """The value of env `key` in a container: literal, configMapKeyRef or
    envFrom configMapRef, resolved against the rendered ConfigMaps."""
    for e in container.get("env") or []:
        if e.get("name") != key:
            continue
        if "value" in e:
            return str(e["value"])
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            data = (configmaps.get(ref.get("name")) or {}).get("data") or {}
            return data.get(ref.get("key"))
        return None
    for ef in container.get("envFrom") or []:
        ref = ef.get("configMapRef")
        if ref:
            data = (configmaps.get(ref.get("name")) or {}).get("data") or {}
            if key in data:
                return data[key]
    return None


def check_configmap_refs(c, objs, configmaps):
    for o in objs:
        spec = (o.get("spec") or {})
        pod = None
        if o["kind"] in ("StatefulSet", "Deployment", "Job", "DaemonSet"):
            pod = (spec.get("template") or {}).get("spec") or {}
        if pod is None:
            continue
        for ctr in (pod.get("containers") or []) + (pod.get("initContainers") or []):
            for ef in ctr.get("envFrom") or []:
                ref = ef.get("configMapRef")
                if ref and ref.get("name") not in configmaps and not ref.get("optional"):
                    c.fail(ident(o), f"envFrom ConfigMap {ref.get('name')} is not rendered")
            for e in ctr.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
                if not ref or ref.get("optional"):
                    continue
                cm = configmaps.get(ref.get("name"))
                if cm is None:
                    c.fail(ident(o), f"env {e['name']}: ConfigMap {ref.get('name')} is not rendered")
                elif ref.get("key") not in (cm.get("data") or {}):
                    c.fail(ident(o), f"env {e['name']}: ConfigMap {ref.get('name')} has no key {ref.get('key')}")
        for vol in pod.get("volumes") or []:
            ref = vol.get("configMap")
            if ref and ref.get("name") not in configmaps and not ref.get("optional"):
                c.fail(ident(o), f"volume {vol.get('name')}: ConfigMap {ref.get('name')} is not rendered")


def check_server(c, sts, objs, configmaps):
    what = ident(sts)
    spec = sts.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    psc = pod.get("securityContext") or {}
    c.expect(psc.get("runAsNonRoot") is True, what, "pod securityContext.runAsNonRoot must be true")
    c.expect((psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault", what,
             "pod seccompProfile must be RuntimeDefault")
    ctrs = {x.get("name"): x for x in pod.get("containers") or []}
    ctr = ctrs.get("server")
    if not c.expect(ctr is not None, what, "no container named `server`"):
        return
    sc = ctr.get("securityContext") or {}
    c.expect(sc.get("readOnlyRootFilesystem") is True, what, "readOnlyRootFilesystem must be true")
    c.expect(sc.get("allowPrivilegeEscalation") is False, what, "allowPrivilegeEscalation must be false")
    c.expect("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), what,
             "capabilities must drop ALL")
    res = ctr.get("resources") or {}
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            c.expect(r in (res.get(kind) or {}), what, f"resources.{kind}.{r} missing")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        g = (ctr.get(probe) or {}).get("grpc") or {}
        c.expect(g.get("port") == 7071, what, f"{probe} must be a native gRPC probe on the health port 7071")
    # A stopped projector turns the service's health NOT_SERVING (not Ready);
    # a restart would only stop on the same record again, so liveness asks
    # the name that stays SERVING while the process runs.
    live = ((ctr.get("livenessProbe") or {}).get("grpc") or {}).get("service")
    c.expect(live == "lotledger.liveness", what,
             "livenessProbe must ask grpc service lotledger.liveness (a stopped "
             f"projector must not restart the pod), asks {live!r}")
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or []}
    mounts = {m.get("mountPath"): m.get("name") for m in ctr.get("volumeMounts") or []}
    c.expect(mounts.get(DATA_DIR) in claims, what,
             f"{DATA_DIR} must be mounted from a volumeClaimTemplate")
    budget = env_value(c, ctr, "LOTLEDGER_MEMORY_BUDGET_MB", configmaps, what)
    budget_mib = int(budget) if budget is not None else 512  # the default
    limit = quantity_mib((res.get("limits") or {}).get("memory"))
    c.expect(limit is None or budget_mib <= limit, what,
             f"LOTLEDGER_MEMORY_BUDGET_MB {budget_mib} must fit within the "
             f"memory limit ({limit} MiB)")
    verify = env_value(c, ctr, "LOTLEDGER_VERIFY_PROJECTION", configmaps, what)
    c.expect(verify in ("quick", "off"), what,
             "LOTLEDGER_VERIFY_PROJECTION must be quick (or off): full hashes "
             f"the whole projection at every start and stop, is {verify!r}")
    data_dir = env_value(c, ctr, "LOTLEDGER_DATA_DIR", configmaps, what)
    c.expect(data_dir == DATA_DIR, what, f"LOTLEDGER_DATA_DIR must be {DATA_DIR}, is {data_dir}")
    grace = env_value(c, ctr, "LOTLEDGER_SHUTDOWN_GRACE_SECONDS", configmaps, what)
    grace = int(grace) if grace is not None else 20  # the binary's default
    pre_stop = 0
    cmd = (((ctr.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
    if len(cmd) == 2 and cmd[0] == "sleep":
        pre_stop = int(cmd[1])
    tgp = pod.get("terminationGracePeriodSeconds", 30)
    c.expect(tgp > pre_stop + grace, what,
             f"terminationGracePeriodSeconds {tgp} must exceed preStop {pre_stop} s"
             f" + shutdown grace {grace} s")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    services = [o for o in objs if o["kind"] == "Service"
                and labels_match((o.get("spec") or {}).get("selector"), labels)]
    headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
    c.expect(any(s["metadata"]["name"] == spec.get("serviceName") for s in headless), what,
             f"serviceName {spec.get('serviceName')} must be a headless Service selecting it")
    c.expect(any(s["spec"].get("clusterIP") != "None" for s in services), what,
             "no ClusterIP Service selects it")
    pdbs = [o for o in objs if o["kind"] == "PodDisruptionBudget" and labels_match(
        ((o.get("spec") or {}).get("selector") or {}).get("matchLabels"), labels)]
    c.expect(len(pdbs) == 1, what, f"expected one PodDisruptionBudget selecting it, found {len(pdbs)}")
    check_writers(c, sts, ctr, pod, pdbs, configmaps)


def quantity_mib(q):
    """A Kubernetes memory quantity in MiB (None when absent)."""
    if q is None:
        return None
    q = str(q)
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024,
             "k": 1000 / 1048576, "M": 1e6 / 1048576, "G": 1e9 / 1048576}
    for suffix, factor in units.items():
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * factor
    return float(q) / 1048576


def check_writers(c, sts, ctr, pod, pdbs, configmaps):
    """One writer per topic (docs/adr/0006-standby-writers.md): the embedded
    log belongs to one pod; replicas of a service that writes a topic take
    the writer role by the Kafka lease, share one writer id (so the new
    writer fences the old), each advertise their own address, are spread
    over nodes, and a drain never takes them all."""
    what = ident(sts)
    replicas = (sts.get("spec") or {}).get("replicas", 1)
    command = (ctr.get("command") or [None])[0]
    log = env_value(c, ctr, "LOTLEDGER_LOG", configmaps, what)
    if command == "lotledgerd" or log == "embedded":
        c.expect(replicas == 1, what,
                 f"replicas must be 1 on the embedded log (it belongs to one pod's "
                 f"volume; a second pod would be a second log), is {replicas}")
        return
    if command not in {f"{t}-service" for t in TOPICS} or replicas <= 1:
        return  # audit writes nothing: its replicas are readers
    election = env_value(c, ctr, "LOTLEDGER_WRITER_ELECTION", configmaps, what)
    c.expect(election == "true", what,
             f"{replicas} replicas of a writing service need LOTLEDGER_WRITER_ELECTION="
             f"true: without it every replica writes and each fences the others")
    for e in ctr.get("env") or []:
        if e.get("name") == "LOTLEDGER_WRITER_ID" and "fieldRef" in (e.get("valueFrom") or {}):
            c.fail(what, "LOTLEDGER_WRITER_ID must be the same in every replica (a per-pod "
                         "writer id fences nobody: two writers could fork a hash chain)")
    advertise = env_value(c, ctr, "LOTLEDGER_ADVERTISE_ADDRESS", configmaps, what) or ""
    c.expect("$(POD_NAME)" in advertise, what,
             "LOTLEDGER_ADVERTISE_ADDRESS must name each replica's own address "
             f"($(POD_NAME).<headless service>:7070), is {advertise!r}")
    for pdb in pdbs:
        ps = pdb.get("spec") or {}
        ok = (("maxUnavailable" in ps and isinstance(ps["maxUnavailable"], int)
               and ps["maxUnavailable"] < replicas)
              or ("minAvailable" in ps and isinstance(ps["minAvailable"], int)
                  and 1 <= ps["minAvailable"] < replicas))
        c.expect(ok, ident(pdb),
                 f"must keep a replica of {replicas} (so a standby can take the writer "
                 f"role during a drain) and let one go: maxUnavailable < {replicas} or "
                 f"1 <= minAvailable < {replicas}")
    anti = ((pod.get("affinity") or {}).get("podAntiAffinity") or {})
    terms = (anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []) + [
        t.get("podAffinityTerm") or {}
        for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
    c.expect(any(t.get("topologyKey") == "kubernetes.io/hostname" for t in terms), what,
             "replicas need a podAntiAffinity over kubernetes.io/hostname (a node's loss "
             "must not take the writer and its standbys)")


def env_source(container, key, configmaps):
    """(set, value) of env `key`: set is True when any source defines it;
    value is its text, or None when it comes from a Secret (unknown)."""
    for e in container.get("env") or []:
        if e.get("name") != key:
            continue
        if "value" in e:
            return True, str(e["value"])
        vf = e.get("valueFrom") or {}
        if "configMapKeyRef" in vf:
            ref = vf["configMapKeyRef"]
            data = (configmaps.get(ref.get("name")) or {}).get("data") or {}
            return (ref.get("key") in data), data.get(ref.get("key"))
        return True, None
    for ef in container.get("envFrom") or []:
        ref = ef.get("configMapRef")
        if ref:
            data = (configmaps.get(ref.get("name")) or {}).get("data") or {}
            if key in data:
                return True, data[key]
        if ef.get("secretRef"):
            return True, None  # may hold anything: counts as set
    return False, None


def is_loopback(address):
    host = (address or "").rsplit(":", 1)[0].strip("[]").lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")


def flag_in_command(container, flag):
    words = (container.get("command") or []) + (container.get("args") or [])
    return any(str(w) == flag or str(w).startswith(flag + "=") for w in words)


def mount_of(pod, container, path):
    """The volume `path` is read from: the mount whose mountPath is its
    longest prefix, and the pod volume it names; (None, None) if none."""
    best = None
    for m in container.get("volumeMounts") or []:
        mp = m.get("mountPath", "").rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best.get("mountPath", "")):
                best = m
    if best is None:
        return None, None
    vols = {v.get("name"): v for v in pod.get("volumes") or []}
    return best, vols.get(best.get("name"))


def check_security(c, sts, objs, configmaps, production):
    what = ident(sts)
    pod = (sts.get("spec") or {}).get("template", {}).get("spec") or {}
    ctr = {x.get("name"): x for x in pod.get("containers") or []}.get("server")
    if ctr is None:
        return

    def env(key):
        return env_source(ctr, key, configmaps)

    _, insecure = env("LOTLEDGER_INSECURE_DEV")
    insecure = insecure == "true" or flag_in_command(ctr, "--insecure-dev")
    _, listen = env("LOTLEDGER_LISTEN")
    listen = listen if listen is not None else "127.0.0.1:7070"
    c.expect(not insecure or is_loopback(listen), what,
             f"LOTLEDGER_INSECURE_DEV=true needs a loopback LOTLEDGER_LISTEN "
             f"(127.0.0.0/8, [::1], localhost), is {listen}: the server refuses to start")

    _, metrics = env("LOTLEDGER_METRICS_LISTEN")
    if metrics and not is_loopback(metrics):
        labels = ((sts.get("spec") or {}).get("template", {}).get("metadata") or {}).get("labels") or {}
        guarded = False
        for np in (o for o in objs if o["kind"] == "NetworkPolicy"):
            spec = np.get("spec") or {}
            if not labels_match((spec.get("podSelector") or {}).get("matchLabels"), labels):
                continue
            for rule in spec.get("ingress") or []:
                ports = {p.get("port") for p in rule.get("ports") or []}
                if 9090 in ports and rule.get("from"):
                    guarded = True
        c.expect(guarded, what,
                 f"/metrics listens on {metrics} (not loopback) without a NetworkPolicy "
                 "that admits only named sources to port 9090")

    if not production:
        return
    dev_set, dev_value = env("LOTLEDGER_DEV_TOKENS")
    dev_tokens = (dev_set and dev_value != "") or flag_in_command(ctr, "--dev-tokens")
    dev_secret = any("dev-token" in str((v.get("secret") or {}).get("secretName", ""))
                     for v in pod.get("volumes") or [])
    c.expect(not dev_tokens and not dev_secret, what,
             "dev tokens (LOTLEDGER_DEV_TOKENS, --dev-tokens or a dev-token Secret) "
             "must not be configured outside the dev overlay: production authenticates with JWTs")
    c.expect(not insecure, what,
             "LOTLEDGER_INSECURE_DEV=true (plaintext, dev tokens) only in the dev overlay")
    _, cert = env("LOTLEDGER_TLS_CERT")
    c.expect(bool(cert), what, "LOTLEDGER_TLS_CERT must name the gRPC port's certificate (TLS)")
    _, jwks = env("LOTLEDGER_JWKS_FILE")
    if c.expect(bool(jwks), what, "LOTLEDGER_JWKS_FILE must name the identity provider's JWKS"):
        m, vol = mount_of(pod, ctr, jwks)
        c.expect(vol is not None, what, f"the JWKS {jwks} is not under any volumeMount")
    for key in ("LOTLEDGER_JWT_ISSUER", "LOTLEDGER_JWT_AUDIENCE"):
        _, v = env(key)
        c.expect(bool(v), what, f"{key} must be set (JWTs)")
    _, key_path = env("LOTLEDGER_CHECKPOINT_KEY")
    if c.expect(bool(key_path), what,
                "LOTLEDGER_CHECKPOINT_KEY must name the checkpoint signing key: "
                "without it the hash chains are not signed"):
        m, vol = mount_of(pod, ctr, key_path)
        secret = (vol or {}).get("secret")
        c.expect(secret is not None and secret.get("optional") is not True, what,
                 f"the checkpoint key {key_path} must come from a required Secret volume")


def check_network_policies(c, objs):
    nps = [o for o in objs if o["kind"] == "NetworkPolicy"]
    ports = {"Ingress": set(), "Egress": set()}
    for np in nps:
        spec = np.get("spec") or {}
        for rule in spec.get("ingress") or []:
            ports["Ingress"] |= {p.get("port") for p in rule.get("ports") or []}
        for rule in spec.get("egress") or []:
            ports["Egress"] |= {p.get("port") for p in rule.get("ports") or []}
    c.expect(7070 in ports["Ingress"], "NetworkPolicy", "no ingress rule for gRPC 7070")
    c.expect(9090 in ports["Ingress"], "NetworkPolicy", "no ingress rule for metrics 9090")
    c.expect(53 in ports["Egress"], "NetworkPolicy", "no egress rule for DNS")
    c.expect(any(set((np.get("spec") or {}).get("policyTypes") or []) >= {"Ingress", "Egress"}
                 for np in nps), "NetworkPolicy", "no default-deny policy")


def check_topic_job(c, objs, configmaps):
    jobs = [o for o in objs if o["kind"] == "Job"]
    if not c.expect(len(jobs) == 1, "Job", f"expected the topic Job, found {len(jobs)} Jobs"):
        return
    job = jobs[0]
    what = ident(job)
    pod = job["spec"]["template"]["spec"]
    ctr = (pod.get("containers") or [{}])[0]
    c.expect(str(ctr.get("image", "")).startswith("apache/kafka:"), what,
             f"image must be a pinned apache/kafka, is {ctr.get('image')}")
    expect = {"LOTLEDGER_KAFKA_REPLICATION_FACTOR": "3",
              "LOTLEDGER_KAFKA_MIN_INSYNC_REPLICAS": "2"}
    for key, want in expect.items():
        got = env_value(c, ctr, key, configmaps, what)
        c.expect(got == want, what, f"{key} must be {want}, is {got}")
    parts = env_value(c, ctr, "LOTLEDGER_PARTITIONS", configmaps, what)
    c.expect(parts is not None and parts.isdigit() and int(parts) >= 1, what,
             f"LOTLEDGER_PARTITIONS must be a positive integer, is {parts}")
    topics = (env_value(c, ctr, "LOTLEDGER_TOPICS", configmaps, what) or "").split()
    c.expect(topics == TOPICS, what, f"LOTLEDGER_TOPICS must be {' '.join(TOPICS)}, is {topics}")
    # The script it runs, from its ConfigMap volume.
    script = ""
    cmd = ctr.get("command") or []
    for vol in pod.get("volumes") or []:
        ref = vol.get("configMap")
        if ref and ref.get("name") in configmaps:
            for fname, text in (configmaps[ref["name"]].get("data") or {}).items():
                if any(a.endswith("/" + fname) for a in cmd):
                    script = text
    if not c.expect(script, what, f"the script in {cmd} is not in a rendered ConfigMap"):
        return
    for needle in ("--if-not-exists", "--config retention.ms=-1",
                   '--replication-factor "$LOTLEDGER_KAFKA_REPLICATION_FACTOR"',
                   '"min.insync.replicas=$LOTLEDGER_KAFKA_MIN_INSYNC_REPLICAS"',
                   '--partitions "$LOTLEDGER_PARTITIONS"', "lotledger.$service.v1",
                   "kafka-topics.sh"):
        c.expect(needle in script, what, f"create-topics script lacks {needle}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubernetes-version", action="append", required=True)
    ap.add_argument("--services-dir", required=True)
    ap.add_argument("--name", required=True, help="base, overlays/dev, overlays/prod, ...")
    ap.add_argument("file")
    a = ap.parse_args()

    c = Checker(a.name)
    with open(a.file) as f:
        objs = [o for o in yaml.safe_load_all(f) if o]
    if not objs:
        print(f"FAIL {a.name}: rendered nothing")
        return 1
    validate_schemas(c, objs, a.kubernetes_version)
    objs = [o for o in objs if isinstance(o, dict) and "kind" in o]

    seen = set()
    for o in objs:
        key = (o["kind"], (o.get("metadata") or {}).get("namespace"), o["metadata"].get("name"))
        c.expect(key not in seen, ident(o), "defined twice")
        seen.add(key)

    configmaps = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ConfigMap"}
    check_configmap_refs(c, objs, configmaps)
    servers = [o for o in objs if o["kind"] == "StatefulSet"
               and (o["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "server"]
    c.expect(len(servers) == len([o for o in objs if o["kind"] == "StatefulSet"]), "StatefulSet",
             "every StatefulSet must be labelled app.kubernetes.io/component=server")
    for s in servers:
        check_server(c, s, objs, configmaps)
        check_security(c, s, objs, configmaps, production=a.name != "overlays/dev")
    check_network_policies(c, objs)

    def commands():
        out = {}
        for s in servers:
            ctr = [x for x in s["spec"]["template"]["spec"]["containers"] if x["name"] == "server"]
            out[s["metadata"]["name"]] = (ctr[0].get("command") or [None])[0] if ctr else None
        return out

    if a.name == "overlays/dev":
        c.expect(commands() == {"lotledgerd": "lotledgerd"}, "dev",
                 f"expected exactly one StatefulSet lotledgerd running lotledgerd, got {commands()}")
        c.expect(not any(o["kind"] == "Job" for o in objs), "dev",
                 "no topic Job in dev (the embedded log has no broker)")
    else:
        wanted = sorted(d for d in os.listdir(a.services_dir)
                        if os.path.isdir(os.path.join(a.services_dir, d)))
        want = {d: f"{d}-service" for d in wanted}
        c.expect(commands() == want, a.name,
                 f"expected one StatefulSet per service {want}, got {commands()}")
        check_topic_job(c, objs, configmaps)
        if a.name == "overlays/prod":
            for s in servers:
                pod = s["spec"]["template"]["spec"]
                c.expect("podAntiAffinity" in (pod.get("affinity") or {}), ident(s),
                         "prod needs podAntiAffinity")

    kinds = {}
    for o in objs:
        kinds[o["kind"]] = kinds.get(o["kind"], 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    if c.errors:
        for e in c.errors:
            print(f"FAIL {a.name}: {e}")
        return 1
    print(f"ok   {a.name}: {len(objs)} objects valid for Kubernetes "
          f"{', '.join(a.kubernetes_version)} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
