import { errorCode } from '../adapters/aws-errors';
import { ConfigError } from '../errors';

export const EXIT = {
  ok: 0,
  /** the command was refused, or a check failed */
  rejected: 1,
  /** bad usage, or a deployment that does not exist */
  usage: 2,
  /** no result within the wait */
  timeout: 3,
  /** AWS or connection trouble */
  aws: 4,
  /** status --wait: the deployment ended without going live (rolled back, failed, aborted, superseded) */
  unsuccessful: 5,
  /** status --wait: the deployment waits for an operator (paused, awaiting approval) */
  needsOperator: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as-is, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
]);

const CREDENTIALS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

/** Every code along the cause chain (the adapters wrap SDK errors). */
const codes = (error: unknown): string[] => {
  const found: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = errorCode(current);
    if (code) found.push(code);
    const shape = current as { code?: unknown; errors?: unknown[] };
    if (typeof shape.code === 'string') found.push(shape.code);
    // AggregateError from happy-eyeballs connects (ECONNREFUSED on ::1 and 127.0.0.1)
    if (Array.isArray(shape.errors)) for (const inner of shape.errors) found.push(...codes(inner));
    current = (current as { cause?: unknown }).cause;
  }
  return found;
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Turns any failure into a message that says what to do, and an exit code. */
export const describeFailure = (
  error: unknown,
  where:
    | {
        endpointUrl?: string | undefined;
        tableName: string;
        busName: string;
        region: string;
        regionSource?: string | undefined;
      }
    | undefined,
): { message: string; exitCode: ExitCode; transient: boolean } => {
  if (error instanceof CliError)
    return { message: error.message, exitCode: error.exitCode, transient: false };
  if (error instanceof ConfigError) {
    return {
      message: `${error.message}\nFix the file, or pass another with --config.`,
      exitCode: EXIT.usage,
      transient: false,
    };
  }
  const found = codes(error);
  const message = messageOf(error);
  const region = where
    ? `${where.region}, from ${where.regionSource ?? 'the environment'}`
    : 'default region';
  const target = where?.endpointUrl ? where.endpointUrl : `AWS (${region})`;
  if (found.some((code) => NETWORK.has(code))) {
    const advice = where?.endpointUrl
      ? 'Is the local cloud still running (`npm start -- --keep-running`), and is the address the one it printed?'
      : 'Check your network connection and the region (--region or AWS_REGION).';
    return { message: `cannot reach ${target}: ${message}\n${advice}`, exitCode: EXIT.aws, transient: true };
  }
  if (found.some((code) => CREDENTIALS.has(code))) {
    return {
      message: `no usable AWS credentials: ${message}\nSign in (e.g. \`aws sso login\`), or choose a profile with --profile or AWS_PROFILE.`,
      exitCode: EXIT.aws,
      transient: false,
    };
  }
  if (found.some((code) => code === 'AccessDeniedException' || code === 'AccessDenied')) {
    return {
      message: `access denied: ${message}\nThe operator needs read access to the table, DescribeEndpoint, and events:PutEvents on the bus.`,
      exitCode: EXIT.aws,
      transient: false,
    };
  }
  if (found.includes('ResourceNotFoundException') && /DynamoDB/.test(message)) {
    return {
      message: `table ${where?.tableName} not found in ${region}: ${message}\nPass --stage <stage> (table sagemaker-rollouts-<stage>) or --table <name>, and check the region.`,
      exitCode: EXIT.aws,
      transient: false,
    };
  }
  if (found.includes('ResourceNotFoundException') && /EventBridge/.test(message)) {
    return {
      message: `event bus ${where?.busName} not found in ${region}: ${message}\nPass --stage <stage> (bus sagemaker-rollouts-<stage>) or --bus <name>, and check the region.`,
      exitCode: EXIT.aws,
      transient: false,
    };
  }
  // throttling and service errors may pass on their own; anything else will not
  const transient = found.some((code) =>
    /Throttl|ServiceUnavailable|InternalServerError|InternalFailure/.test(code),
  );
  return { message: `${message}`, exitCode: EXIT.aws, transient };
};
