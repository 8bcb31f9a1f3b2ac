import type { CloudWatch, Datapoint, Dimension } from './cloudwatch';
import { ACCOUNT_ID, ApiError } from './protocol';

/**
 * A real model server behind a local endpoint, held to SageMaker's container contract
 * (SageMaker developer guide, "Use Your Own Inference Code with Hosting Services"): GET /ping must
 * answer 200 within 2 s, POST /invocations within 60 s; a container that does not pass its ping
 * fails the endpoint.
 */
export interface ContainerOptions {
  /** Image URI -> URL of a running server, for packages that name an image rather than `sim.container`. */
  images?: Record<string, string>;
  /** Request timeout of one GET /ping. SageMaker: 2 s. */
  pingTimeoutMs?: number;
  /** How long (real time) a container may take to start passing pings before the endpoint fails. */
  startupBudgetMs?: number;
  /** Request timeout of POST /invocations. SageMaker: 60 s. */
  invocationTimeoutMs?: number;
}

export const CONTAINER_DEFAULTS = {
  pingTimeoutMs: 2_000,
  startupBudgetMs: 3_000,
  invocationTimeoutMs: 60_000,
} satisfies Required<Omit<ContainerOptions, 'images'>>;

export interface PingResult {
  healthy: boolean;
  /** What the last attempt saw: `HTTP 200`, `HTTP 503`, `timeout after 2000 ms`, `connection refused`... */
  detail: string;
}

/** Pings until the container answers 200 or the startup budget is spent. */
export async function waitForPing(
  url: string,
  options: { pingTimeoutMs?: number; startupBudgetMs?: number } = {},
): Promise<PingResult> {
  const timeoutMs = options.pingTimeoutMs ?? CONTAINER_DEFAULTS.pingTimeoutMs;
  const deadline = Date.now() + (options.startupBudgetMs ?? CONTAINER_DEFAULTS.startupBudgetMs);
  for (;;) {
    const result = await pingOnce(url, timeoutMs);
    if (result.healthy || Date.now() + 100 > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function pingOnce(url: string, timeoutMs: number): Promise<PingResult> {
  try {
    const res = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { healthy: res.status === 200, detail: `HTTP ${res.status}` };
  } catch (err) {
    return { healthy: false, detail: describeFailure(err, timeoutMs) };
  }
}

export interface ContainerRequest {
  body: Buffer | string;
  contentType?: string;
  accept?: string;
  customAttributes?: string;
}

/** What one POST /invocations came to; `status` is 0 when no HTTP answer arrived. */
export type ContainerOutcome =
  | { kind: 'answered'; status: number; body: Buffer; contentType: string | undefined; latencyMs: number }
  | { kind: 'timeout' | 'unreachable'; status: 0; detail: string; latencyMs: number };

/** Sends one request to the container; never throws. The traffic generator calls this per request. */
export async function invokeContainer(
  url: string,
  request: ContainerRequest,
  options: { timeoutMs?: number } = {},
): Promise<ContainerOutcome> {
  const timeoutMs = options.timeoutMs ?? CONTAINER_DEFAULTS.invocationTimeoutMs;
  const started = performance.now();
  const headers: Record<string, string> = {};
  if (request.contentType) headers['content-type'] = request.contentType;
  if (request.accept) headers.accept = request.accept;
  if (request.customAttributes) headers['x-amzn-sagemaker-custom-attributes'] = request.customAttributes;
  try {
    const res = await fetch(new URL('/invocations', url), {
      method: 'POST',
      headers,
      body: typeof request.body === 'string' ? request.body : new Uint8Array(request.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = Buffer.from(await res.arrayBuffer());
    return {
      kind: 'answered',
      status: res.status,
      body,
      contentType: res.headers.get('content-type') ?? undefined,
      latencyMs: performance.now() - started,
    };
  } catch (err) {
    const timedOut = isTimeout(err);
    return {
      kind: timedOut ? 'timeout' : 'unreachable',
      status: 0,
      detail: describeFailure(err, timeoutMs),
      latencyMs: performance.now() - started,
    };
  }
}

/**
 * Per-variant invocation metrics of one container answer, as SageMaker publishes them in
 * `AWS/SageMaker` with `EndpointName` and `VariantName`: `Invocations`, `Invocation4XXErrors`,
 * `Invocation5XXErrors` (by the model's status code), `InvocationModelErrors` (any answer that is not
 * 2XX, timeouts and socket errors included) and `ModelLatency` in microseconds.
 */
export function recordContainerOutcome(
  cloudwatch: CloudWatch,
  endpointName: string,
  variantName: string,
  at: number,
  outcome: ContainerOutcome,
): void {
  const dims: Dimension[] = [
    { Name: 'EndpointName', Value: endpointName },
    { Name: 'VariantName', Value: variantName },
  ];
  const put = (metric: string, point: Datapoint) =>
    cloudwatch.record('AWS/SageMaker', metric, dims, at, point);
  const flag = (on: boolean): Datapoint => ({
    sum: on ? 1 : 0,
    count: 1,
    min: on ? 1 : 0,
    max: on ? 1 : 0,
    dist: [[on ? 1 : 0, 1]],
  });
  const status = outcome.status;
  put('Invocations', flag(true));
  put('Invocation4XXErrors', flag(status >= 400 && status < 500));
  put('Invocation5XXErrors', flag(status >= 500));
  put('InvocationModelErrors', flag(status < 200 || status >= 300));
  const latencyUs = Math.max(1, Math.round(outcome.latencyMs * 1000));
  put('ModelLatency', { sum: latencyUs, count: 1, min: latencyUs, max: latencyUs, dist: [[latencyUs, 1]] });
}

/**
 * One request to a variant's container, recorded in its metrics at virtual time `at`: what
 * InvokeEndpoint does per request, and what a traffic generator calls per generated request.
 */
export async function serveByContainer(
  cloudwatch: CloudWatch,
  target: { endpointName: string; variantName: string; url: string; at: number },
  request: ContainerRequest,
  options: { timeoutMs?: number } = {},
): Promise<ContainerOutcome> {
  const outcome = await invokeContainer(target.url, request, options);
  recordContainerOutcome(cloudwatch, target.endpointName, target.variantName, target.at, outcome);
  return outcome;
}

/**
 * InvokeEndpoint's answer to a container that did not answer 2XX: `ModelError` (HTTP 424) with
 * `OriginalStatusCode`, `OriginalMessage` and `LogStreamArn`. A timeout is reported as status 0
 * with SageMaker's timeout message (aws/sagemaker-python-sdk issue 1119 quotes it).
 */
export function modelError(
  outcome: ContainerOutcome,
  endpointName: string,
  region: string,
  containerName = 'primary',
): ApiError {
  let original: string;
  if (outcome.kind === 'answered') original = outcome.body.toString('utf8').slice(0, 2048);
  else if (outcome.kind === 'timeout')
    original = `Your invocation timed out while waiting for a response from container ${containerName}. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.`;
  else original = `Could not reach container ${containerName}: ${outcome.detail}`;
  const side = outcome.status >= 400 && outcome.status < 500 ? 'client' : 'server';
  const logGroup = `/aws/sagemaker/Endpoints/${endpointName}`;
  return new ApiError(
    'ModelError',
    `Received ${side} error (${outcome.status}) from ${containerName} with message "${original}". See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=${logGroup} in account ${ACCOUNT_ID} for more information.`,
    {
      status: 424,
      extra: {
        OriginalStatusCode: outcome.status,
        OriginalMessage: original,
        LogStreamArn: `arn:aws:logs:${region}:${ACCOUNT_ID}:log-group:${logGroup}`,
      },
    },
  );
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (isTimeout(err)) return `timeout after ${timeoutMs} ms`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** The first variant whose container does not pass its ping (variants without a container pass). */
export async function failedPing(
  variants: Array<{ name: string; url: string | undefined }>,
  options: ContainerOptions,
): Promise<string | undefined> {
  const results = await Promise.all(
    variants.map(async (v) => (v.url && !(await waitForPing(v.url, options)).healthy ? v.name : undefined)),
  );
  return results.find((name) => name !== undefined);
}
