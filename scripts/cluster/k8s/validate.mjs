#!/usr/bin/env node
// Offline check of the manifests here with kubectl, no cluster needed:
//   node scripts/cluster/k8s/validate.mjs [FILE.yaml…]   → the objects kubectl made of them, as one JSON array
// `kubectl create --dry-run=client` still asks an API server which kinds exist (discovery) — without one it
// stops at "connection refused" even with --validate=false — and schema validation (--validate=true) needs the
// server's OpenAPI document, which kubectl does not ship. So this serves kubectl the discovery documents of
// the kinds used here (v1 ConfigMap, PersistentVolumeClaim; batch/v1 Job) on 127.0.0.1 and runs
// `kubectl create --dry-run=client --validate=false -o json -f FILE` for each: the YAML must parse into
// objects of known kinds. Field-level checks are the caller's (test/unit/k8s.test.ts). Exit 1 on any failure.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(here)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join(here, f));
const res = (name, kind, namespaced = true) => ({
  name,
  singularName: '',
  namespaced,
  kind,
  verbs: ['create', 'get', 'list'],
});
const docs = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: 'batch',
        versions: [{ groupVersion: 'batch/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'batch/v1', version: 'v1' },
      },
    ],
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      res('configmaps', 'ConfigMap'),
      res('persistentvolumeclaims', 'PersistentVolumeClaim'),
      res('namespaces', 'Namespace', false),
    ],
  },
  '/apis/batch/v1': { kind: 'APIResourceList', groupVersion: 'batch/v1', resources: [res('jobs', 'Job')] },
};
const server = createServer((req, rsp) => {
  const doc = docs[new URL(req.url, 'http://x').pathname];
  rsp.writeHead(doc ? 200 : 404, { 'content-type': 'application/json' });
  rsp.end(JSON.stringify(doc ?? { kind: 'Status', status: 'Failure', code: 404 }));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const dir = mkdtempSync(join(tmpdir(), 'k8s-validate-'));
const kubeconfig = join(dir, 'config');
writeFileSync(
  kubeconfig,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'offline', cluster: { server: `http://127.0.0.1:${server.address().port}` } }],
    contexts: [{ name: 'offline', context: { cluster: 'offline', user: 'none', namespace: 'default' } }],
    users: [{ name: 'none', user: {} }],
    'current-context': 'offline',
  }),
);
const out = [];
let failed = false;
for (const f of files) {
  try {
    const json = await new Promise((resolve, reject) => {
      // asynchronous: the discovery server above runs on this process's event loop
      execFile(
        'kubectl',
        ['create', '--dry-run=client', '--validate=false', '-o', 'json', '-f', f],
        { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir } },
        (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)),
      );
    });
    const obj = JSON.parse(json);
    out.push(...(obj.kind === 'List' ? obj.items : [obj]));
  } catch (e) {
    failed = true;
    console.error(`${f}: ${e.message.trim()}`);
  }
}
server.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(out, null, 1));
process.exit(failed ? 1 : 0);
