import type { Deps, Log } from '../../src/app/deps';
import { loadConfigFile } from '../../src/config/load';
import type { PackageArtifacts } from '../../src/domain/artifacts';
import type { EndpointObservation, PackageInfo, ServiceEvent } from '../../src/domain/model';
import { PermanentError, TransientError } from '../../src/errors';
import type { AnswerResult, PipelineCallbacks } from '../../src/ports/pipelines';
import type { DeploySpec, EndpointsFactory, InvokeResult, ModelRegistry } from '../../src/ports/sagemaker';

import type { Dynamo } from '../support/dynamo';
import { inlineExecutor } from '../support/inline-executor';

export { Dynamo } from '../support/dynamo';

export const LOCAL_CONFIG = 'src/local/scenarios/rollouts.local.yml';
export const T0 = Date.UTC(2024, 0, 1);
export const EXEC_ARN = 'arn:aws:sagemaker:us-east-1:111122223333:pipeline/train/execution/abc123';
export const packageArn = (group: string, version: number) =>
  `arn:aws:sagemaker:us-east-1:111122223333:model-package/${group}/${version}`;

export interface SentAnswer {
  token: string;
  outcome: 'success' | 'failure';
  outputs?: Record<string, string>;
  reason?: string;
  requestToken: string;
  accepted: boolean;
}

/** SageMaker's side of callback answers: the first answer per token stands; later ones conflict. */
export class FakePipelines implements PipelineCallbacks {
  readonly sent: SentAnswer[] = [];
  /** errors thrown by the next calls, in order */
  readonly failNext: Error[] = [];
  private readonly answered = new Map<string, string>();

  accepted(token: string): SentAnswer[] {
    return this.sent.filter((a) => a.token === token && a.accepted);
  }

  private answer(entry: Omit<SentAnswer, 'accepted'>): AnswerResult {
    const error = this.failNext.shift();
    if (error) throw error;
    const previous = this.answered.get(entry.token);
    const accepted = previous === undefined;
    this.sent.push({ ...entry, accepted });
    if (accepted) {
      this.answered.set(entry.token, entry.requestToken);
      return 'sent';
    }
    return 'already-answered';
  }

  async sendSuccess(token: string, outputs: Record<string, string>, requestToken: string) {
    return this.answer({ token, outcome: 'success', outputs, requestToken });
  }

  async sendFailure(token: string, reason: string, requestToken: string) {
    return this.answer({ token, outcome: 'failure', reason, requestToken });
  }
}

/** Registry: packages by ARN; an unknown ARN is refused for good, like ResourceNotFound. */
export class FakeRegistry implements ModelRegistry {
  readonly packages = new Map<string, PackageInfo>();
  readonly updates: unknown[] = [];

  add(group: string, version: number, approvalStatus: PackageInfo['approvalStatus'] = 'Approved'): string {
    const arn = packageArn(group, version);
    this.packages.set(arn, { group, version, arn, approvalStatus, lastModifiedTime: T0 });
    return arn;
  }

  async describePackage(arn: string): Promise<PackageInfo> {
    const pkg = this.packages.get(arn);
    if (!pkg) throw new PermanentError(`ResourceNotFound: model package ${arn} does not exist`);
    return structuredClone(pkg);
  }

  /** Every version runs one image, in this account's ECR in us-east-1. */
  async packageArtifacts(arn: string): Promise<PackageArtifacts> {
    await this.describePackage(arn);
    return {
      packageArn: arn,
      containers: [{ image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/model:${arn.split('/').pop()}` }],
    };
  }

  async newestApproved(group: string): Promise<{ version: number; arn: string } | undefined> {
    const approved = [...this.packages.values()].filter(
      (p) => p.group === group && p.approvalStatus === 'Approved',
    );
    const newest = approved.sort((a, b) => b.version - a.version)[0];
    return newest && { version: newest.version, arn: newest.arn };
  }

  async updatePackage(arn: string, update: unknown): Promise<void> {
    this.updates.push({ arn, update });
  }
}

/** Endpoints that change state only when a test says so (`settle`). */
export class FakeEndpoints implements EndpointsFactory {
  readonly endpoints = new Map<string, EndpointObservation>();
  readonly deploys: DeploySpec[] = [];
  readonly invokes: string[] = [];
  invokeResult: InvokeResult = { ok: true, statusCode: 200, body: '{"predictions":[0.1]}' };
  invokeError: Error | undefined;

  /** virtual time of the next operation started */
  now = T0;

  settle(
    endpointName: string,
    at: number,
    status: EndpointObservation['status'] = 'InService',
    failureReason?: string,
  ) {
    const endpoint = this.endpoints.get(endpointName);
    if (!endpoint) throw new Error(`no endpoint ${endpointName}`);
    this.now = at;
    endpoint.status = status;
    endpoint.lastModifiedTime = at;
    endpoint.failureReason = failureReason;
    if (status === 'InService') {
      for (const v of endpoint.variants) v.currentWeight = v.desiredWeight;
    }
  }

  forStage() {
    return {
      describe: async (name: string) => structuredClone(this.endpoints.get(name) ?? null),
      deploy: async (spec: DeploySpec) => {
        const existing = this.endpoints.get(spec.endpointName);
        if (existing?.configName === spec.configName) return 'already' as const;
        if (existing && existing.status !== 'InService') return 'busy' as const;
        this.deploys.push(spec);
        this.endpoints.set(spec.endpointName, {
          endpointName: spec.endpointName,
          status: existing ? 'Updating' : 'Creating',
          configName: spec.configName,
          lastModifiedTime: this.now,
          variants: spec.variants.map((v) => ({
            variantName: v.variantName,
            currentWeight: v.weight,
            desiredWeight: v.weight,
          })),
        });
        return 'started' as const;
      },
      setWeights: async (name: string, weights: Record<string, number>) => {
        const endpoint = this.endpoints.get(name);
        if (endpoint?.status !== 'InService') return 'busy' as const;
        for (const v of endpoint.variants) v.desiredWeight = v.currentWeight = weights[v.variantName] ?? 0;
        return 'sent' as const;
      },
      invoke: async (name: string) => {
        this.invokes.push(name);
        if (this.invokeError) throw this.invokeError;
        return this.invokeResult;
      },
      delete: async (name: string) => {
        this.endpoints.delete(name);
      },
      retire: async () => {},
    };
  }
}

export interface LogLine {
  level: keyof Log;
  message: string;
  extra?: Record<string, unknown> | undefined;
}

export interface Harness {
  deps: Deps;
  pipelines: FakePipelines;
  registry: FakeRegistry;
  endpoints: FakeEndpoints;
  events: ServiceEvent[];
  logs: LogLine[];
}

export const harness = async (dynamo: Dynamo): Promise<Harness> => {
  const pipelines = new FakePipelines();
  const registry = new FakeRegistry();
  const endpoints = new FakeEndpoints();
  const events: ServiceEvent[] = [];
  const logs: LogLine[] = [];
  const line =
    (level: keyof Log) =>
    (message: string, extra?: Record<string, unknown>): void => {
      logs.push({ level, message, extra });
    };
  const deps: Deps = {
    config: loadConfigFile(LOCAL_CONFIG),
    store: await dynamo.store(),
    registry,
    endpoints,
    // these endpoints have no autoscaling
    autoscaling: {
      forStage: () => ({ read: async () => undefined, apply: async () => {}, remove: async () => {} }),
    },
    metrics: {
      readVariants: async () => new Map(),
      alarmsInAlarm: async () => [],
    },
    metricsFor: () => ({ readVariants: async () => new Map(), alarmsInAlarm: async () => [] }),
    // every image is in ECR: the pre-flight has tests of its own
    artifacts: { forStage: () => ({ observe: async (artifact) => ({ artifact, present: true }) }) },
    region: 'us-east-1',
    pipelines,
    events: {
      publish: async (published) => {
        events.push(...published);
      },
    },
    convergence: inlineExecutor(() => deps),
    failures: { raise: () => {} },
    log: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
  };
  return { deps, pipelines, registry, endpoints, events, logs };
};

export const throttled = (): TransientError =>
  new TransientError('SageMaker SendPipelineExecutionStepSuccess: ThrottlingException: Rate exceeded');

let tokens = 0;
/** A fresh valid callback token. */
export const newToken = (): string => `Tok${String(++tokens).padStart(7, '0')}`;
