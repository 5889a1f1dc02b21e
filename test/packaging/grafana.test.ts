import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';

const DASHBOARD = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'packaging',
  'grafana',
  'dashboard.json'
);

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  panels: Panel[];
  templating: { list: { definition?: string }[] };
};
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const expressions = [
  ...panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
  ...dashboard.templating.list.flatMap((variable) => variable.definition ?? []),
];

/** Metric names of the agent's registry, each with its label names. */
function registryMetrics(): Map<string, string[]> {
  // prom-client's metric objects keep the labelNames they were created with.
  const metrics = createMetrics().registry.getMetricsAsArray() as unknown as {
    name: string;
    labelNames: string[];
  }[];
  return new Map(metrics.map((metric) => [metric.name, [...metric.labelNames]]));
}

function metricNamesIn(expression: string): string[] {
  return expression.match(/\bmfc_agent_[a-z_]+\b/g) ?? [];
}

describe('Grafana dashboard', () => {
  it('has queries', () => {
    expect(expressions.length).toBeGreaterThan(10);
  });

  it('queries only real metrics', () => {
    const known = registryMetrics();
    for (const expression of expressions) {
      const names = metricNamesIn(expression);
      expect(names.length, expression).toBeGreaterThan(0);
      for (const name of names) expect(known.has(name), `${name} in ${expression}`).toBe(true);
    }
  });

  it('groups only by real labels', () => {
    const known = registryMetrics();
    for (const expression of expressions) {
      const labels = new Set(['instance', 'job']);
      for (const name of metricNamesIn(expression)) {
        for (const label of known.get(name) ?? []) labels.add(label);
      }
      for (const [, group] of expression.matchAll(/\bby \(([^)]*)\)/g)) {
        for (const label of (group ?? '').split(',').map((part) => part.trim())) {
          expect(labels.has(label), `${label} in ${expression}`).toBe(true);
        }
      }
    }
  });

  it.each([
    'mfc_agent_events_acknowledged_total',
    'mfc_agent_lines_read_total',
    'mfc_agent_outbox_events',
    'mfc_agent_outbox_oldest_age_seconds',
    'mfc_agent_delivery_paused',
    'mfc_agent_responses_total',
    'mfc_agent_file_lag_bytes',
  ])('charts %s', (name) => {
    expect(expressions.some((expression) => metricNamesIn(expression).includes(name))).toBe(true);
  });

  it('panel ids are unique', () => {
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
