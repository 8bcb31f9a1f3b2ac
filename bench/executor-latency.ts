import { performance } from 'node:perf_hooks';
import type { LocalStack } from '../src/local/stack';
import { median, round } from './common';
import type { HandlerHost } from './handler-host';

/** SageMaker calls that change an endpoint, its config, model or weights. */
const ENDPOINT_WRITES = new Set([
  'CreateModel',
  'CreateEndpointConfig',
  'CreateEndpoint',
  'UpdateEndpoint',
  'UpdateEndpointWeightsAndCapacities',
  'DeleteEndpoint',
  'DeleteEndpointConfig',
  'DeleteModel',
]);

export interface ExecutorLatency {
  /** convergence requests that led to a SageMaker call by the executor */
  requests: number;
  /** request sent (the decision is saved and its other effects done) to the executor's first SageMaker call */
  toFirstCallMsMedian: number;
  toFirstCallMsP90: number;
  /** the same, to its first endpoint write, for the requests that led to one */
  writes: number;
  toFirstWriteMsMedian: number;
  toFirstWriteMsP90: number;
}

const p90 = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)] ?? 0;
};

/**
 * Times, in wall-clock milliseconds, each convergence request (the deciding function's SendMessage
 * to the executor queue, which follows the saved decision) to the first SageMaker call and the
 * first endpoint write of the executor invocation that consumed it. The local stack runs one
 * invocation at a time while it polls the queues, so the SageMaker calls seen during an executor
 * invocation are the executor's.
 */
export const watchExecutor = (stack: LocalStack, hosts: Map<string, HandlerHost>) => {
  const executor = hosts.get('executor');
  if (!executor) throw new Error('the executor function is not hosted');
  const pendingSends: number[] = [];
  let current: { sends: number[]; firstCall?: number; firstWrite?: number } | undefined;
  const toFirstCall: number[] = [];
  const toFirstWrite: number[] = [];
  const calls = stack.cloud.calls;
  const push = calls.push.bind(calls);
  calls.push = (...records) => {
    const now = performance.now();
    for (const c of records) {
      if (c.service === 'sqs' && c.operation === 'SendMessage' && !c.error) pendingSends.push(now);
      if (current && c.service === 'sagemaker') {
        current.firstCall ??= now;
        if (ENDPOINT_WRITES.has(c.operation)) current.firstWrite ??= now;
      }
    }
    return push(...records);
  };
  const invoke = executor.invoke.bind(executor);
  executor.invoke = async (functionName, event) => {
    const records = (event as { Records?: unknown[] }).Records?.length ?? 0;
    current = { sends: pendingSends.splice(0, records) };
    try {
      return await invoke(functionName, event);
    } finally {
      const { sends, firstCall, firstWrite } = current;
      current = undefined;
      for (const sent of sends) {
        if (firstCall !== undefined) toFirstCall.push(firstCall - sent);
        if (firstWrite !== undefined) toFirstWrite.push(firstWrite - sent);
      }
    }
  };
  return (): ExecutorLatency => ({
    requests: toFirstCall.length,
    toFirstCallMsMedian: round(median(toFirstCall), 1),
    toFirstCallMsP90: round(p90(toFirstCall), 1),
    writes: toFirstWrite.length,
    toFirstWriteMsMedian: round(median(toFirstWrite), 1),
    toFirstWriteMsP90: round(p90(toFirstWrite), 1),
  });
};
