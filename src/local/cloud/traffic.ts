import type { CloudWatch, Datapoint, Dimension } from './cloudwatch';
import type { Core } from './context';
import type { Endpoint, ModelBehaviour, SageMakerEndpoints, Variant } from './sagemaker-endpoints';

const MINUTE = 60_000;

/** Splits a variant's traffic between its serving model and, during a blue/green update, the new fleet's model. */
export function fleetsOf(
  endpoints: SageMakerEndpoints,
  ep: Endpoint,
  v: Variant,
): Array<{ share: number; behaviour: ModelBehaviour }> {
  const current = { share: 1, behaviour: endpoints.behaviourOf(v.modelName) };
  const bg = ep.blueGreen;
  const next = bg?.newConfig.variants.find((x) => x.VariantName === v.name);
  if (!bg || !next || bg.share <= 0) return [current];
  return [
    { share: 1 - bg.share, behaviour: current.behaviour },
    { share: bg.share, behaviour: endpoints.behaviourOf(next.ModelName) },
  ];
}

/** Latency samples (µs) spread evenly between 0.5× and 1.5× the model's latency, as [value, weight] pairs. */
function latencyDistribution(latencyMs: number, count: number): Array<[number, number]> {
  const k = Math.min(count, 20);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < k; i++) out.push([Math.round(latencyMs * 1000 * (0.5 + (i + 0.5) / k)), count / k]);
  return out;
}

export class Traffic {
  private readonly rates = new Map<string, { rpm: number; timer: number }>();

  constructor(
    private readonly core: Core,
    private readonly endpoints: SageMakerEndpoints,
    private readonly cloudwatch: CloudWatch,
  ) {}

  /** Generates `requestsPerMinute` simulated invocations per virtual minute (0 stops). */
  set(endpointName: string, requestsPerMinute: number): void {
    const existing = this.rates.get(endpointName);
    if (existing) this.core.timers.cancel(existing.timer);
    this.rates.delete(endpointName);
    if (requestsPerMinute <= 0) return;
    const schedule = (): number => {
      const next = Math.floor(this.core.clock.now() / MINUTE) * MINUTE + MINUTE;
      return this.core.timers.schedule(next, `traffic ${endpointName}`, () => {
        this.generateMinute(endpointName, requestsPerMinute, next - MINUTE);
        const entry = this.rates.get(endpointName);
        if (entry) entry.timer = schedule();
      });
    };
    this.rates.set(endpointName, { rpm: requestsPerMinute, timer: schedule() });
  }

  get(endpointName: string): number {
    return this.rates.get(endpointName)?.rpm ?? 0;
  }

  private generateMinute(endpointName: string, rpm: number, minuteStart: number): void {
    const ep = this.endpoints.endpoints.get(endpointName);
    if (!ep || (ep.status !== 'InService' && ep.status !== 'Updating')) return;
    const total = ep.variants.reduce((n, v) => n + v.currentWeight, 0);
    if (total <= 0) return;
    for (const v of ep.variants) {
      const count = Math.round((rpm * v.currentWeight) / total);
      if (count === 0) continue;
      let errors = 0;
      const latency: Array<[number, number]> = [];
      let assigned = 0;
      const fleets = fleetsOf(this.endpoints, ep, v);
      fleets.forEach((fleet, i) => {
        const n = i === fleets.length - 1 ? count - assigned : Math.round(count * fleet.share);
        assigned += n;
        if (n <= 0) return;
        errors += Math.round(n * fleet.behaviour.errorRate);
        latency.push(...latencyDistribution(fleet.behaviour.latencyMs, n));
      });
      this.recordVariant(ep, v.name, minuteStart, count, errors, latency);
    }
  }

  /** Records `count` invocations of one variant, `errors` of them 5XX, with the given latency distribution (µs). */
  recordVariant(
    ep: Endpoint,
    variantName: string,
    at: number,
    count: number,
    errors: number,
    latency: Array<[number, number]>,
  ): void {
    const dims: Dimension[] = [
      { Name: 'EndpointName', Value: ep.name },
      { Name: 'VariantName', Value: variantName },
    ];
    const put = (metric: string, point: Datapoint) =>
      this.cloudwatch.record('AWS/SageMaker', metric, dims, at, point);
    put('Invocations', { sum: count, count, min: 1, max: 1, dist: [[1, count]] });
    put('Invocation5XXErrors', {
      sum: errors,
      count,
      min: errors === count ? 1 : 0,
      max: errors > 0 ? 1 : 0,
      dist: [
        [0, count - errors],
        [1, errors],
      ],
    });
    put('Invocation4XXErrors', { sum: 0, count, min: 0, max: 0, dist: [[0, count]] });
    const weight = latency.reduce((n, [, w]) => n + w, 0);
    const sum = latency.reduce((n, [v, w]) => n + v * w, 0);
    put('ModelLatency', {
      sum,
      count: weight,
      min: Math.min(...latency.map(([v]) => v)),
      max: Math.max(...latency.map(([v]) => v)),
      dist: latency,
    });
  }
}
