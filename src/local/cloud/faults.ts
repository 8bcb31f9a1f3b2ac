import { ApiError } from './protocol';

export interface FaultSpec {
  /** Service id: sagemaker, sagemaker-runtime, sqs, events, cloudwatch, sts. Any service when omitted. */
  service?: string;
  /** Operation name, e.g. UpdateEndpointWeightsAndCapacities, or '*' for every operation. */
  operation: string;
  /**
   * Only calls naming this resource in a top-level `...Name` field (EndpointName,
   * EndpointConfigName...; JSON-protocol APIs such as SageMaker). Any resource when omitted.
   */
  resource?: string;
  /** Only calls sent to this region (a regional outage). Any region when omitted. */
  region?: string;
  error?: string;
  message?: string;
  /** How many matching calls fail (default: every one). */
  times?: number;
  /** Real (wall-clock) delay added to matching calls. */
  latencyMs?: number;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
  hits: number;
}

/** The HTTP status AWS answers each error with (400 for any other, as JSON APIs' client errors). */
const STATUS: Record<string, number> = {
  InternalFailure: 500,
  ServiceUnavailable: 503,
  InternalServerError: 500,
  // S3: throttling is 503 SlowDown; a refused request 403 (a HEAD answer carries only the status)
  SlowDown: 503,
  InternalError: 500,
  AccessDenied: 403,
  // ECR's 5xx
  ServerException: 500,
};

export class Faults {
  private readonly active: ActiveFault[] = [];

  /** Adds a fault; the function returned removes this one fault (and leaves the others). */
  add(spec: FaultSpec): () => void {
    const fault: ActiveFault = { ...spec, remaining: spec.times ?? Number.POSITIVE_INFINITY, hits: 0 };
    this.active.push(fault);
    return () => {
      const index = this.active.indexOf(fault);
      if (index >= 0) this.active.splice(index, 1);
    };
  }

  count(): number {
    return this.active.length;
  }

  clear(): void {
    this.active.length = 0;
  }

  list(): Array<FaultSpec & { remaining: number; hits: number }> {
    return this.active.map((f) => ({ ...f }));
  }

  /** Consumes the first matching fault: its latency and its error (if any). */
  take(
    service: string,
    operation: string,
    names: Record<string, string> = {},
    region?: string,
  ): { latencyMs: number; error?: ApiError } | undefined {
    const fault = this.active.find(
      (f) =>
        f.remaining > 0 &&
        (f.service === undefined || f.service === service) &&
        (f.region === undefined || f.region === region) &&
        (f.operation === '*' || f.operation === operation) &&
        (f.resource === undefined || Object.values(names).includes(f.resource)),
    );
    if (!fault) return undefined;
    fault.remaining--;
    fault.hits++;
    if (!fault.error) return { latencyMs: fault.latencyMs ?? 0 };
    const message = fault.message ?? defaultMessage(fault.error);
    const error = new ApiError(fault.error, message, {
      status: STATUS[fault.error] ?? 400,
      queryCode: `${fault.error};${(STATUS[fault.error] ?? 400) >= 500 ? 'Receiver' : 'Sender'}`,
    });
    return { latencyMs: fault.latencyMs ?? 0, error };
  }
}

function defaultMessage(code: string): string {
  switch (code) {
    case 'ThrottlingException':
      return 'Rate exceeded';
    case 'InternalFailure':
      return 'The request processing has failed because of an unknown error, exception or failure.';
    case 'ServiceUnavailable':
      return 'The service is unavailable. Please try again later.';
    case 'SlowDown':
      return 'Please reduce your request rate.';
    case 'InternalError':
      return 'We encountered an internal error. Please try again.';
    default:
      return `Injected ${code}`;
  }
}
