// A kubelet stand-in: registers Ready nodes, renews their leases, marks scheduled pods
// Running/Ready (or failing, for images tagged `fail...`; not before their ResourceClaims are
// allocated and reserved for them) and finishes pod deletions. It runs
// no containers; its kubelet port answers log requests with generated lines, so
// `kubectl logs` and `debug-pod --logs` work (exec and attach do not).
import fs from 'node:fs';
import https from 'node:https';
import { Agent, fetch } from 'undici';

const server = process.env.MLOPS_SERVER;
const token = process.env.MLOPS_TOKEN;
const nodeCount = Number(process.env.MLOPS_NODES ?? 2);
const dispatcher = new Agent({ connect: { ca: fs.readFileSync(process.env.MLOPS_CA) }, connections: 32 });
const log = (m) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);

async function api(method, path, body, contentType = 'application/json') {
  const res = await fetch(server + path, {
    method,
    dispatcher,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType, accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

// mlops-node-1 has 8 whole GPUs; a MIG node (tainted, as GPU nodes usually are, so only pods
// that tolerate it land there) offers slices of one GPU in GFD's mixed strategy.
const MIG_NODE = 'mlops-node-mig';
const nodeNames = [...Array.from({ length: nodeCount }, (_, i) => `mlops-node-${i + 1}`), MIG_NODE];

// The kubelet API the API server proxies logs to. It serves with the API server's own
// certificate: the API server does not verify kubelets unless told to.
const kubeletPort = await new Promise((resolve) => {
  const srv = https.createServer({ cert: fs.readFileSync(process.env.MLOPS_TLS_CERT), key: fs.readFileSync(process.env.MLOPS_TLS_KEY) }, (req, res) => {
    const url = new URL(req.url, 'https://localhost');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end('not found: the fake kubelet serves container logs only\n');
      return;
    }
    const total = 20;
    const tail = Math.min(Number(url.searchParams.get('tailLines') ?? total), total);
    const lines = Array.from({ length: tail }, (_, i) => `fake-kubelet: ${m[2]}/${m[3]} log line ${total - tail + i + 1} of ${total}`);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\n') + '\n');
  });
  srv.listen(0, '127.0.0.1', () => resolve(srv.address().port));
});

// What GPU feature discovery (NVIDIA's gpu-feature-discovery) would label these nodes with.
const GFD = {
  'mlops-node-1': {
    'nvidia.com/gpu.present': 'true',
    'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB',
    'nvidia.com/gpu.memory': '81920',
    'nvidia.com/gpu.count': '8',
    'nvidia.com/gpu.replicas': '1',
    'nvidia.com/mig.strategy': 'none',
  },
  [MIG_NODE]: {
    'nvidia.com/gpu.present': 'true',
    'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3',
    'nvidia.com/gpu.memory': '81559',
    'nvidia.com/gpu.count': '1',
    'nvidia.com/mig.strategy': 'mixed',
    'nvidia.com/mig-1g.10gb.count': '4',
    'nvidia.com/mig-1g.10gb.memory': '9856',
    'nvidia.com/mig-3g.40gb.count': '1',
    'nvidia.com/mig-3g.40gb.memory': '40192',
  },
};

function nodeObject(name, i) {
  // The first node has GPUs so GPU-aware commands have something real to find.
  const capacity = { cpu: '64', memory: '256Gi', pods: '5000', 'ephemeral-storage': '1Ti' };
  if (i === 0) capacity['nvidia.com/gpu'] = '8';
  if (name === MIG_NODE) Object.assign(capacity, { 'nvidia.com/mig-1g.10gb': '4', 'nvidia.com/mig-3g.40gb': '1' });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'fake-kubelet', ...(GFD[name] ?? {}) } },
    spec: name === MIG_NODE ? { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] } : {},
    status: {
      capacity,
      allocatable: capacity,
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
      nodeInfo: {
        kubeletVersion: 'v1.35.4-fake',
        osImage: 'fake',
        operatingSystem: 'linux',
        architecture: 'amd64',
        containerRuntimeVersion: 'fake://1',
        kernelVersion: '',
        kubeProxyVersion: '',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    },
  };
}

function readyConditions(now) {
  return [
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: now, lastTransitionTime: now },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', lastHeartbeatTime: now, lastTransitionTime: now },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', lastHeartbeatTime: now, lastTransitionTime: now },
  ];
}

async function registerNodes() {
  for (const [i, name] of nodeNames.entries()) {
    const obj = nodeObject(name, i);
    const r = await api('POST', '/api/v1/nodes', obj);
    if (r.status !== 201 && r.status !== 409) throw new Error(`create node ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    await heartbeat(name, i);
  }
}

async function heartbeat(name, i) {
  const now = new Date().toISOString();
  const st = nodeObject(name, i).status;
  await api('PATCH', `/api/v1/nodes/${name}/status`, { status: { ...st, conditions: readyConditions(now) } }, 'application/strategic-merge-patch+json');
  const lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: {
      holderIdentity: name,
      leaseDurationSeconds: 40,
      renewTime: new Date()
        .toISOString()
        .replace('Z', '000Z')
        .replace(/\.(\d{3})000Z$/, '.$1000Z'),
    },
  };
  const r = await api('PUT', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`, lease);
  if (r.status === 404) await api('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease);
}

function failing(image) {
  return /:fail[\w.-]*$/.test(image);
}

let ipCounter = 0;
const inflight = new Set();

async function reconcilePod(pod) {
  const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
  if (!nodeNames.includes(pod.spec.nodeName)) return;
  if (inflight.has(key)) return;
  inflight.add(key);
  try {
    if (pod.metadata.deletionTimestamp) {
      await api('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata.uid },
      });
      return;
    }
    if (pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (!(await claimsPrepared(pod, now))) return;
    const bad = pod.spec.containers.filter((c) => failing(c.image));
    const ready = bad.length === 0 ? 'True' : 'False';
    ipCounter += 1;
    const podIP = `10.244.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 2}`;
    const containerStatuses = pod.spec.containers.map((c) => {
      const isBad = failing(c.image);
      return {
        name: c.name,
        image: c.image,
        imageID: isBad ? '' : `fake://${c.image}`,
        containerID: isBad ? undefined : `fake://${pod.metadata.uid}/${c.name}`,
        ready: !isBad,
        started: !isBad,
        restartCount: 0,
        state: isBad ? { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` } } : { running: { startedAt: now } },
      };
    });
    const status = {
      phase: bad.length === 0 ? 'Running' : 'Pending',
      hostIP: '127.0.0.1',
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: now,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        {
          type: 'ContainersReady',
          status: ready,
          lastTransitionTime: now,
          ...(bad.length ? { reason: 'ContainersNotReady', message: `containers with unready status: [${bad.map((c) => c.name).join(' ')}]` } : {}),
        },
        {
          type: 'Ready',
          status: ready,
          lastTransitionTime: now,
          ...(bad.length ? { reason: 'ContainersNotReady', message: `containers with unready status: [${bad.map((c) => c.name).join(' ')}]` } : {}),
        },
      ],
      containerStatuses,
    };
    if (bad.length && pod.status?.containerStatuses?.[0]?.state?.waiting) return; // already reported
    const r = await api('PATCH', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`, { status }, 'application/merge-patch+json');
    if (r.status >= 300 && r.status !== 404) log(`status ${key}: ${r.status} ${r.body?.message ?? ''}`);
  } catch (e) {
    log(`pod ${key}: ${e.message}`);
  } finally {
    inflight.delete(key);
  }
}

/**
 * Like the kubelet's DRA manager: a pod's ResourceClaims must be allocated and reserved for it
 * before its containers start (the scheduler does both before binding). Otherwise the pod stays
 * ContainerCreating, with the kubelet's event, and the periodic sweep tries again.
 */
async function claimsPrepared(pod, now) {
  const refs = pod.spec.resourceClaims ?? [];
  if (!refs.length) return true;
  const byStatus = new Map((pod.status?.resourceClaimStatuses ?? []).map((s) => [s.name, s.resourceClaimName]));
  let problem;
  for (const ref of refs) {
    const name = ref.resourceClaimName ?? byStatus.get(ref.name);
    if (!name) {
      problem = `claim for ${ref.name} has not been created yet`;
      break;
    }
    const r = await api('GET', `/apis/resource.k8s.io/v1/namespaces/${pod.metadata.namespace}/resourceclaims/${name}`);
    const claim = r.status === 200 ? r.body : undefined;
    if (!claim?.status?.allocation) problem = `resourceclaim ${name} is not allocated`;
    else if (!(claim.status.reservedFor ?? []).some((c) => c.uid === pod.metadata.uid)) problem = `resourceclaim ${name} is not reserved for this pod`;
    if (problem) break;
  }
  if (!problem) return true;
  const message = `prepare dynamic resources: ${problem}`;
  if (pod.status?.containerStatuses?.[0]?.state?.waiting?.message === message) return false;
  await api('POST', `/api/v1/namespaces/${pod.metadata.namespace}/events`, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${pod.metadata.name}.` },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    reason: 'FailedPrepareDynamicResources',
    message: `Failed to prepare dynamic resources: ${problem}`,
    type: 'Warning',
    source: { component: 'kubelet', host: pod.spec.nodeName },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  });
  const waiting = { waiting: { reason: 'ContainerCreating', message } };
  await api(
    'PATCH',
    `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`,
    {
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }],
        containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready: false, started: false, restartCount: 0, state: waiting })),
      },
    },
    'application/merge-patch+json',
  );
  return false;
}

async function watchPods() {
  let rv;
  const list = await api('GET', '/api/v1/pods?fieldSelector=spec.nodeName!%3D');
  rv = list.body.metadata.resourceVersion;
  await Promise.all(list.body.items.map(reconcilePod));
  for (;;) {
    try {
      const res = await fetch(`${server}/api/v1/pods?watch=1&allowWatchBookmarks=true&fieldSelector=spec.nodeName!%3D&resourceVersion=${rv}&timeoutSeconds=300`, {
        dispatcher,
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status !== 200) throw new Error(`watch status ${res.status}`);
      let buf = '';
      const dec = new TextDecoder();
      for await (const chunk of res.body) {
        buf += dec.decode(chunk, { stream: true });
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line);
          if (ev.type === 'ERROR') throw new Error(`watch error ${ev.object?.message}`);
          rv = ev.object.metadata.resourceVersion;
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') void reconcilePod(ev.object);
        }
      }
    } catch (e) {
      log(`re-listing pods after: ${e.message}`);
      const l = await api('GET', '/api/v1/pods?fieldSelector=spec.nodeName!%3D');
      rv = l.body.metadata.resourceVersion;
      await Promise.all(l.body.items.map(reconcilePod));
    }
  }
}

// Pods whose deletion the watch may have raced with are swept periodically.
async function sweep() {
  const l = await api('GET', '/api/v1/pods?fieldSelector=spec.nodeName!%3D');
  for (const p of l.body.items ?? []) if (p.metadata.deletionTimestamp || p.status?.phase === 'Pending') void reconcilePod(p);
}

await registerNodes();
log(`registered ${nodeNames.join(', ')}`);
setInterval(() => nodeNames.forEach((n, i) => heartbeat(n, i).catch((e) => log(`heartbeat ${n}: ${e.message}`))), 10_000);
setInterval(() => sweep().catch((e) => log(`sweep: ${e.message}`)), 5_000);
process.on('SIGTERM', () => process.exit(0));
await watchPods();
