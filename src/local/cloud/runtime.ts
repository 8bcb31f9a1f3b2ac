import type { CloudWatch } from './cloudwatch';
import { CONTAINER_DEFAULTS, type ContainerRequest, modelError, serveByContainer } from './containers';
import type { Core } from './context';
import { ACCOUNT_ID, ApiError, type RequestContext } from './protocol';
import {
  type Endpoint,
  type ModelBehaviour,
  type SageMakerEndpoints,
  SERVING_STATUSES,
  type Variant,
} from './sagemaker-endpoints';
import { shadowCopies } from './shadow-variants';
import { fleetsOf, type Traffic } from './traffic';

export interface RuntimeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/**
 * SageMaker Runtime InvokeEndpoint (rest-json): picks a variant by current weight (or TargetVariant),
 * answers per the model's simulated behaviour or forwards to its real container, and copies the
 * request to the endpoint's shadow variants.
 */
export class Runtime {
  /** Shadow copies still waiting for their container's answer. */
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly core: Core,
    private readonly endpoints: SageMakerEndpoints,
    private readonly traffic: Traffic,
    private readonly cloudwatch: CloudWatch,
    private readonly account = ACCOUNT_ID,
  ) {}

  /** Resolves once every shadow copy sent so far has been answered and recorded. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  invoke(
    endpointName: string,
    headers: Record<string, string | undefined>,
    ctx: RequestContext,
    body: Buffer = Buffer.alloc(0),
  ): RuntimeResponse | Promise<RuntimeResponse> {
    const ep = this.endpoints.endpoints.get(endpointName);
    if (!ep)
      throw new ApiError('ValidationError', `Endpoint ${endpointName} of account ${this.account} not found.`);
    if (!SERVING_STATUSES.has(ep.status)) {
      throw new ApiError(
        'ValidationError',
        `Endpoint ${endpointName} of account ${this.account} is not in service.`,
      );
    }
    const targetVariant = headers['x-amzn-sagemaker-target-variant'];
    let variant = targetVariant ? ep.variants.find((v) => v.name === targetVariant) : undefined;
    if (targetVariant && !variant) {
      throw new ApiError(
        'ValidationError',
        `Variant ${targetVariant} not found for endpoint ${endpointName}.`,
      );
    }
    if (!variant) {
      const total = ep.variants.reduce((n, v) => n + v.currentWeight, 0);
      let r = this.core.rng.invoke.next() * total;
      variant = ep.variants.find((v) => {
        r -= v.currentWeight;
        return r < 0 && v.currentWeight > 0;
      });
      variant ??= ep.variants.filter((v) => v.currentWeight > 0).pop() ?? ep.variants[0]!;
    }
    const fleets = fleetsOf(this.endpoints, ep, variant);
    let pick = this.core.rng.invoke.next();
    let fleet = fleets[fleets.length - 1]!;
    for (const f of fleets) {
      pick -= f.share;
      if (pick < 0) {
        fleet = f;
        break;
      }
    }
    const behaviour = fleet.behaviour;
    const request: ContainerRequest = {
      body,
      ...(headers['content-type'] ? { contentType: headers['content-type'] } : {}),
      ...(headers.accept ? { accept: headers.accept } : {}),
      ...(headers['x-amzn-sagemaker-custom-attributes']
        ? { customAttributes: headers['x-amzn-sagemaker-custom-attributes'] }
        : {}),
    };
    for (const shadow of shadowCopies(ep, variant, () => this.core.rng.invoke.next())) {
      this.copyToShadow(ep, shadow, request);
    }
    if (behaviour.container) return this.forward(ep, variant, behaviour.container, request, ctx);
    const failed = this.core.rng.invoke.next() < behaviour.errorRate;
    const latencyUs = Math.round(behaviour.latencyMs * 1000);
    this.traffic.recordVariant(ep, variant.name, this.core.clock.now(), 1, {
      errors5xx: failed ? 1 : 0,
      errors4xx: 0,
      latencyUs: [[latencyUs, 1]],
    });
    if (failed) {
      const original = 'Internal Server Error';
      throw new ApiError(
        'ModelError',
        `Received server error (500) from primary with message "${original}". See https://${ctx.region}.console.aws.amazon.com/cloudwatch/home?region=${ctx.region}#logEventViewer:group=/aws/sagemaker/Endpoints/${endpointName} in account ${this.account} for more information.`,
        {
          status: 424,
          extra: {
            OriginalStatusCode: 500,
            OriginalMessage: original,
            LogStreamArn: `arn:aws:logs:${ctx.region}:${this.account}:log-group:/aws/sagemaker/Endpoints/${endpointName}`,
          },
        },
      );
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'x-amzn-invoked-production-variant': variant.name },
      body: behaviour.response,
    };
  }

  private async forward(
    ep: Endpoint,
    variant: Variant,
    url: string,
    request: ContainerRequest,
    ctx: RequestContext,
  ): Promise<RuntimeResponse> {
    const outcome = await serveByContainer(
      this.cloudwatch,
      { endpointName: ep.name, variantName: variant.name, url, at: this.core.clock.now() },
      request,
      { timeoutMs: this.timeoutMs() },
    );
    if (outcome.kind !== 'answered' || outcome.status < 200 || outcome.status >= 300) {
      throw modelError(outcome, ep.name, ctx.region);
    }
    return {
      status: 200,
      headers: {
        'content-type': outcome.contentType ?? 'application/octet-stream',
        'x-amzn-invoked-production-variant': variant.name,
      },
      body: outcome.body,
    };
  }

  /** A shadow answers nobody: only its metrics show what it did with the copy. */
  private copyToShadow(ep: Endpoint, shadow: Variant, request: ContainerRequest): void {
    const at = this.core.clock.now();
    const behaviour: ModelBehaviour = this.endpoints.behaviourOf(shadow.modelName);
    if (!behaviour.container) {
      const failed = this.core.rng.invoke.next() < behaviour.errorRate;
      const latencyUs = Math.round(behaviour.latencyMs * 1000);
      this.traffic.recordVariant(ep, shadow.name, at, 1, {
        errors5xx: failed ? 1 : 0,
        errors4xx: 0,
        latencyUs: [[latencyUs, 1]],
      });
      return;
    }
    const copy = serveByContainer(
      this.cloudwatch,
      { endpointName: ep.name, variantName: shadow.name, url: behaviour.container, at },
      request,
      { timeoutMs: this.timeoutMs() },
    ).then(() => undefined);
    this.inflight.add(copy);
    void copy.finally(() => this.inflight.delete(copy));
  }

  private timeoutMs(): number {
    return this.endpoints.containerOptions.invocationTimeoutMs ?? CONTAINER_DEFAULTS.invocationTimeoutMs;
  }
}
