// Checks rendered Kubernetes manifests offline (docker/k8s/validate.sh):
//   node check-manifests.mjs FILE.yaml...
// 1. Each document against the API's JSON schema for its apiVersion and kind, from the
//    npm package kubernetes-models (types, required fields, enums, formats; fields the API
//    does not know are not caught, as the schemas allow them).
// 2. What these manifests promise dusty: the grace period covers the preStop pause plus
//    timeouts.drain (10 s), probes name the health endpoints on the named port, and the
//    pod runs as the image's non-root uid.
import { readFileSync } from "node:fs";
import yaml from "js-yaml";

const drainSeconds = 10; // http::server_config::timeouts.drain
let passes = 0, failures = 0;
const fail = (what) => { console.log(`FAIL - ${what}`); failures++; };
const ok = (what) => { console.log(`ok   - ${what}`); passes++; };

for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(readFileSync(file, "utf8"))) {
    if (!doc) continue;
    const what = `${file}: ${doc.kind}/${doc.metadata?.name}`;
    let model;
    try {
      model = await import(`kubernetes-models/${doc.apiVersion}`);
    } catch {
      fail(`${what}: unknown apiVersion ${doc.apiVersion}`);
      continue;
    }
    const Kind = model[doc.kind];
    if (!Kind) { fail(`${what}: unknown kind in ${doc.apiVersion}`); continue; }
    try {
      new Kind(doc).validate();
      ok(`${what} matches the ${doc.apiVersion} schema`);
    } catch (e) {
      fail(`${what}: ${e.message}`);
    }
    if (doc.kind === "Deployment") checkDeployment(what, doc.spec.template.spec);
  }
}

function checkDeployment(what, pod) {
  const c = pod.containers[0];
  const preStop = c.lifecycle?.preStop;
  const pause = preStop?.sleep?.seconds ?? Number(preStop?.exec?.command?.[1] ?? 0);
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (grace > pause + drainSeconds) ok(`${what}: grace ${grace} s > preStop ${pause} s + drain ${drainSeconds} s`);
  else fail(`${what}: terminationGracePeriodSeconds ${grace} must exceed preStop ${pause} s + drain ${drainSeconds} s`);
  const port = (c.ports ?? []).find((p) => p.name === "http");
  const probes = { livenessProbe: "/healthz", readinessProbe: "/readyz", startupProbe: "/healthz" };
  for (const [probe, path] of Object.entries(probes)) {
    const get = c[probe]?.httpGet;
    if (get?.path === path && (get.port === "http" || get.port === port?.containerPort)) ok(`${what}: ${probe} GET ${path}`);
    else fail(`${what}: ${probe} should GET ${path} on the http port`);
  }
  const sc = { ...pod.securityContext, ...c.securityContext };
  if (sc.runAsNonRoot && sc.runAsUser === 10001) ok(`${what}: runs as non-root uid 10001 (the image's USER)`);
  else fail(`${what}: should set runAsNonRoot and runAsUser 10001`);
  const seccomp = pod.securityContext?.seccompProfile ?? c.securityContext?.seccompProfile;
  if (seccomp?.type === "Localhost" || seccomp?.type === "RuntimeDefault") ok(`${what}: seccomp ${seccomp.type}`);
  else fail(`${what}: no seccomp profile`);
}

console.log(`k8s manifests: ${passes} passed, ${failures} failed`);
process.exitCode = failures ? 1 : 0;
