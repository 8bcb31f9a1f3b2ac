import { describe, expect, it } from 'vitest';
import type { DesiredEndpoint, EndpointObservation } from '../../src/domain/model';
import { nextEndpointStep } from '../../src/domain/reconcile';

const T = Date.UTC(2025, 0, 1);

const desired = (overrides: Partial<DesiredEndpoint> = {}): DesiredEndpoint => ({
  stage: 'prod',
  endpointName: 'prod',
  configName: 'cfg-new',
  variants: [],
  weights: { v1: 100 },
  generation: 4,
  deploymentId: 'g:v1',
  requestedAt: T,
  ...overrides,
});

const endpoint = (
  status: EndpointObservation['status'],
  configName: string,
  weights: Record<string, number>,
  overrides: Partial<EndpointObservation> = {},
): EndpointObservation => ({
  endpointName: 'prod',
  status,
  configName,
  variants: Object.entries(weights).map(([variantName, w]) => ({
    variantName,
    currentWeight: w,
    desiredWeight: w,
  })),
  lastModifiedTime: T + 1,
  ...overrides,
});

describe('nextEndpointStep: one step from what DescribeEndpoint says towards the desired spec', () => {
  it('no endpoint: deploy (create)', () => {
    expect(nextEndpointStep(desired(), null)).toEqual({ type: 'deploy' });
  });

  it.each([
    'Creating',
    'Updating',
    'SystemUpdating',
    'RollingBack',
    'Deleting',
    'OutOfService',
    'UpdateRollbackFailed',
  ] as const)('%s: nothing is sent, it waits', (status) => {
    expect(nextEndpointStep(desired(), endpoint(status, 'cfg-old', { v0: 100 })).type).toBe('wait');
  });

  it('InService on the spec with its weights: converged; other weights: send the weights', () => {
    expect(nextEndpointStep(desired(), endpoint('InService', 'cfg-new', { v1: 100 }))).toEqual({
      type: 'converged',
    });
    const canary = desired({ weights: { v1: 50, v2: 50 } });
    expect(nextEndpointStep(canary, endpoint('InService', 'cfg-new', { v1: 90, v2: 10 }))).toEqual({
      type: 'weights',
      weights: { v1: 50, v2: 50 },
    });
  });

  it('InService on another config: deploy; a rollback spec first drains the variants it drops', () => {
    expect(nextEndpointStep(desired(), endpoint('InService', 'cfg-old', { v0: 100 }))).toEqual({
      type: 'deploy',
    });
    const rollback = desired({ drainFirst: true });
    expect(nextEndpointStep(rollback, endpoint('InService', 'cfg-canary', { v1: 90, v2: 10 }))).toEqual({
      type: 'weights',
      weights: { v1: 100, v2: 0 },
    });
    expect(nextEndpointStep(rollback, endpoint('InService', 'cfg-canary', { v1: 100, v2: 0 }))).toEqual({
      type: 'deploy',
    });
  });

  it('a spec SageMaker rolled back (InService elsewhere with a FailureReason since the request) is not resent', () => {
    const rolledBack = endpoint('InService', 'cfg-old', { v0: 100 }, { failureReason: 'health check' });
    expect(nextEndpointStep(desired(), rolledBack).type).toBe('wait');
    // a FailureReason from before the request is someone else's
    expect(nextEndpointStep(desired(), { ...rolledBack, lastModifiedTime: T - 1 })).toEqual({
      type: 'deploy',
    });
  });

  it('Failed: deleted when the failure is older than the spec or on another config, else left to the decision', () => {
    expect(
      nextEndpointStep(desired(), endpoint('Failed', 'cfg-new', {}, { lastModifiedTime: T - 1 })).type,
    ).toBe('delete');
    // failed in the decision's own millisecond: the failure the decision saw (a retry at once)
    expect(nextEndpointStep(desired(), endpoint('Failed', 'cfg-new', {}, { lastModifiedTime: T })).type).toBe(
      'delete',
    );
    expect(nextEndpointStep(desired(), endpoint('Failed', 'cfg-old', {})).type).toBe('delete');
    expect(nextEndpointStep(desired(), endpoint('Failed', 'cfg-new', {})).type).toBe('wait');
  });
});
