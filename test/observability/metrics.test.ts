import { describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';

async function valuesOf(metrics: Metrics, name: string) {
  const metric = metrics.registry.getSingleMetric(`mfc_agent_${name}`);
  if (metric === undefined) throw new Error(`mfc_agent_${name} is not registered`);
  return (await metric.get()).values;
}

describe('metrics', () => {
  it('keeps counts made before the registry', async () => {
    const metrics = createMetrics();
    metrics.linesRead.inc({ bot: 'a' });
    metrics.linesRead.inc({ bot: 'a' }, 4);
    metrics.linesRead.inc({ bot: 'b' }, 2);
    metrics.outboxEvents.set(7);

    const lines = await valuesOf(metrics, 'lines_read_total');
    expect(lines).toContainEqual(expect.objectContaining({ labels: { bot: 'a' }, value: 5 }));
    expect(lines).toContainEqual(expect.objectContaining({ labels: { bot: 'b' }, value: 2 }));
    expect(lines).toHaveLength(2);
    expect(await valuesOf(metrics, 'outbox_events')).toEqual([
      expect.objectContaining({ labels: {}, value: 7 }),
    ]);
  });

  it('reflects updates after the registry', async () => {
    const metrics = createMetrics();
    const registry = metrics.registry;
    metrics.retries.inc({ reason: 'timeout' });
    expect(await valuesOf(metrics, 'retries_total')).toEqual([
      expect.objectContaining({ labels: { reason: 'timeout' }, value: 1 }),
    ]);

    metrics.retries.inc({ reason: 'timeout' }, 2);
    metrics.deliveryPaused.set({ reason: 'outbox_full' }, 1);
    metrics.deliveryPaused.set({ reason: 'outbox_full' }, 0);
    expect(await valuesOf(metrics, 'retries_total')).toEqual([
      expect.objectContaining({ labels: { reason: 'timeout' }, value: 3 }),
    ]);
    expect(await valuesOf(metrics, 'delivery_paused')).toEqual([
      expect.objectContaining({ labels: { reason: 'outbox_full' }, value: 0 }),
    ]);
    expect(metrics.registry).toBe(registry);
  });

  it('shows unlabelled metrics at zero', async () => {
    const text = await createMetrics().registry.metrics();

    expect(text).toContain('# TYPE mfc_agent_outbox_bytes gauge');
    expect(text).toContain('mfc_agent_outbox_bytes 0');
    expect(text).toContain('# TYPE mfc_agent_lines_read_total counter');
    expect(text).not.toMatch(/^mfc_agent_lines_read_total\{/m);
  });

  it('exposes labelled series as text', async () => {
    const metrics = createMetrics();
    metrics.responses.inc({ status: 503 }, 2);
    metrics.linesSkipped.inc({ bot: 'mfc_bot', reason: 'not_json' }, 3);

    const text = await metrics.registry.metrics();
    expect(text).toContain('mfc_agent_responses_total{status="503"} 2');
    expect(text).toContain('mfc_agent_lines_skipped_total{bot="mfc_bot",reason="not_json"} 3');
  });

  it('counter rejects a negative amount', () => {
    const metrics = createMetrics();

    expect(() => metrics.bytesRead.inc({ bot: 'a' }, -1)).toThrow(
      'mfc_agent_bytes_read_total: a counter grows by a finite amount >= 0, not -1'
    );
    expect(() => metrics.bytesRead.inc(Number.NaN)).toThrow('not NaN');
  });

  it('gives each call its own registry', async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.eventsSent.inc({ event: 'appointment_open' });

    expect(first.registry).not.toBe(second.registry);
    expect(await valuesOf(second, 'events_sent_total')).toEqual([]);
  });
});
