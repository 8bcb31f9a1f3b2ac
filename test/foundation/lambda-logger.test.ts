import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/errors';
import { LambdaLogger, logInvocation } from '../../src/lambda-logger';

const capture = (env: NodeJS.ProcessEnv) => {
  const lines: Record<string, unknown>[] = [];
  const logger = new LambdaLogger('sagemaker-rollouts', env, (line) => {
    expect(line.endsWith('\n')).toBe(true);
    lines.push(JSON.parse(line));
  });
  return { logger, lines };
};

const context = {
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:f',
  memoryLimitInMB: '512',
  functionName: 'f',
  awsRequestId: 'req-1',
};

describe('LambdaLogger', () => {
  it('writes one JSON line per entry in the Powertools layout, with the caller’s members', () => {
    const { logger, lines } = capture({ _X_AMZN_TRACE_ID: 'Root=1-abc-def;Parent=1;Sampled=0' });
    logger.info('schedule event: ok', { outcome: 'ok', active: 2 });
    expect(lines).toEqual([
      {
        level: 'INFO',
        message: 'schedule event: ok',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        service: 'sagemaker-rollouts',
        xray_trace_id: '1-abc-def',
        outcome: 'ok',
        active: 2,
      },
    ]);
  });

  it('drops lines below POWERTOOLS_LOG_LEVEL (else LOG_LEVEL, else INFO), and SILENT drops all', () => {
    const byDefault = capture({});
    byDefault.logger.debug('d');
    byDefault.logger.warn('w');
    expect(byDefault.lines.map((l) => l.level)).toEqual(['WARN']);
    const debug = capture({ POWERTOOLS_LOG_LEVEL: 'debug', LOG_LEVEL: 'ERROR' });
    debug.logger.debug('d');
    expect(debug.lines.map((l) => l.level)).toEqual(['DEBUG']);
    const fromLogLevel = capture({ LOG_LEVEL: 'ERROR' });
    fromLogLevel.logger.warn('w');
    fromLogLevel.logger.error('e');
    expect(fromLogLevel.lines.map((l) => l.level)).toEqual(['ERROR']);
    // the function's Lambda log level drops finer lines anyway
    const lambda = capture({ POWERTOOLS_LOG_LEVEL: 'DEBUG', AWS_LAMBDA_LOG_LEVEL: 'WARN' });
    lambda.logger.info('i');
    expect(lambda.lines).toEqual([]);
    const silent = capture({ POWERTOOLS_LOG_LEVEL: 'SILENT' });
    silent.logger.error('e');
    expect(silent.lines).toEqual([]);
  });

  it('serializes errors with their name, message, stack, own members and cause', () => {
    const { logger, lines } = capture({});
    const cause = new Error('socket hang up');
    logger.error('failed', { error: new PermanentError('UpdateEndpoint refused', { cause }) });
    const error = lines[0]!.error as Record<string, unknown>;
    expect(error).toMatchObject({ name: 'PermanentError', message: 'UpdateEndpoint refused' });
    expect(error.stack).toContain('UpdateEndpoint refused');
    expect(error.cause).toMatchObject({ name: 'Error', message: 'socket hang up' });
  });

  it('the middleware adds the invocation’s context while it runs: cold start only on the first', () => {
    const { logger, lines } = capture({});
    const middleware = logInvocation(logger);
    middleware.before({ context });
    logger.info('first');
    middleware.after();
    middleware.before({ context: { ...context, awsRequestId: 'req-2' } });
    logger.info('second');
    middleware.onError();
    logger.info('outside');
    expect(lines[0]).toMatchObject({
      cold_start: true,
      function_arn: context.invokedFunctionArn,
      function_memory_size: '512',
      function_name: 'f',
      function_request_id: 'req-1',
    });
    expect(lines[1]).toMatchObject({ cold_start: false, function_request_id: 'req-2' });
    expect(lines[2]).not.toHaveProperty('function_request_id');
  });
});
