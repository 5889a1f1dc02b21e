import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';

const MANIFEST = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'packaging',
  'kubernetes',
  'daemonset.yaml'
);

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below.
type Manifest = any;

const documents = parseAllDocuments(readFileSync(MANIFEST, 'utf8'));
const manifests: Manifest[] = documents.map((document) => document.toJS());
const byKind = (kind: string) => manifests.find((manifest) => manifest.kind === kind);
const daemonSet = byKind('DaemonSet');
const pod = daemonSet?.spec?.template?.spec;
const container = pod?.containers?.[0];

function mountOf(volumeName: string) {
  return container.volumeMounts.find((mount: Manifest) => mount.name === volumeName);
}

function volumeAt(mountPath: string) {
  const mount = container.volumeMounts.find((entry: Manifest) => entry.mountPath === mountPath);
  return pod.volumes.find((volume: Manifest) => volume.name === mount?.name);
}

describe('Kubernetes manifest', () => {
  const tempDirs: string[] = [];
  afterAll(() => {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('parses without errors', () => {
    for (const document of documents) expect(document.errors).toEqual([]);
    expect(manifests.map((manifest) => manifest.kind)).toEqual([
      'Namespace',
      'ConfigMap',
      'DaemonSet',
    ]);
  });

  it('selector matches pod labels', () => {
    const labels = daemonSet.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(daemonSet.spec.selector.matchLabels)) {
      expect(labels[key]).toBe(value);
    }
  });

  it.each(['/var/log/containers', '/var/log/pods'])('mounts %s read-only', (path) => {
    const volume = volumeAt(path);
    expect(volume?.hostPath?.path).toBe(path);
    expect(mountOf(volume.name).readOnly).toBe(true);
  });

  it('keeps state on the node', () => {
    const volume = volumeAt('/var/lib/mfc-events-agent');
    expect(volume?.hostPath).toEqual({
      path: '/var/lib/mfc-events-agent',
      type: 'DirectoryOrCreate',
    });
    expect(mountOf(volume.name).readOnly).toBeUndefined();
  });

  it('mounts config and token', () => {
    const configVolume = volumeAt('/etc/mfc-events-agent');
    expect(configVolume?.configMap?.name).toBe(byKind('ConfigMap').metadata.name);
    const tokenVolume = volumeAt('/var/run/secrets/mfc-events-agent');
    expect(tokenVolume?.secret?.secretName).toBe('mfc-events-agent-token');
    expect(mountOf(tokenVolume.name).readOnly).toBe(true);
  });

  it('sets requests and limits', () => {
    for (const kind of ['requests', 'limits']) {
      expect(container.resources[kind].cpu).toBeDefined();
      expect(container.resources[kind].memory).toBeDefined();
    }
  });

  it('hardens the container', () => {
    const security = container.securityContext;
    expect(security.allowPrivilegeEscalation).toBe(false);
    expect(security.readOnlyRootFilesystem).toBe(true);
    expect(security.privileged).toBe(false);
    expect(security.capabilities.drop).toEqual(['ALL']);
    expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('probes the metrics port', () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'metrics' });
    expect(container.ports[0]).toMatchObject({ name: 'metrics', containerPort: 9464 });
  });

  it('embedded config loads', async () => {
    // The real loader reads the token file, so it points at a temporary one here.
    const dir = mkdtempSync(join(tmpdir(), 'k8s-config-'));
    tempDirs.push(dir);
    const text: string = byKind('ConfigMap').data['config.yaml'];
    const tokenFile = '/var/run/secrets/mfc-events-agent/token';
    expect(text).toContain(`tokenFile: ${tokenFile}`);
    writeFileSync(join(dir, 'token'), 'k8s-test-token\n');
    writeFileSync(join(dir, 'config.yaml'), text.replace(tokenFile, join(dir, 'token')));

    const { config } = await loadConfig(join(dir, 'config.yaml'), {});

    expect(config.state.dir).toBe('/var/lib/mfc-events-agent');
    expect(config.metrics).toEqual({ enabled: true, listen: '0.0.0.0:9464' });
    expect(config.bots.every((bot) => bot.format === 'cri')).toBe(true);
    expect(config.bots[0]?.include).toEqual(['/var/log/containers/mfc-bot-*_mfc_*.log']);
    expect(container.args).toEqual(['run', '--config', '/etc/mfc-events-agent/config.yaml']);
  });
});
