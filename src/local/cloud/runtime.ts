import type { Core } from './context';
import { ACCOUNT_ID, ApiError, type RequestContext } from './protocol';
import type { SageMakerEndpoints } from './sagemaker-endpoints';
import { fleetsOf, type Traffic } from './traffic';

export interface RuntimeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** SageMaker Runtime InvokeEndpoint (rest-json): picks a variant by current weight, answers per the model's behaviour. */
export class Runtime {
  constructor(
    private readonly core: Core,
    private readonly endpoints: SageMakerEndpoints,
    private readonly traffic: Traffic,
  ) {}

  invoke(
    endpointName: string,
    headers: Record<string, string | undefined>,
    ctx: RequestContext,
  ): RuntimeResponse {
    const ep = this.endpoints.endpoints.get(endpointName);
    if (!ep)
      throw new ApiError('ValidationError', `Endpoint ${endpointName} of account ${ACCOUNT_ID} not found.`);
    if (ep.status !== 'InService' && ep.status !== 'Updating') {
      throw new ApiError(
        'ValidationError',
        `Endpoint ${endpointName} of account ${ACCOUNT_ID} is not in service.`,
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
        `Received server error (500) from primary with message "${original}". See https://${ctx.region}.console.aws.amazon.com/cloudwatch/home?region=${ctx.region}#logEventViewer:group=/aws/sagemaker/Endpoints/${endpointName} in account ${ACCOUNT_ID} for more information.`,
        {
          status: 424,
          extra: {
            OriginalStatusCode: 500,
            OriginalMessage: original,
            LogStreamArn: `arn:aws:logs:${ctx.region}:${ACCOUNT_ID}:log-group:/aws/sagemaker/Endpoints/${endpointName}`,
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
}
