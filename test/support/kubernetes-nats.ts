import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { PrivateNatsServer } from './nats-server.js';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');
const dir = join(root, 'deploy', 'kubernetes');

/** nats.conf as deploy/kubernetes/nats.yaml ships it. */
export const kubernetesNatsConf = (
  parseAllDocuments(readFileSync(join(dir, 'nats.yaml'), 'utf8')).map((document) => document.toJS()) as {
    kind: string;
    data?: Record<string, string>;
  }[]
).find((manifest) => manifest.kind === 'ConfigMap')!.data!['nats.conf'];

/** PLEXUS_NATS_PREFIX of deploy/kubernetes/configmap.yaml: the prefix the permissions in nats.conf spell. */
export const kubernetesPrefix = (parse(readFileSync(join(dir, 'configmap.yaml'), 'utf8')) as { data: Record<string, string> }).data
  .PLEXUS_NATS_PREFIX;

/** A password for each user of nats.conf's authorization block, which the server reads from `$NATS_PASSWORD_<APP>`. */
export const kubernetesNatsPasswords: Record<string, string> = Object.fromEntries(
  [...kubernetesNatsConf.matchAll(/\{\s*user:\s*(\w+),\s*password:\s*\$\w+/g)].map(([, user]) => [user, `p${user}Pw0rd`]),
);

/**
 * The top-level statements of nats.conf that define the users, as written: every variable
 * definition (`NAME = { … }`, the permissions) and the authorization block, with the test's
 * passwords in place of `$NATS_PASSWORD_<APP>` (a child process gets the real environment, not the
 * one Jest gives a test file). The cluster, JetStream store, ports and pid file are left out.
 */
export function kubernetesAuthorization(): string {
  const lines = kubernetesNatsConf.split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^(authorization\s*\{|[A-Z][A-Z0-9_]*\s*=\s*\{)/.test(lines[i])) continue;
    const end = lines.findIndex((line, j) => j > i && line === '}');
    kept.push(...lines.slice(i, end + 1));
    i = end;
  }
  return kept
    .join('\n')
    .replace(/(\{\s*user:\s*(\w+),\s*password:\s*)\$\w+/g, (_, head: string, user: string) => `${head}"${kubernetesNatsPasswords[user]}"`);
}

/** A private nats-server (JetStream on) asking for nats.yaml's users, each with the permissions written there. */
export function startKubernetesNats(): Promise<PrivateNatsServer> {
  return PrivateNatsServer.start({
    config: kubernetesAuthorization(),
    probe: { user: 'ops', pass: kubernetesNatsPasswords.ops },
  });
}
