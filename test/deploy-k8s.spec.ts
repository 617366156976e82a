/**
 * The Kubernetes manifests in deploy/kubernetes, checked without a cluster:
 * - every object against the Kubernetes OpenAPI schema of its kind (kubernetes-models, whose
 *   validators are compiled from the official schemas; no network), and for fields the API
 *   does not know (the schemas allow them, the API server's strict field validation does not);
 * - what the deployment needs: probes, resources, autoscalers, the 3-node NATS JetStream
 *   cluster, credentials only through the Secret, and only settings the apps read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import ts from 'typescript';
import { bucketsFor, QUEUES, subjectsFor } from '../libs/common/src/subjects.js';
import { appPortVariable } from '../scripts/platform-process.js';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { IIoK8sApiCoreV1Container as Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1EnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IIoK8sApiCoreV1PodTemplateSpec as PodTemplate } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IIoK8sApiCoreV1Probe as Probe } from 'kubernetes-models/v1/Probe';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const dir = join(root, 'deploy', 'kubernetes');
const APPS = ['gateway', 'ingest', 'realtime', 'pairing', 'alerts'] as const;
const SCALED_APPS = ['gateway', 'ingest', 'realtime'] as const;

/** Every kind the manifests may use. A kind missing here fails the test: add its model. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

// The manifests are YAML checked at run time; these are the shapes the checks below read.
interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
interface Workload {
  apiVersion: string;
  kind: 'Deployment' | 'StatefulSet';
  metadata: Meta;
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: PodTemplate;
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  [field: string]: any;
}
interface Located {
  file: string;
  index: number;
  manifest: Manifest;
}

const yamlFiles = readdirSync(dir)
  .filter((name) => /\.ya?ml$/.test(name))
  .sort();
const KUSTOMIZATION = 'kustomization.yaml';

/** Every object of every YAML file except kustomization.yaml (not a Kubernetes object). */
const located: Located[] = yamlFiles
  .filter((file) => file !== KUSTOMIZATION)
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).flatMap((document, index) => {
      if (document.errors.length > 0) throw new Error(`${file} document ${index}: ${document.errors.map(String).join('; ')}`);
      const manifest = document.toJS() as Manifest | null;
      return manifest === null ? [] : [{ file, index, manifest }];
    }),
  );
const manifests = located.map(({ manifest }) => manifest);
const describeManifest = ({ file, index, manifest }: Located): string => `${file}#${index} ${manifest?.kind}/${manifest?.metadata?.name}`;

const kustomization = parse(readFileSync(join(dir, KUSTOMIZATION), 'utf8')) as {
  namespace: string;
  resources: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
};

function find<T = Manifest>(kind: string, name: string): T {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} in deploy/kubernetes`);
  return found as T;
}
const all = <T = Manifest>(kind: string): T[] => manifests.filter((manifest) => manifest.kind === kind) as T[];
const workloads = (): Workload[] => [...all<Workload>('Deployment'), ...all<Workload>('StatefulSet')];
const containersOf = (workload: Workload): Container[] => [
  ...(workload.spec.template.spec?.initContainers ?? []),
  ...(workload.spec.template.spec?.containers ?? []),
];
const envOf = (container: Container): EnvVar[] => container.env ?? [];

/** `KEY=` lines of .env.example: the settings the apps read. */
const documentedSettings = new Set(
  [...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]),
);
/** Variables the image itself defines (APP picks the app), from the Dockerfile. */
const imageVariables = new Set(
  [...readFileSync(join(root, 'Dockerfile'), 'utf8').matchAll(/^ENV\s+([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]),
);
/** How long an app gives itself to stop after SIGTERM (libs/common/src/app/start-app.ts). */
const stopDeadlineSeconds = (() => {
  const source = readFileSync(join(root, 'libs', 'common', 'src', 'app', 'start-app.ts'), 'utf8');
  const match = /const STOP_DEADLINE_MS = ([\d_]+);/.exec(source);
  if (!match) throw new Error('STOP_DEADLINE_MS not found in libs/common/src/app/start-app.ts');
  return Number(match[1].replaceAll('_', '')) / 1000;
})();
const config = (): Record<string, string> => find<{ data: Record<string, string> }>('ConfigMap', 'plexus-config').data;

/** The named or numbered container port a probe or Service points at. */
function portNumber(container: Container, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);

describe('deploy/kubernetes: every object is valid against the Kubernetes API schemas', () => {
  it('finds the manifests', () => {
    expect(located.length).toBeGreaterThan(20);
  });

  it('knows every apiVersion/kind and each object passes its OpenAPI schema', () => {
    const failures: string[] = [];
    for (const entry of located) {
      const { apiVersion, kind } = entry.manifest ?? {};
      const Model = MODELS[`${apiVersion}/${kind}`];
      if (!Model) {
        failures.push(`${describeManifest(entry)}: no schema for ${apiVersion} ${kind}`);
        continue;
      }
      try {
        new Model(entry.manifest as never).validate();
      } catch (error) {
        failures.push(`${describeManifest(entry)}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  /**
   * The OpenAPI schemas accept fields they do not define (a misspelt `readinesProbe` would pass),
   * while `kubectl apply` rejects them (strict field validation). The same schemas' TypeScript
   * types do not: each manifest is type-checked as an object literal of its kind, whose excess
   * property check names any field the API does not have.
   */
  describe('has no field the Kubernetes API does not know', () => {
    let diagnostics: string[];
    beforeAll(() => {
      diagnostics = typeCheck(located.filter((entry) => MODELS[`${entry.manifest?.apiVersion}/${entry.manifest?.kind}`]));
    }, 60_000);

    it('type-checks every manifest as its kind', () => {
      expect(diagnostics).toEqual([]);
    });
  });

  it('puts every object in the plexus namespace, created by namespace.yaml', () => {
    expect(find('Namespace', 'plexus')).toBeDefined();
    const elsewhere = located.filter(({ manifest }) => manifest.kind !== 'Namespace' && manifest.metadata?.namespace !== 'plexus');
    expect(elsewhere.map(describeManifest)).toEqual([]);
  });

  it('applies every manifest with kubectl apply -k, except the examples (the Secret must never be overwritten)', () => {
    expect(kustomization.namespace).toBe('plexus');
    const listed = [...kustomization.resources].sort();
    const applicable = yamlFiles.filter((file) => file !== KUSTOMIZATION && !file.includes('.example.'));
    expect(listed).toEqual(applicable);
    const appliedKinds = located.filter(({ file }) => listed.includes(file)).map(({ manifest }) => manifest.kind);
    expect(appliedKinds).not.toContain('Secret');
    // The app image is the one kustomize rewrites to the registry.
    for (const app of APPS) {
      const image = containersOf(find<Workload>('Deployment', app))[0].image ?? '';
      expect(kustomization.images?.map((entry) => entry.name)).toContain(image.split(':')[0]);
    }
  });
});

describe('deploy/kubernetes: the apps', () => {
  it.each(APPS)('%s: a Deployment of the image with APP set, probes on /health and /health/ready at its port', (app) => {
    const deployment = find<Workload>('Deployment', app);
    const [container] = deployment.spec.template.spec?.containers ?? [];
    expect(container.image).toMatch(/^plexus(:|$)/);
    expect(envOf(container).find((variable) => variable.name === 'APP')?.value).toBe(app);

    // The container listens where the ConfigMap tells the app to.
    const port = Number(config()[appPortVariable(app)]);
    expect(container.ports?.map((candidate) => candidate.containerPort)).toContain(port);

    const httpProbe = (probe: Probe | undefined) => ({ path: probe?.httpGet?.path, port: portNumber(container, probe?.httpGet?.port) });
    expect(httpProbe(container.readinessProbe)).toEqual({ path: '/health/ready', port });
    expect(httpProbe(container.livenessProbe)).toEqual({ path: '/health', port });
    if (container.startupProbe) expect(httpProbe(container.startupProbe)).toEqual({ path: '/health', port });
  });

  it.each(APPS)('%s: resource requests and limits, time for the preStop hook and the app’s graceful stop', (app) => {
    const deployment = find<Workload>('Deployment', app);
    const [container] = deployment.spec.template.spec?.containers ?? [];
    expect(container.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
    expect(container.resources?.limits).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
    // The grace period runs from the preStop hook on; the app then gives itself STOP_DEADLINE_MS.
    const preStopSeconds =
      container.lifecycle?.preStop?.exec?.command?.[0] === 'sleep' ? Number(container.lifecycle.preStop.exec.command[1]) : 0;
    const grace = deployment.spec.template.spec?.terminationGracePeriodSeconds ?? 30;
    expect(grace).toBeGreaterThanOrEqual(30);
    expect(grace).toBeGreaterThanOrEqual(preStopSeconds + stopDeadlineSeconds);
  });

  it.each(['gateway', 'realtime'])('%s: sleeps a few seconds before SIGTERM, so load balancers stop sending it traffic', (app) => {
    const [container] = find<Workload>('Deployment', app).spec.template.spec?.containers ?? [];
    const command = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(command[0]).toBe('sleep');
    expect(Number(command[1])).toBeGreaterThanOrEqual(3);
    expect(Number(command[1])).toBeLessThan(30);
  });

  it.each(SCALED_APPS)('%s: a CPU HorizontalPodAutoscaler on its Deployment, which leaves the replica count to it', (app) => {
    const hpa = all('HorizontalPodAutoscaler').find((candidate) => candidate.spec?.scaleTargetRef?.name === app);
    expect(hpa).toBeDefined();
    expect(hpa?.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: app });
    expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa?.spec.maxReplicas).toBeGreaterThan(hpa?.spec.minReplicas);
    expect(hpa?.spec.metrics).toEqual(
      expect.arrayContaining([
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } } },
      ]),
    );
    const deployment = find<Workload>('Deployment', app);
    // Utilisation is measured against the request; a replicas field would fight the autoscaler.
    expect(deployment.spec.template.spec?.containers[0].resources?.requests?.cpu).toBeDefined();
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it('aims every HorizontalPodAutoscaler at a Deployment that exists', () => {
    const targets = all('HorizontalPodAutoscaler').map((hpa) => hpa.spec.scaleTargetRef as { kind: string; name: string });
    expect(targets.length).toBeGreaterThanOrEqual(3);
    for (const target of targets) expect(find(target.kind, target.name)).toBeDefined();
  });

  it('runs pairing twice, for availability', () => {
    expect(find<Workload>('Deployment', 'pairing').spec.replicas).toBeGreaterThanOrEqual(2);
  });

  it('runs alerts twice, sharing the partitions (no autoscaler: pods beyond the partition count would evaluate nothing)', () => {
    const alerts = find<Workload>('Deployment', 'alerts');
    expect(alerts.spec.replicas).toBe(2);
    expect(all('HorizontalPodAutoscaler').filter((hpa) => hpa.spec.scaleTargetRef.name === 'alerts')).toEqual([]);
    // As many partitions as pods at least, or a pod would hold none (the app's default is 4).
    expect(Number(config().PLEXUS_ALERTS_PARTITIONS ?? 4)).toBeGreaterThanOrEqual(alerts.spec.replicas ?? 1);
    // Every Plexus pod has a PodDisruptionBudget of at most one pod down.
    const pdb = all('PodDisruptionBudget').find((candidate) =>
      matches(candidate.spec.selector.matchLabels, alerts.spec.template.metadata?.labels),
    );
    expect(pdb?.spec.maxUnavailable).toBe(1);
  });

  it('alerts: no service account token in the pod that sends requests to addresses users choose', () => {
    expect(find<Workload>('Deployment', 'alerts').spec.template.spec?.automountServiceAccountToken).toBe(false);
  });

  it.each(APPS)('%s: runs as a non-root user without privilege escalation or capabilities', (app) => {
    const template = find<Workload>('Deployment', app).spec.template.spec;
    expect(template?.securityContext).toEqual(
      expect.objectContaining({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } }),
    );
    for (const container of template?.containers ?? [])
      expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  it('exposes gateway and realtime through Services that select their pods and ports', () => {
    for (const service of all('Service')) {
      const selector = service.spec.selector as Record<string, string>;
      const selected = workloads().filter((workload) => matches(selector, workload.spec.template.metadata?.labels));
      expect({ service: service.metadata.name, selected: selected.length > 0 }).toEqual({ service: service.metadata.name, selected: true });
      for (const port of service.spec.ports as { targetPort?: string | number; port: number }[]) {
        const target = port.targetPort ?? port.port;
        const served = selected.some((workload) =>
          containersOf(workload).some((container) =>
            container.ports?.some((candidate) => candidate.name === target || candidate.containerPort === target),
          ),
        );
        expect({ service: service.metadata.name, port: port.port, served }).toEqual({
          service: service.metadata.name,
          port: port.port,
          served: true,
        });
      }
    }
    expect(find('Service', 'gateway').spec.ports[0].port).toBe(Number(config().GATEWAY_PORT));
    expect(find('Service', 'realtime').spec.ports[0].port).toBe(Number(config().REALTIME_PORT));
  });

  it('gives every PodDisruptionBudget a selector that matches pods', () => {
    for (const pdb of all('PodDisruptionBudget')) {
      const selector = pdb.spec.selector.matchLabels as Record<string, string>;
      expect({
        pdb: pdb.metadata.name,
        matches: workloads().some((workload) => matches(selector, workload.spec.template.metadata?.labels)),
      }).toEqual({
        pdb: pdb.metadata.name,
        matches: true,
      });
    }
  });
});

describe('deploy/kubernetes: settings and credentials', () => {
  const secretVariable = /PASSWORD|SECRET|TOKEN|_KEY$/;

  it('sets only variables the apps read (.env.example) or the image defines (APP)', () => {
    const unknown: string[] = [];
    for (const key of Object.keys(config())) if (!documentedSettings.has(key)) unknown.push(`plexus-config: ${key}`);
    for (const deployment of all<Workload>('Deployment')) {
      for (const container of containersOf(deployment)) {
        for (const { name } of envOf(container)) {
          if (!documentedSettings.has(name) && !imageVariables.has(name) && name !== 'POD_NAME')
            unknown.push(`${deployment.metadata.name}: ${name}`);
        }
        for (const source of container.envFrom ?? []) {
          // Whole ConfigMaps are checked above; anything else would bypass the check.
          expect(source.configMapRef?.name).toBe('plexus-config');
          expect(source.prefix).toBeUndefined();
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it('keeps three copies of every JetStream stream (PLEXUS_STREAM_REPLICAS=3), one per NATS server', () => {
    expect(config().PLEXUS_STREAM_REPLICAS).toBe('3');
    expect(Number(config().PLEXUS_STREAM_REPLICAS)).toBeLessThanOrEqual(find<Workload>('StatefulSet', 'nats').spec.replicas ?? 1);
    expect(config().NATS_URL).toBe('nats://nats:4222');
  });

  it('takes credentials only from the Secret plexus-secrets (secretKeyRef), never inline', () => {
    const secretKeys = Object.keys(find<{ stringData: Record<string, string> }>('Secret', 'plexus-secrets').stringData);
    const inline: string[] = [];
    for (const workload of workloads()) {
      for (const container of containersOf(workload)) {
        for (const variable of envOf(container)) {
          const where = `${workload.metadata.name}: ${variable.name}`;
          if (secretVariable.test(variable.name) || secretKeys.includes(variable.name)) {
            if (variable.value !== undefined || !variable.valueFrom?.secretKeyRef) inline.push(where);
          }
          const ref = variable.valueFrom?.secretKeyRef;
          if (ref) {
            expect({ where, secret: ref.name, known: secretKeys.includes(ref.key) }).toEqual({
              where,
              secret: 'plexus-secrets',
              known: true,
            });
          }
          // A URL may carry the password only as $(POSTGRES_PASSWORD), expanded from the Secret.
          const password = /^[a-z]+:\/\/[^:/@]+:([^@]*)@/.exec(variable.value ?? '')?.[1];
          if (password !== undefined && password !== '$(POSTGRES_PASSWORD)') inline.push(`${where} (password in the URL)`);
        }
      }
    }
    expect(inline).toEqual([]);
    // No ConfigMap carries a credential.
    for (const configMap of all('ConfigMap')) {
      expect(Object.keys(configMap.data ?? {}).filter((key) => secretVariable.test(key) || secretKeys.includes(key))).toEqual([]);
    }
  });

  it('builds DATABASE_URL from the Secret for the apps that use the database, after POSTGRES_PASSWORD', () => {
    for (const app of ['ingest', 'pairing', 'alerts']) {
      const env = envOf(find<Workload>('Deployment', app).spec.template.spec!.containers[0]);
      const names = env.map((variable) => variable.name);
      expect(env.find((variable) => variable.name === 'DATABASE_URL')?.value).toBe(
        'postgres://postgres:$(POSTGRES_PASSWORD)@timescaledb:5432/plexus',
      );
      expect(env.find((variable) => variable.name === 'POSTGRES_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: 'plexus-secrets',
        key: 'POSTGRES_PASSWORD',
      });
      // $(VAR) expands only variables defined earlier in the list.
      expect(names.indexOf('POSTGRES_PASSWORD')).toBeLessThan(names.indexOf('DATABASE_URL'));
    }
  });

  it('ships the Secret only as an example with placeholders', () => {
    const secret = located.find(({ manifest }) => manifest.kind === 'Secret');
    expect(secret?.file).toMatch(/\.example\.yaml$/);
    for (const value of Object.values(secret?.manifest.stringData as Record<string, string>)) expect(value).toContain('REPLACE-ME');
    expect(secret?.manifest.data).toBeUndefined();
  });
});

describe('deploy/kubernetes: NATS with JetStream, three servers', () => {
  const nats = () => find<Workload>('StatefulSet', 'nats');
  const natsConf = () => find<{ data: Record<string, string> }>('ConfigMap', 'nats-config').data['nats.conf'];
  /** The contents of `name { … }` in nats.conf (no nested braces in the blocks read here). */
  const block = (conf: string, name: string) => new RegExp(`^\\s*${name}\\s*[:=]?\\s*\\{([^}]*)\\}`, 'm').exec(conf)?.[1];

  it('runs 3 replicas of nats:2.10-alpine, started together, behind a headless and a client Service', () => {
    const statefulSet = nats();
    expect(statefulSet.spec.replicas).toBe(3);
    expect(statefulSet.spec.template.spec?.containers[0].image).toBe('nats:2.10-alpine');
    expect(statefulSet.spec.serviceName).toBe('nats-headless');
    const headless = find('Service', 'nats-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(find('Service', 'nats').spec.ports.map((port: { port: number }) => port.port)).toContain(4222);
  });

  it('enables JetStream with its store on the pod’s PersistentVolumeClaim', () => {
    const conf = natsConf();
    const jetstream = block(conf, 'jetstream');
    expect(jetstream).toBeDefined();
    const storeDir = /store_dir\s*[:=]\s*"?([^"\s]+)"?/.exec(jetstream ?? '')?.[1];
    expect(storeDir).toBeDefined();
    const statefulSet = nats();
    const claims = statefulSet.spec.volumeClaimTemplates?.map((claim) => claim.metadata.name) ?? [];
    const mount = statefulSet.spec.template.spec?.containers[0].volumeMounts?.find((candidate) =>
      storeDir!.startsWith(candidate.mountPath),
    );
    expect(claims).toContain(mount?.name);
  });

  it('clusters the three servers: routes to nats-0, nats-1 and nats-2 through the headless Service', () => {
    const cluster = block(natsConf(), 'cluster');
    expect(cluster).toBeDefined();
    const routes = [...(cluster ?? '').matchAll(/nats-route:\/\/[^\s,\]]+|nats:\/\/[^\s,\]]+/g)].map((match) => match[0]);
    const replicas = nats().spec.replicas ?? 0;
    const clusterPort = /^\s*port\s*[:=]\s*(\d+)/m.exec(cluster ?? '')?.[1];
    for (let i = 0; i < replicas; i++) expect(routes).toContain(`nats://nats-${i}.nats-headless:${clusterPort}`);
  });

  it('names each server after its pod (downward API) and checks /healthz on the monitoring port 8222', () => {
    expect(natsConf()).toMatch(/^\s*server_name\s*[:=]\s*\$POD_NAME\s*$/m);
    expect(natsConf()).toMatch(/^\s*http_port\s*[:=]\s*8222\s*$/m);
    const [container] = nats().spec.template.spec?.containers ?? [];
    expect(envOf(container).find((variable) => variable.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe?.httpGet?.path).toMatch(/^\/healthz/);
      expect(portNumber(container, probe?.httpGet?.port)).toBe(8222);
    }
    // The config file the server is started with is the one in the ConfigMap.
    const configFile = container.args?.[container.args.indexOf('--config') + 1] ?? '';
    const mount = container.volumeMounts?.find((candidate) => configFile.startsWith(`${candidate.mountPath}/`));
    const volume = nats().spec.template.spec?.volumes?.find((candidate) => candidate.name === mount?.name);
    expect(volume?.configMap?.name).toBe('nats-config');
    expect(configFile.endsWith('/nats.conf')).toBe(true);
  });

  it('lets voluntary disruptions take at most one server', () => {
    const pdb = all('PodDisruptionBudget').find((candidate) =>
      matches(candidate.spec.selector.matchLabels, nats().spec.template.metadata?.labels),
    );
    expect(pdb?.spec.maxUnavailable).toBe(1);
  });
});

describe('deploy/kubernetes: NATS authorization', () => {
  const natsConf = () => find<{ data: Record<string, string> }>('ConfigMap', 'nats-config').data['nats.conf'];
  /** `{ user: name, password: $VARIABLE[, permissions: $PERMISSIONS] }` entries of nats.conf's authorization block. */
  const userEntries = () => [
    ...(/authorization\s*\{([\s\S]*?)\n\s*\}/.exec(natsConf())?.[1] ?? '').matchAll(
      /\{\s*user:\s*(\w+),\s*password:\s*\$(\w+)\s*(?:,\s*permissions:\s*\$(\w+)\s*)?\}/g,
    ),
  ];
  const users = () => new Map(userEntries().map((m) => [m[1], m[2]]));
  /** The subjects of `allow: [ … ]` under `publish` or `subscribe` of the permissions variable `name` in nats.conf. */
  const allowed = (name: string, direction: 'publish' | 'subscribe'): string[] => {
    const definition = new RegExp(`^${name}\\s*=\\s*\\{([\\s\\S]*?)^\\}`, 'm').exec(natsConf())?.[1] ?? '';
    const list = new RegExp(`${direction}\\s*:\\s*\\{\\s*allow\\s*:\\s*\\[([^\\]]*)\\]`).exec(definition)?.[1] ?? '';
    return [...list.replace(/#.*$/gm, '').matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  };

  it('asks every client for a user: one per app, each password a variable of the NATS pod taken from the Secret', () => {
    const natsEnv = envOf(find<Workload>('StatefulSet', 'nats').spec.template.spec!.containers[0]);
    const secretKeys = Object.keys(find<{ stringData: Record<string, string> }>('Secret', 'plexus-secrets').stringData);
    expect([...users().keys()].sort()).toEqual([...APPS, 'ops'].sort());
    for (const [user, variable] of users()) {
      expect({ user, from: natsEnv.find((entry) => entry.name === variable)?.valueFrom?.secretKeyRef }).toEqual({
        user,
        from: { name: 'plexus-secrets', key: variable },
      });
      expect(secretKeys).toContain(variable);
    }
  });

  it('narrows the alerts user (it sends requests to addresses users choose) to the subjects of the ConfigMap’s prefix', () => {
    const [entry] = userEntries().filter((m) => m[1] === 'alerts');
    const permissions = entry?.[3];
    expect(permissions).toBeDefined();
    const prefix = config().PLEXUS_NATS_PREFIX;
    const subjects = subjectsFor(prefix);
    const buckets = bucketsFor(prefix);
    expect(allowed(permissions!, 'publish').sort()).toEqual(
      [
        subjects.alerts.eventsAll,
        subjects.alerts.rulesChanged,
        '$JS.API.>',
        '$JS.ACK.>',
        '$JS.FC.>',
        `$KV.${buckets.alertPartitions}.>`,
      ].sort(),
    );
    // The API only in its queue group, so two pods never answer one request; rule changes by every pod.
    expect(allowed(permissions!, 'subscribe').sort()).toEqual(
      [`${prefix}.alerts.> ${QUEUES.alerts}`, subjects.alerts.rulesChanged, '_INBOX.>'].sort(),
    );
    // …which covers every request subject the app answers.
    const { createRule, listRules, getRule, updateRule, deleteRule, testRule, list, acknowledge } = subjects.alerts;
    for (const subject of [createRule, listRules, getRule, updateRule, deleteRule, testRule, list, acknowledge])
      expect(subject.startsWith(`${prefix}.alerts.`)).toBe(true);
    // Replies to the gateway's requests go to their reply subjects only, not to any inbox.
    const definition = new RegExp(`^${permissions}\\s*=\\s*\\{([\\s\\S]*?)^\\}`, 'm').exec(natsConf())?.[1] ?? '';
    expect(definition).toMatch(/^\s*allow_responses\s*:\s*true\s*$/m);
  });

  /**
   * Locally, in compose and in the e2e tests NATS has one unrestricted user, so a handler of the
   * alerts app subscribed outside its queue group would work everywhere but on Kubernetes, where
   * the server refuses the subscription (and the requests then time out). Read from the source.
   */
  it('finds every NATS subscription of the alerts app allowed to its user: the API in the queue group, rule changes', () => {
    const sources = (readdirSync(join(root, 'apps', 'alerts', 'src'), { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts') && !/\.(medium-|e2e-)?spec\.ts$/.test(file))
      .map((file) => ({ file, text: readFileSync(join(root, 'apps', 'alerts', 'src', file), 'utf8') }));
    const refused: string[] = [];
    for (const { file, text } of sources) {
      for (const [decorator] of text.matchAll(/@(MessagePattern|EventPattern)\([^)]*\)/g))
        if (!/\{\s*queue:\s*QUEUES\.alerts\s*\}/.test(decorator)) refused.push(`${file}: ${decorator}`);
      for (const [call, subject] of text.matchAll(/\.subscribe\(\s*([^,)]+)/g))
        if (subject.trim() !== 'SUBJECTS.alerts.rulesChanged') refused.push(`${file}: ${call}`);
    }
    expect(refused).toEqual([]);
  });

  it.each(APPS)('%s: signs in to NATS as its own user with the password from the Secret', (app) => {
    const env = envOf(find<Workload>('Deployment', app).spec.template.spec!.containers[0]);
    expect(env.find((variable) => variable.name === 'NATS_USER')?.value).toBe(app);
    const passwordKey = env.find((variable) => variable.name === 'NATS_PASSWORD')?.valueFrom?.secretKeyRef?.key;
    expect(passwordKey).toBe(users().get(app));
    expect(config().NATS_URL).not.toMatch(/@/);
  });
});

/**
 * Which connections the NetworkPolicies let through, worked out as Kubernetes does: a pod
 * selected by no policy of a direction is open in that direction; once selected, only what
 * some rule allows gets through, and a connection needs both the sender's egress and the
 * receiver's ingress.
 */
describe('deploy/kubernetes: NetworkPolicy', () => {
  interface Selector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  }
  interface Peer {
    podSelector?: Selector;
    namespaceSelector?: Selector;
    ipBlock?: { cidr: string; except?: string[] };
  }
  interface Rule {
    from?: Peer[];
    to?: Peer[];
    ports?: { protocol?: string; port?: number | string }[];
  }
  interface Pod {
    namespace: string;
    labels: Record<string, string>;
    /** An address outside the cluster (matched only by ipBlock peers). */
    ip?: string;
  }
  const policies = () => all('NetworkPolicy');
  const selects = (selector: Selector | undefined, labels: Record<string, string>): boolean =>
    Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
    (selector?.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      if (operator === 'In') return values.includes(labels[key]);
      if (operator === 'NotIn') return !values.includes(labels[key]);
      if (operator === 'Exists') return key in labels;
      if (operator === 'DoesNotExist') return !(key in labels);
      throw new Error(`unknown operator ${operator}`);
    });
  const namespaceLabels = (namespace: string) => ({ 'kubernetes.io/metadata.name': namespace });
  const peerMatches = (peer: Peer, pod: Pod): boolean => {
    if (peer.ipBlock)
      return (
        pod.ip !== undefined && inCidr(pod.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((cidr) => inCidr(pod.ip!, cidr))
      );
    if (pod.ip !== undefined) return false;
    if (peer.namespaceSelector)
      return selects(peer.namespaceSelector, namespaceLabels(pod.namespace)) && selects(peer.podSelector, pod.labels);
    return pod.namespace === 'plexus' && selects(peer.podSelector, pod.labels);
  };
  const portMatches = (rule: Rule, port: number) =>
    !rule.ports || rule.ports.some((candidate) => candidate.port === undefined || candidate.port === port);
  /** Whether `ip` is in `cidr` (IPv4 or IPv6; an address only matches a block of its own family). */
  const inCidr = (ip: string, cidr: string): boolean => {
    const [base, bits] = cidr.split('/');
    const family = (address: string) => (address.includes(':') ? 6 : 4);
    if (family(ip) !== family(base)) return false;
    const toBits = (address: string): string => {
      if (family(address) === 4)
        return address
          .split('.')
          .map((part) => Number(part).toString(2).padStart(8, '0'))
          .join('');
      const [head, tail = ''] = address.split('::');
      const groups = (text: string) => (text ? text.split(':') : []);
      const missing = 8 - groups(head).length - groups(tail).length;
      const all = address.includes('::') ? [...groups(head), ...Array<string>(missing).fill('0'), ...groups(tail)] : groups(address);
      return all.map((group) => parseInt(group, 16).toString(2).padStart(16, '0')).join('');
    };
    return toBits(ip).slice(0, Number(bits)) === toBits(base).slice(0, Number(bits));
  };
  const allowed = (direction: 'Ingress' | 'Egress', subject: Pod, other: Pod, port: number): boolean => {
    if (subject.namespace !== 'plexus') return true; // other namespaces have their own policies
    const selecting = policies().filter(
      (policy) => (policy.spec.policyTypes as string[]).includes(direction) && selects(policy.spec.podSelector as Selector, subject.labels),
    );
    if (selecting.length === 0) return true;
    const rules = selecting.flatMap((policy) => (direction === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? []) as Rule[];
    return rules.some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      return portMatches(rule, port) && (!peers || peers.some((peer) => peerMatches(peer, other)));
    });
  };
  const canReach = (from: Pod, to: Pod, port: number) => allowed('Egress', from, to, port) && allowed('Ingress', to, from, port);
  const podOf = (name: string): Pod => {
    const workload = workloads().find((candidate) => candidate.metadata.name === name);
    if (!workload) throw new Error(`no workload ${name}`);
    return { namespace: 'plexus', labels: workload.spec.template.metadata?.labels as Record<string, string> };
  };
  const outsider: Pod = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
  const strayPod: Pod = { namespace: 'plexus', labels: { run: 'debug-shell' } };
  const NATS = 4222;
  const POSTGRES = 5432;

  it('denies everything in both directions by default for every pod of the namespace', () => {
    const defaultDeny = policies().find(
      (policy) => Object.keys(policy.spec.podSelector ?? {}).length === 0 && !policy.spec.ingress && !policy.spec.egress,
    );
    expect(defaultDeny?.spec.policyTypes).toEqual(expect.arrayContaining(['Ingress', 'Egress']));
    // A pod nobody planned for (say a debug shell) may open nothing but DNS, and nothing reaches it.
    expect(canReach(strayPod, podOf('ingest'), 8082)).toBe(false);
    expect(canReach(strayPod, podOf('gateway'), 8080)).toBe(false);
    expect(canReach(strayPod, { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, 53)).toBe(true);
    expect(canReach(podOf('gateway'), strayPod, 8080)).toBe(false);
  });

  it('lets only the five apps (and the other NATS servers) reach NATS', () => {
    for (const app of APPS) expect({ app, reaches: canReach(podOf(app), podOf('nats'), NATS) }).toEqual({ app, reaches: true });
    expect(canReach(podOf('nats'), podOf('nats'), 6222)).toBe(true);
    expect(canReach(podOf('timescaledb'), podOf('nats'), NATS)).toBe(false);
    expect(canReach(strayPod, podOf('nats'), NATS)).toBe(false);
    expect(canReach(outsider, podOf('nats'), NATS)).toBe(false);
  });

  it('lets only ingest, pairing and alerts reach PostgreSQL', () => {
    const reaching = [...APPS, 'nats'].filter((name) => canReach(podOf(name), podOf('timescaledb'), POSTGRES));
    expect(reaching.sort()).toEqual(['alerts', 'ingest', 'pairing']);
    expect(canReach(strayPod, podOf('timescaledb'), POSTGRES)).toBe(false);
    expect(canReach(outsider, podOf('timescaledb'), POSTGRES)).toBe(false);
  });

  it('lets anyone in to the gateway and realtime ports, and to nothing else of the apps', () => {
    expect(canReach(outsider, podOf('gateway'), Number(config().GATEWAY_PORT))).toBe(true);
    expect(canReach(outsider, podOf('realtime'), Number(config().REALTIME_PORT))).toBe(true);
    expect(canReach(outsider, podOf('ingest'), Number(config().INGEST_HTTP_PORT))).toBe(false);
    expect(canReach(outsider, podOf('pairing'), Number(config().PAIRING_HTTP_PORT))).toBe(false);
    expect(canReach(outsider, podOf('alerts'), Number(config().ALERTS_HTTP_PORT))).toBe(false);
  });

  it('lets only alerts open connections out of the cluster, on 80 and 443 (webhooks), and not to instance metadata', () => {
    const internet: Pod = { namespace: '', labels: {}, ip: '93.184.216.34' };
    const internet6: Pod = { namespace: '', labels: {}, ip: '2606:2800:220:1::1' };
    const opening = (to: Pod, port: number) => [...APPS, 'nats', 'timescaledb'].filter((name) => allowed('Egress', podOf(name), to, port));
    expect(opening(internet, 443)).toEqual(['alerts']);
    expect(opening(internet, 80)).toEqual(['alerts']);
    expect(opening(internet6, 443)).toEqual(['alerts']);
    expect(opening(internet, 8443)).toEqual([]);
    expect(opening(internet, POSTGRES)).toEqual([]);
    expect(opening({ namespace: '', labels: {}, ip: '169.254.169.254' }, 80)).toEqual([]);
    expect(opening({ namespace: '', labels: {}, ip: 'fe80::1' }, 80)).toEqual([]);
    expect(allowed('Egress', strayPod, internet, 443)).toBe(false);
  });

  it('lets Prometheus (namespace monitoring) scrape every app’s metrics port', () => {
    const prometheus: Pod = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
    for (const app of APPS) {
      const port = Number(config()[appPortVariable(app)]);
      expect({ app, scraped: allowed('Ingress', podOf(app), prometheus, port) }).toEqual({ app, scraped: true });
    }
    expect(allowed('Ingress', podOf('alerts'), prometheus, POSTGRES)).toBe(false);
  });

  it('lets every pod resolve names (DNS)', () => {
    const dns: Pod = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
    for (const name of [...APPS, 'nats', 'timescaledb']) expect({ name, dns: canReach(podOf(name), dns, 53) }).toEqual({ name, dns: true });
  });
});

describe('deploy/kubernetes: TimescaleDB', () => {
  it('runs timescale/timescaledb:latest-pg15 on a PersistentVolumeClaim, password from the Secret, pg_isready probes', () => {
    const statefulSet = find<Workload>('StatefulSet', 'timescaledb');
    const [container] = statefulSet.spec.template.spec?.containers ?? [];
    expect(container.image).toBe('timescale/timescaledb:latest-pg15');
    expect(envOf(container).find((variable) => variable.name === 'POSTGRES_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
      name: 'plexus-secrets',
      key: 'POSTGRES_PASSWORD',
    });
    expect(statefulSet.spec.volumeClaimTemplates?.map((claim) => claim.metadata.name)).toContain(
      container.volumeMounts?.find((mount) => mount.mountPath === '/var/lib/postgresql/data')?.name,
    );
    expect(container.readinessProbe?.exec?.command?.[0]).toBe('pg_isready');
    expect(container.livenessProbe?.exec?.command?.[0]).toBe('pg_isready');
    expect(find('Service', 'timescaledb').spec.ports[0].port).toBe(5432);
  });
});

/**
 * Type-checks each manifest as `const m: I<Kind> = <the manifest as JSON>` against the
 * kubernetes-models declarations, in memory, and returns the compiler's complaints.
 */
function typeCheck(entries: Located[]): string[] {
  const fileName = join(root, 'test', '__deploy_k8s_manifests__.ts');
  const imports = new Map<string, string>();
  const spans: { start: number; end: number; entry: Located }[] = [];
  let body = '';
  entries.forEach((entry, i) => {
    const { apiVersion, kind } = entry.manifest;
    const type = `T${imports.size}`;
    const key = `${apiVersion}/${kind}`;
    if (!imports.has(key)) imports.set(key, `import type { I${kind} as ${type} } from 'kubernetes-models/${apiVersion}/${kind}';\n`);
    const alias = /as (T\d+)/.exec(imports.get(key)!)![1];
    const statement = `export const m${i}: ${alias} = ${JSON.stringify(entry.manifest, null, 1)};\n`;
    spans.push({ start: body.length, end: body.length + statement.length, entry });
    body += statement;
  });
  const header = [...imports.values()].join('');
  const source = header + body;
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === fileName || fileExists.call(host, name);
  host.readFile = (name) => (name === fileName ? source : readFile.call(host, name));
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file?.fileName !== fileName || diagnostic.start === undefined) return message;
    const offset = diagnostic.start - header.length;
    const span = spans.find(({ start, end }) => offset >= start && offset < end);
    const at = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return span ? `${describeManifest(span.entry)}: ${message}` : `line ${at.line + 1}: ${message}`;
  });
}
