import type { CloudWatch, Datapoint, Dimension } from './cloudwatch';
import { type ContainerRequest, serveByContainer } from './containers';
import type { Core } from './context';
import { Rng } from './protocol';
import {
  type Endpoint,
  type ModelBehaviour,
  type SageMakerEndpoints,
  SERVING_STATUSES,
  type Variant,
} from './sagemaker-endpoints';
import { binomial, logNormal, poisson, type Uniform } from './samplers';
import { samplingFraction } from './shadow-variants';

const MINUTE = 60_000;
/** Log-space spread of simulated latency around the model's `latencyMs` (median): a p99 about 2x it. */
const LATENCY_SIGMA = 0.3;
/** Latency samples kept per variant and minute; more requests share them as weights. */
const LATENCY_SAMPLES = 200;
/** Ingestion lag: the rest of a minute's requests become visible 1-3 minutes after it ends. */
const MAX_LAG_MINUTES = 3;
/** Requests in flight at once to one real model server. */
const CONTAINER_CONCURRENCY = 8;

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

/** A shared incident in progress: every variant of the endpoint errs and slows down together. */
export interface Burst {
  errorMultiplier: number;
  latencyMultiplier: number;
}

/** What a batch of requests to one fleet of a variant asks of an outcome source. */
export interface RequestBatch {
  endpointName: string;
  variantName: string;
  behaviour: ModelBehaviour;
  requests: number;
  minuteStart: number;
  burst: Burst | null;
  clientErrorRate: number;
}

/** How a batch of requests turned out: 5XX and 4XX counts and latency (µs) as [value, weight] pairs. */
export interface BatchOutcome {
  errors5xx: number;
  errors4xx: number;
  latencyUs: Array<[number, number]>;
}

/**
 * Where per-request outcomes come from. The default draws them (binomial errors, log-normal
 * latency); a source that calls a real model server per request can replace it. An asynchronous
 * source's outcome is recorded when it resolves (for the same minute and arrival time).
 */
export type OutcomeSource = (batch: RequestBatch, random: Uniform) => BatchOutcome | Promise<BatchOutcome>;

export const simulatedOutcomes: OutcomeSource = (batch, random) => {
  const n = batch.requests;
  const errorRate = Math.min(1, batch.behaviour.errorRate * (batch.burst?.errorMultiplier ?? 1));
  const median = batch.behaviour.latencyMs * 1000 * (batch.burst?.latencyMultiplier ?? 1);
  const samples = Math.min(n, LATENCY_SAMPLES);
  const latencyUs: Array<[number, number]> = [];
  for (let i = 0; i < samples; i++)
    latencyUs.push([Math.round(logNormal(random, median, LATENCY_SIGMA)), n / samples]);
  const errors5xx = binomial(random, n, errorRate);
  return { errors5xx, errors4xx: binomial(random, n - errors5xx, batch.clientErrorRate), latencyUs };
};

export interface BurstOptions {
  /** expected bursts per hour (default 1) */
  perHour?: number;
  /** minutes each lasts (default 2) */
  minutes?: number;
  /** 5XX rate multiplier while it lasts (default 10) */
  errorMultiplier?: number;
  /** latency multiplier while it lasts (default 1.5) */
  latencyMultiplier?: number;
}

export interface TrafficOptions {
  /**
   * Requests sent to models served by a real container (`sim.container`), one picked at random
   * per generated request; without them a container gets `{}`.
   */
  requests?: ContainerRequest[];
  /** shared incidents hitting every variant of the endpoint at once */
  bursts?: BurstOptions;
  /** share of requests answered 4XX (client errors), default 0 */
  clientErrorRate?: number;
}

interface Flow {
  rpm: number;
  timer: number;
  options: TrafficOptions;
  burstLeft: number;
}

/**
 * Simulated requests, seeded: Poisson requests per minute and variant (split by the live weights),
 * outcomes from the outcome source, and CloudWatch ingestion lag (part of each minute arrives at
 * once, the rest 1-3 minutes after it ends).
 */
export class Traffic {
  private readonly flows = new Map<string, Flow>();
  private readonly random: Uniform;
  private outcomes: OutcomeSource = simulatedOutcomes;
  /** Generated requests still waiting for a real container's answer. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly core: Core,
    private readonly endpoints: SageMakerEndpoints,
    private readonly cloudwatch: CloudWatch,
    seed = 1,
  ) {
    const rng = new Rng(seed * 104_729 + 13);
    this.random = () => rng.next();
  }

  /** Resolves once every generated request sent to a real container has been answered and recorded. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /**
   * Outcomes of a batch: a model served by a real container answers each request itself
   * (recorded per request by `serveByContainer`, as InvokeEndpoint records it); others come from
   * the outcome source.
   */
  private outcomeOf(batch: RequestBatch, flow: Flow, record: (o: BatchOutcome) => void): void {
    const url = batch.behaviour.container;
    if (!url) {
      const outcome = this.outcomes(batch, this.random);
      const failed: BatchOutcome = { errors5xx: batch.requests, errors4xx: 0, latencyUs: [] };
      if (outcome instanceof Promise) this.track(outcome.then(record, () => record(failed)));
      else record(outcome);
      return;
    }
    const samples = flow.options.requests ?? [];
    const picks = Array.from({ length: batch.requests }, () =>
      samples.length === 0
        ? { body: '{}', contentType: 'application/json' }
        : samples[Math.floor(this.random() * samples.length)]!,
    );
    const target = {
      endpointName: batch.endpointName,
      variantName: batch.variantName,
      url,
      at: batch.minuteStart,
    };
    // a few at a time: a model server is one small process
    const send = async () => {
      for (let i = 0; i < picks.length; i += CONTAINER_CONCURRENCY) {
        await Promise.all(
          picks
            .slice(i, i + CONTAINER_CONCURRENCY)
            .map((request) => serveByContainer(this.cloudwatch, target, request)),
        );
      }
    };
    this.track(send());
  }

  private track(work: Promise<unknown>): void {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  /** Replaces where per-request outcomes come from (simulated numbers by default). */
  setOutcomeSource(source: OutcomeSource): void {
    this.outcomes = source;
  }

  /** Generates about `requestsPerMinute` invocations per virtual minute (Poisson; 0 stops). */
  set(endpointName: string, requestsPerMinute: number, options: TrafficOptions = {}): void {
    const existing = this.flows.get(endpointName);
    if (existing) this.core.timers.cancel(existing.timer);
    this.flows.delete(endpointName);
    if (requestsPerMinute <= 0) return;
    const schedule = (): number => {
      const next = Math.floor(this.core.clock.now() / MINUTE) * MINUTE + MINUTE;
      return this.core.timers.schedule(next, `traffic ${endpointName}`, () => {
        const flow = this.flows.get(endpointName);
        if (!flow) return;
        this.generateMinute(endpointName, flow, next - MINUTE);
        flow.timer = schedule();
      });
    };
    const flow: Flow = { rpm: requestsPerMinute, timer: 0, options, burstLeft: 0 };
    this.flows.set(endpointName, flow);
    flow.timer = schedule();
  }

  get(endpointName: string): number {
    return this.flows.get(endpointName)?.rpm ?? 0;
  }

  private nextBurst(flow: Flow): Burst | null {
    const b = flow.options.bursts;
    if (!b) return null;
    if (flow.burstLeft === 0 && this.random() < (b.perHour ?? 1) / 60) flow.burstLeft = b.minutes ?? 2;
    if (flow.burstLeft === 0) return null;
    flow.burstLeft -= 1;
    return { errorMultiplier: b.errorMultiplier ?? 10, latencyMultiplier: b.latencyMultiplier ?? 1.5 };
  }

  private generateMinute(endpointName: string, flow: Flow, minuteStart: number): void {
    const ep = this.endpoints.endpoints.get(endpointName);
    if (!ep || !SERVING_STATUSES.has(ep.status)) return;
    const total = ep.variants.reduce((n, v) => n + v.currentWeight, 0);
    if (total <= 0) return;
    const burst = this.nextBurst(flow);
    const lagMinutes = 1 + Math.floor(this.random() * MAX_LAG_MINUTES);
    const onTime = 0.3 + 0.5 * this.random();
    const minuteEnd = minuteStart + MINUTE;
    for (const v of ep.variants) {
      const count = poisson(this.random, (flow.rpm * v.currentWeight) / total);
      if (count === 0) continue;
      this.copyToShadows(ep, v, count, minuteStart, burst, flow, minuteEnd + lagMinutes * MINUTE);
      for (const fleet of fleetsOf(this.endpoints, ep, v)) {
        const n = binomial(this.random, count, fleet.share);
        if (n === 0) continue;
        // requests reach CloudWatch in two parts: at the minute's end, and after the lag
        const early = binomial(this.random, n, onTime);
        const parts: Array<[number, number]> = [
          [early, minuteEnd],
          [n - early, minuteEnd + lagMinutes * MINUTE],
        ];
        for (const [requests, availableAt] of parts) {
          if (requests === 0) continue;
          const batch: RequestBatch = {
            endpointName,
            variantName: v.name,
            behaviour: fleet.behaviour,
            requests,
            minuteStart,
            burst,
            clientErrorRate: flow.options.clientErrorRate ?? 0,
          };
          // a source that cannot answer counts its requests as 5XX, as a failing model server would
          this.outcomeOf(batch, flow, (o) =>
            this.recordVariant(ep, v.name, minuteStart, requests, o, availableAt),
          );
        }
      }
    }
  }

  /** A shadow variant gets its sampled copies of the requests `served` answered; its answers go nowhere. */
  private copyToShadows(
    ep: Endpoint,
    served: Variant,
    count: number,
    minuteStart: number,
    burst: Burst | null,
    flow: Flow,
    availableAt: number,
  ): void {
    for (const shadow of ep.shadowVariants ?? []) {
      const copies = binomial(this.random, count, samplingFraction(served, shadow));
      if (copies === 0) continue;
      const batch: RequestBatch = {
        endpointName: ep.name,
        variantName: shadow.name,
        behaviour: this.endpoints.behaviourOf(shadow.modelName),
        requests: copies,
        minuteStart,
        burst,
        clientErrorRate: flow.options.clientErrorRate ?? 0,
      };
      this.outcomeOf(batch, flow, (o) =>
        this.recordVariant(ep, shadow.name, minuteStart, copies, o, availableAt),
      );
    }
  }

  /** Records `count` invocations of one variant and how they turned out. */
  recordVariant(
    ep: Endpoint,
    variantName: string,
    at: number,
    count: number,
    outcome: BatchOutcome,
    availableAt?: number,
  ): void {
    const dims: Dimension[] = [
      { Name: 'EndpointName', Value: ep.name },
      { Name: 'VariantName', Value: variantName },
    ];
    const put = (metric: string, point: Datapoint) =>
      this.cloudwatch.record('AWS/SageMaker', metric, dims, at, point, availableAt);
    // Invocation5XXErrors / 4XX: "For each 5xx response, 1 is sent; otherwise, 0 is sent".
    const zeroOne = (errors: number): Datapoint => ({
      sum: errors,
      count,
      min: errors === count ? 1 : 0,
      max: errors > 0 ? 1 : 0,
      dist: [
        [0, count - errors],
        [1, errors],
      ],
    });
    put('Invocations', { sum: count, count, min: 1, max: 1, dist: [[1, count]] });
    put('Invocation5XXErrors', zeroOne(outcome.errors5xx));
    put('Invocation4XXErrors', zeroOne(outcome.errors4xx));
    const latency = outcome.latencyUs;
    if (latency.length === 0) return;
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
