import { z } from 'zod';
import { closest } from '../../closest-name';
import type { CloudWatch } from './cloudwatch';
import type { Faults } from './faults';
import type { Traffic } from './traffic';

/**
 * The local cloud's own control API, for what AWS has no API for (simulated traffic, injected
 * faults) and for its clock: JSON over `/_local/...` on the same address as the AWS APIs.
 *
 *   GET    /_local/clock     {"now": <epoch ms>, "iso": "..."}
 *   POST   /_local/traffic   {"endpoint": "<endpoint name>", "rpm": <requests per minute>}
 *   POST   /_local/faults    {"operation": "<Operation or *>", "service"?, "error"?, "message"?, "times"?, "resource"?}
 *                            (an operation no service here serves is refused, with the nearest name)
 *   DELETE /_local/faults
 *   POST   /_local/metric-values  {"endpoint", "variant", "metric"?, "value": <number> | "NaN" | "Infinity" | "-Infinity"}
 *   DELETE /_local/metric-values  (GetMetricData answers the variant's metric(s) with that value until then)
 *
 * A bad body is answered 400 with the field and what is wrong.
 */
export const CONTROL_PREFIX = '/_local/';

const name = z.string().min(1).max(256);

export const trafficBody = z.strictObject({ endpoint: name, rpm: z.number().min(0).max(1_000_000) });

export const faultBody = z.strictObject({
  service: z
    .enum(['sagemaker', 'sagemaker-runtime', 'sqs', 'events', 'cloudwatch', 'sts', 'ecr', 's3'])
    .optional(),
  operation: name,
  error: name.default('ValidationException'),
  message: z.string().max(1024).optional(),
  times: z.number().int().min(1).optional(),
  resource: z.string().min(1).max(256).optional(),
});

export const metricValuesBody = z.strictObject({
  endpoint: name,
  variant: name,
  metric: name.optional(),
  value: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]),
});

export interface ControlReply {
  status: number;
  body: unknown;
}

const invalid = (error: z.ZodError): ControlReply => ({
  status: 400,
  body: {
    error: error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
  },
});

/** Why a fault could never fire: an operation no service here (or not the one named) serves. */
const unknownOperation = (
  operation: string,
  service: string | undefined,
  operations: Record<string, string[]>,
): string | undefined => {
  if (operation === '*') return undefined;
  const known = service ? (operations[service] ?? []) : Object.values(operations).flat();
  if (known.includes(operation)) return undefined;
  const guess = closest(operation, known);
  return `${operation} is not an operation ${service ? `of ${service}` : 'any service'} in the local cloud serves${guess ? ` (did you mean ${guess}?)` : ''}`;
};

export const handleControl = (
  method: string,
  path: string,
  body: string,
  parts: {
    now: () => number;
    traffic: Traffic;
    faults: Faults;
    cloudwatch: CloudWatch;
    operations: Record<string, string[]>;
  },
): ControlReply | undefined => {
  const action = path.slice(CONTROL_PREFIX.length);
  if (action === 'clock' && method === 'GET') {
    const now = parts.now();
    return { status: 200, body: { now, iso: new Date(now).toISOString() } };
  }
  if (action === 'faults' && method === 'DELETE') {
    parts.faults.clear();
    return { status: 200, body: {} };
  }
  if (action === 'metric-values' && method === 'DELETE') {
    parts.cloudwatch.clearValueOverrides();
    return { status: 200, body: {} };
  }
  if (method !== 'POST' || !['traffic', 'faults', 'metric-values'].includes(action)) return undefined;
  let json: unknown;
  try {
    json = body.length > 0 ? JSON.parse(body) : {};
  } catch {
    return { status: 400, body: { error: 'body: not JSON' } };
  }
  if (action === 'traffic') {
    const parsed = trafficBody.safeParse(json);
    if (!parsed.success) return invalid(parsed.error);
    parts.traffic.set(parsed.data.endpoint, parsed.data.rpm);
    return { status: 200, body: {} };
  }
  if (action === 'metric-values') {
    const parsed = metricValuesBody.safeParse(json);
    if (!parsed.success) return invalid(parsed.error);
    const { endpoint, variant, metric, value } = parsed.data;
    parts.cloudwatch.overrideValues({
      endpointName: endpoint,
      variantName: variant,
      ...(metric ? { metricName: metric } : {}),
      value: Number(value),
    });
    return { status: 200, body: {} };
  }
  const parsed = faultBody.safeParse(json);
  if (!parsed.success) return invalid(parsed.error);
  const { service, message, times, resource, ...rest } = parsed.data;
  const unknown = unknownOperation(rest.operation, service, parts.operations);
  if (unknown) return { status: 400, body: { error: `operation: ${unknown}` } };
  parts.faults.add({
    ...rest,
    ...(service ? { service } : {}),
    ...(resource ? { resource } : {}),
    ...(message ? { message } : {}),
    ...(times !== undefined ? { times } : {}),
  });
  return { status: 200, body: {} };
};
