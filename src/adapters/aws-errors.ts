import { ConflictError, EndpointBusyError, PermanentError, RolloutsError, TransientError } from '../errors';

/** What was being done when the error happened, for the message. */
export interface ErrorContext {
  /** e.g. `SageMaker UpdateEndpoint` */
  operation: string;
  /** e.g. the endpoint name or model package ARN */
  resource?: string | undefined;
  /**
   * A credential the request carried (a callback token) that the service's message may quote:
   * replaced by `as` in the message, and the cause keeps only the redacted message.
   */
  secret?: { text: string; as: string } | undefined;
}

interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown } | undefined;
  $response?: { statusCode?: unknown } | undefined;
}

const THROTTLING_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

const SERVER_CODES = new Set([
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'InternalServerException',
  'InternalError',
  'InternalDependencyException',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
  'AbortError',
]);

const asShape = (error: unknown): AwsErrorShape =>
  typeof error === 'object' && error !== null ? (error as AwsErrorShape) : {};

/** The AWS error code (`name` in SDK v3), or a Node network error code. */
export const errorCode = (error: unknown): string => {
  const shape = asShape(error);
  for (const candidate of [shape.name, shape.Code, shape.code]) {
    if (typeof candidate === 'string' && candidate !== '' && candidate !== 'Error') return candidate;
  }
  return typeof shape.name === 'string' ? shape.name : 'UnknownError';
};

export const errorMessage = (error: unknown): string => {
  const message = asShape(error).message;
  return typeof message === 'string' ? message : String(error);
};

export const httpStatusCode = (error: unknown): number | undefined => {
  const shape = asShape(error);
  const status = shape.$metadata?.httpStatusCode ?? shape.$response?.statusCode;
  return typeof status === 'number' ? status : undefined;
};

const networkCodeOf = (error: unknown): string | undefined => {
  const shape = asShape(error);
  for (const candidate of [shape.code, shape.name]) {
    if (typeof candidate === 'string' && NETWORK_CODES.has(candidate)) return candidate;
  }
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause !== undefined && cause !== error) {
    const causeCode = asShape(cause).code;
    if (typeof causeCode === 'string' && NETWORK_CODES.has(causeCode)) return causeCode;
  }
  return undefined;
};

export const isTransient = (error: unknown): boolean => {
  if (error instanceof TransientError) return true;
  if (error instanceof RolloutsError) return false;
  const code = errorCode(error);
  if (THROTTLING_CODES.has(code) || SERVER_CODES.has(code)) return true;
  if (networkCodeOf(error) !== undefined) return true;
  const status = httpStatusCode(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return asShape(error).$fault === 'server';
};

const IN_PROGRESS = /Cannot update in-progress endpoint/i;

/** SageMaker's answer to any change of an endpoint that is not InService. */
export const isEndpointInProgress = (error: unknown): boolean =>
  error instanceof EndpointBusyError ||
  (errorCode(error) === 'ValidationException' && IN_PROGRESS.test(errorMessage(error)));

const NOT_FOUND = /Could not find (endpoint|endpoint configuration|model)\b/i;

/** "Could not find endpoint/endpoint configuration/model ..." (SageMaker ValidationException) or ResourceNotFound. */
export const isNotFound = (error: unknown): boolean => {
  const code = errorCode(error);
  if (code === 'ResourceNotFound' || code === 'ResourceNotFoundException') return true;
  return code === 'ValidationException' && NOT_FOUND.test(errorMessage(error));
};

const ALREADY_EXISTS = /Cannot create already existing/i;

/** "Cannot create already existing model/endpoint configuration/endpoint ..." or ResourceInUse. */
export const isAlreadyExists = (error: unknown): boolean => {
  const code = errorCode(error);
  if (code === 'ResourceInUse' || code === 'ResourceInUseException') return true;
  return code === 'ValidationException' && ALREADY_EXISTS.test(errorMessage(error));
};

export const isConditionalCheckFailed = (error: unknown): boolean =>
  errorCode(error) === 'ConditionalCheckFailedException';

/** Maps any error from an AWS call onto the service's error kinds; RolloutsErrors pass through. */
export const toRolloutsError = (error: unknown, context: ErrorContext): RolloutsError => {
  if (error instanceof RolloutsError) return error;
  const where = context.resource ? `${context.operation} ${context.resource}` : context.operation;
  const code = networkCodeOf(error) ?? errorCode(error);
  const status = httpStatusCode(error);
  const { secret } = context;
  const redact = (text: string): string => (secret ? text.replaceAll(secret.text, secret.as) : text);
  const message = redact(
    `${where} failed: ${code}${status !== undefined ? ` (HTTP ${status})` : ''}: ${errorMessage(error)}`,
  );
  const cause = secret ? redactedCause(error, redact) : error;
  if (isEndpointInProgress(error)) return new EndpointBusyError(message, { cause });
  if (isConditionalCheckFailed(error)) return new ConflictError(message, { cause });
  if (isTransient(error)) return new TransientError(message, { cause });
  return new PermanentError(message, { cause });
};

/** The service's error with its message redacted; code and HTTP metadata kept, nothing else. */
const redactedCause = (error: unknown, redact: (text: string) => string): Error => {
  const copy = new Error(redact(errorMessage(error)));
  copy.name = errorCode(error);
  const shape = asShape(error);
  return Object.assign(copy, { $metadata: shape.$metadata, $fault: shape.$fault });
};
