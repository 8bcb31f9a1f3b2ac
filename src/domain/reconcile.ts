import type { DesiredEndpoint, EndpointObservation } from './model';

const WEIGHT_TOLERANCE = 1e-6;

/** The one next step that brings an endpoint closer to its desired spec. */
export type EndpointStep =
  /** the endpoint runs the spec: nothing to send */
  | { type: 'converged' }
  /** not now (the endpoint is busy, or its state is for the deciding side to judge) */
  | { type: 'wait'; why: string }
  /** create the models and the config, then CreateEndpoint or UpdateEndpoint to it */
  | { type: 'deploy' }
  /** UpdateEndpointWeightsAndCapacities on the config the endpoint runs */
  | { type: 'weights'; weights: Record<string, number> }
  /** DeleteEndpoint: the only action SageMaker allows on a Failed endpoint */
  | { type: 'delete'; why: string }
  /** SageMaker tried this spec and rolled it back: sending it again would fail the same way */
  | { type: 'refused'; why: string };

const BUSY = new Set<EndpointObservation['status']>([
  'Creating',
  'Updating',
  'SystemUpdating',
  'RollingBack',
  'Deleting',
  'OutOfService',
]);

/** Busy with a change of its own: SageMaker takes no other change to it until it is InService again. */
export const isBusy = (endpoint: EndpointObservation | null): boolean =>
  endpoint !== null && BUSY.has(endpoint.status);

const liveWeights = (endpoint: EndpointObservation): Record<string, number> =>
  Object.fromEntries(endpoint.variants.map((v) => [v.variantName, v.desiredWeight]));

const sameWeights = (a: Record<string, number>, b: Record<string, number>): boolean =>
  Object.keys({ ...a, ...b }).every((name) => Math.abs((a[name] ?? 0) - (b[name] ?? 0)) <= WEIGHT_TOLERANCE);

/**
 * Pure: compares what DescribeEndpoint says (null: no endpoint) with the desired spec and returns
 * the next step. Nothing is sent to an endpoint that is not InService.
 */
export const nextEndpointStep = (
  desired: DesiredEndpoint,
  endpoint: EndpointObservation | null,
): EndpointStep => {
  if (!endpoint) return { type: 'deploy' };
  const onTarget = endpoint.configName === desired.configName;
  if (endpoint.status === 'Failed') {
    // a failure on another config, or one not later than this spec's decision, is not this
    // spec's failure (the same millisecond: the decision saw it; see observeAwaited)
    if (!onTarget || endpoint.lastModifiedTime <= desired.requestedAt) {
      return { type: 'delete', why: `${endpoint.endpointName} failed on ${endpoint.configName}` };
    }
    return { type: 'wait', why: `${endpoint.endpointName} failed: ${endpoint.failureReason ?? 'no reason'}` };
  }
  if (endpoint.status === 'UpdateRollbackFailed') {
    return { type: 'wait', why: `${endpoint.endpointName} is UpdateRollbackFailed` };
  }
  if (BUSY.has(endpoint.status) || endpoint.status !== 'InService') {
    return { type: 'wait', why: `${endpoint.endpointName} is ${endpoint.status}` };
  }
  // a FailureReason from a change at or before the decision was there for the decision to see (a
  // rollback decided on it must not be taken for refused in turn): only a later change is this spec's
  if (!onTarget && endpoint.failureReason && endpoint.lastModifiedTime > desired.requestedAt) {
    // SageMaker rolled this spec back: sending it again would fail the same way; the deciding side judges
    return { type: 'wait', why: `SageMaker rolled ${endpoint.endpointName} back: ${endpoint.failureReason}` };
  }
  const live = liveWeights(endpoint);
  if (
    onTarget &&
    endpoint.failureReason &&
    endpoint.lastModifiedTime > desired.requestedAt &&
    !sameWeights(live, desired.weights)
  ) {
    // a weight or capacity change that failed goes RollingBack, then InService on the old weights
    // with the reason (API_DescribeEndpoint.html, EndpointStatus RollingBack)
    return {
      type: 'refused',
      why: `SageMaker rolled ${endpoint.endpointName} back to its previous weights: ${endpoint.failureReason}`,
    };
  }
  if (onTarget) {
    if (sameWeights(live, desired.weights)) return { type: 'converged' };
    return { type: 'weights', weights: { ...desired.weights } };
  }
  if (desired.drainFirst) {
    const keeps = endpoint.variants.some((v) => (desired.weights[v.variantName] ?? 0) > 0);
    const drained = Object.fromEntries(
      endpoint.variants.map((v) => [v.variantName, desired.weights[v.variantName] ?? 0]),
    );
    if (keeps && !sameWeights(live, drained)) return { type: 'weights', weights: drained };
  }
  return { type: 'deploy' };
};
