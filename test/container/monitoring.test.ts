// The monitoring kit: monitoring/ (Grafana dashboard, provisioning, Prometheus config) and the
// compose profile that runs it. Every metric the dashboard queries must be one Parley exports, with
// the labels it has; the files must parse and point at each other.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.ts';
import { Metrics } from '../../src/metrics.ts';
import type { RoomRegistry } from '../../src/rooms/RoomRegistry.ts';
import type { WorkerPool } from '../../src/media/WorkerPool.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dashboardFile = path.join(repo, 'monitoring/grafana/dashboards/parley.json');

/** YAML as JSON through Debian's python3-yaml (no YAML parser among the dependencies); undefined without it. */
function yaml(file: string): unknown {
  try {
    const json = execFileSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(json) as unknown;
  } catch (error) {
    if (/No module named|ENOENT/.test(String((error as { stderr?: string }).stderr ?? error))) return undefined;
    throw error;
  }
}
const noYaml = yaml(path.join(repo, 'compose.yaml')) === undefined && 'needs python3 with yaml (Debian: python3-yaml)';

interface Panel {
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string }[];
}

/** What Parley exports: metric names and their label names, from a real Metrics with nothing running. */
async function exported(): Promise<Map<string, Set<string>>> {
  const metrics = new Metrics({ rooms: [], size: 0 } as unknown as RoomRegistry, { workers: [] } as unknown as WorkerPool);
  const names = new Map<string, Set<string>>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    const single = metrics.registry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] };
    const labels = new Set([...(single.labelNames ?? []), ...metric.values.flatMap((v) => Object.keys(v.labels ?? {}))]);
    names.set(metric.name, labels);
    if (String(metric.type) === 'histogram' || String(metric.type) === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.set(metric.name + suffix, new Set([...labels, 'le', 'quantile']));
    }
  }
  return names;
}

describe('monitoring/: Grafana dashboard', () => {
  const dashboard = JSON.parse(fs.readFileSync(dashboardFile, 'utf8')) as { uid: string; title: string; panels: Panel[]; templating: { list: { name: string }[] } };
  const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

  test('parses; rooms, participants, bitrates, worker CPU and signaling errors each have a panel', () => {
    assert.equal(dashboard.uid, 'parley-overview');
    assert.ok(dashboard.panels.length >= 6);
    for (const panel of dashboard.panels) assert.ok(panel.targets?.length && panel.targets.every((t) => t.expr.trim() !== ''), `${panel.title} queries something`);
    const all = exprs.map((e) => e.expr).join('\n');
    for (const metric of ['parley_rooms', 'parley_peers', 'parley_bitrate_bps', 'parley_worker_cpu_seconds', 'parley_signaling_errors_total']) {
      assert.ok(all.includes(metric), `a panel shows ${metric}`);
    }
    assert.deepEqual(dashboard.templating.list.map((v) => v.name), ['datasource', 'instance']);
    // No two panels on the same spot of the grid (24 columns).
    const cells = new Set<string>();
    for (const { gridPos: g, title } of dashboard.panels) {
      assert.ok(g.x + g.w <= 24, `${title} fits the grid`);
      for (let x = g.x; x < g.x + g.w; x++) for (let y = g.y; y < g.y + g.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `${title} overlaps another panel`);
        cells.add(`${x},${y}`);
      }
    }
  });

  test('every metric it queries is exported by src/metrics.ts, with the labels it uses', async () => {
    const names = await exported();
    const scrapeLabels = new Set(['instance', 'job']); // added by Prometheus
    for (const { panel, expr } of exprs) {
      const used = [...expr.matchAll(/\b(parley_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
      assert.ok(used.length > 0, `${panel}: queries a Parley metric`);
      for (const name of used) {
        assert.ok(names.has(name), `${panel}: ${name} is not a metric Parley exports (${[...names.keys()].filter((n) => !n.startsWith('parley_process_')).join(', ')})`);
        const labels = names.get(name)!;
        // Labels in this metric's own selector {…}.
        const selector = new RegExp(`${name}\\{([^}]*)\\}`).exec(expr)?.[1] ?? '';
        for (const [, label] of selector.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) {
          assert.ok(labels.has(label!) || scrapeLabels.has(label!), `${panel}: ${name} has no label ${label}`);
        }
      }
      // Labels grouped by (`by (…)`) must exist on some metric of the expression.
      for (const [, group] of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
        for (const label of group!.split(',').map((l) => l.trim()).filter(Boolean)) {
          assert.ok(scrapeLabels.has(label) || used.some((name) => names.get(name)!.has(label)), `${panel}: groups by ${label}, which none of ${used.join(', ')} has`);
        }
      }
    }
  });
});

describe('compose.yaml: the monitoring profile', { skip: noYaml }, () => {
  type Service = { image?: string; profiles?: string[]; environment?: Record<string, string>; volumes?: string[]; ports?: string[]; depends_on?: unknown };
  const compose = yaml(path.join(repo, 'compose.yaml')) as { services: Record<string, Service> } | undefined;
  const services = compose?.services ?? {};
  /** host path (in the repo) of a container path, through a service's bind mounts. */
  const hostPath = (service: Service, containerPath: string): string | undefined => {
    for (const volume of service.volumes ?? []) {
      const [source, target] = volume.split(':');
      if (!source!.startsWith('./')) continue;
      if (containerPath === target || containerPath.startsWith(`${target}/`)) return path.join(repo, source!, containerPath.slice(target!.length));
    }
    return undefined;
  };

  test('Prometheus and Grafana run only with --profile monitoring; Parley and Redis without it', () => {
    for (const name of ['prometheus', 'grafana']) {
      assert.deepEqual(services[name]?.profiles, ['monitoring'], `${name} is in the monitoring profile`);
      assert.match(services[name]!.image ?? '', /:v?\d+\.\d+\.\d+$/, `${name}: a pinned image version`);
      for (const port of services[name]!.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name}: published on this host's loopback only`);
      for (const volume of services[name]!.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) assert.ok(fs.existsSync(path.join(repo, source)), `${name}: mounts ${source}, which exists`);
      }
    }
    for (const name of ['parley', 'redis']) assert.equal(services[name]?.profiles, undefined, `${name} runs without a profile`);
  });

  test('Prometheus scrapes Parley where Parley serves /metrics on the compose network', () => {
    const prometheus = services.prometheus!;
    const configFile = hostPath(prometheus, '/etc/prometheus/prometheus.yml');
    assert.ok(configFile && fs.existsSync(configFile), 'prometheus.yml is mounted');
    const config = yaml(configFile) as { scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[] };
    const job = config.scrape_configs.find((c) => c.job_name === 'parley');
    assert.ok(job, 'a parley scrape job');
    assert.equal(job.metrics_path ?? '/metrics', '/metrics');
    const parleyEnv = Object.fromEntries(Object.entries(services.parley!.environment ?? {}).map(([k, v]) => [k, String(v)]));
    // Parley's own config reads these as it will in the container.
    const parleyConfig = loadConfig({ METRICS_PORT: parleyEnv.METRICS_PORT, METRICS_HOST: parleyEnv.METRICS_HOST });
    assert.ok(parleyConfig.metrics.port, 'compose gives Parley a metrics port (METRICS_PORT)');
    assert.ok(!/^127\.|^::1$/.test(parleyConfig.metrics.host), 'the metrics listener is not on loopback: Prometheus comes from another container');
    assert.deepEqual(job.static_configs.flatMap((c) => c.targets), [`parley:${parleyConfig.metrics.port}`]);
    const published = (services.parley!.ports ?? []).some((p) => new RegExp(`(^|:)${parleyConfig.metrics.port}(/tcp)?$`).test(p));
    assert.ok(!published, 'the metrics port is not published: only the compose network reaches it');
  });

  test('Grafana gets the Prometheus data source and the dashboard, provisioned', () => {
    const grafana = services.grafana!;
    const datasources = yaml(hostPath(grafana, '/etc/grafana/provisioning/datasources/prometheus.yml')!) as { datasources: { type: string; url: string }[] };
    assert.deepEqual(datasources.datasources.map((d) => [d.type, d.url]), [['prometheus', 'http://prometheus:9090']]);
    const providers = yaml(hostPath(grafana, '/etc/grafana/provisioning/dashboards/parley.yml')!) as { providers: { options: { path: string } }[] };
    const dashboards = hostPath(grafana, providers.providers[0]!.options.path);
    assert.ok(dashboards && fs.existsSync(path.join(dashboards, 'parley.json')), 'the provider path holds parley.json');
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    assert.ok(home && hostPath(grafana, home) === dashboardFile, 'the home dashboard is Parley\'s');
  });
});
