import type { Context } from 'aws-lambda';

/** Levels as Powertools and the Lambda advanced logging controls name them, lowest first. */
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
type Level = (typeof LEVELS)[number];

const levelRank = (name: string | undefined): number | undefined => {
  const index = LEVELS.indexOf((name ?? '').toUpperCase() as Level);
  return index < 0 ? undefined : index;
};

/**
 * The threshold: POWERTOOLS_LOG_LEVEL, else LOG_LEVEL, else INFO; never below the function's
 * Lambda log level (AWS_LAMBDA_LOG_LEVEL), which drops finer lines anyway.
 */
const thresholdOf = (env: NodeJS.ProcessEnv): number => {
  const wanted = levelRank(env.POWERTOOLS_LOG_LEVEL) ?? levelRank(env.LOG_LEVEL) ?? levelRank('INFO')!;
  return Math.max(wanted, levelRank(env.AWS_LAMBDA_LOG_LEVEL) ?? 0);
};

/** Error values as readable members (JSON.stringify gives `{}` for an Error), causes included. */
const serializable = (_key: string, value: unknown): unknown => {
  if (!(value instanceof Error)) return value;
  return {
    ...value,
    name: value.name,
    message: value.message,
    stack: value.stack,
    ...(value.cause !== undefined ? { cause: value.cause } : {}),
  };
};

interface InvocationContext {
  cold_start: boolean;
  function_arn: string;
  function_memory_size: string;
  function_name: string;
  function_request_id: string;
}

/**
 * Structured JSON log lines in the layout of Powertools Logger (level, message, timestamp,
 * service, the invocation's Lambda context, the X-Ray trace id, then the caller's members), one
 * per line on stdout. Written here rather than with Powertools Logger, whose stores, formatters
 * and buffering weigh 22 KB in every bundle.
 */
export class LambdaLogger {
  private invocation: InvocationContext | undefined;
  private coldStart = true;

  constructor(
    readonly serviceName: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  debug(message: string, extra: Record<string, unknown> = {}): void {
    this.log('DEBUG', message, extra);
  }
  info(message: string, extra: Record<string, unknown> = {}): void {
    this.log('INFO', message, extra);
  }
  warn(message: string, extra: Record<string, unknown> = {}): void {
    this.log('WARN', message, extra);
  }
  error(message: string, extra: Record<string, unknown> = {}): void {
    this.log('ERROR', message, extra);
  }

  /** The invocation whose lines follow; the first one of the process is the cold start. */
  startInvocation(context: Partial<Context>): void {
    this.invocation = {
      cold_start: this.coldStart,
      function_arn: context.invokedFunctionArn ?? '',
      function_memory_size: String(context.memoryLimitInMB ?? ''),
      function_name: context.functionName ?? '',
      function_request_id: context.awsRequestId ?? '',
    };
    this.coldStart = false;
  }

  endInvocation(): void {
    this.invocation = undefined;
  }

  private log(level: Level, message: string, extra: Record<string, unknown>): void {
    // read on each line: the level may be changed for a run (the local stack, tests)
    if (levelRank(level)! < thresholdOf(this.env)) return;
    const traceId = this.env._X_AMZN_TRACE_ID?.match(/Root=([^;]+)/)?.[1];
    const line = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.serviceName,
      ...this.invocation,
      ...(traceId ? { xray_trace_id: traceId } : {}),
      ...extra,
    };
    this.write(`${JSON.stringify(line, serializable)}\n`);
  }
}

/** middy middleware: log lines of an invocation carry its Lambda context, and only its own. */
export const logInvocation = (logger: LambdaLogger) => ({
  before: (request: { context: Partial<Context> }): void => logger.startInvocation(request.context),
  after: (): void => logger.endInvocation(),
  onError: (): void => logger.endInvocation(),
});
