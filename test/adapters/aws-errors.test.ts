import { describe, expect, it } from 'vitest';
import { isAlreadyExists, isNotFound, toRolloutsError } from '../../src/adapters/aws-errors';
import { ConflictError, EndpointBusyError, PermanentError, TransientError } from '../../src/errors';
import { alreadyExisting, awsError, couldNotFindEndpoint, inProgress, throttled } from './aws-fakes';

const context = { operation: 'SageMaker UpdateEndpoint', resource: 'churn-prod' };

describe('toRolloutsError', () => {
  it.each([
    ['ThrottlingException', 400],
    ['Throttling', 400],
    ['TooManyRequestsException', 429],
    ['ProvisionedThroughputExceededException', 400],
    ['RequestLimitExceeded', 400],
    ['ServiceUnavailable', 503],
    ['InternalFailure', 500],
    ['SomethingNew', 502],
  ])('%s (HTTP %i) is transient', (name, status) => {
    expect(toRolloutsError(awsError(name, 'x', status), context)).toBeInstanceOf(TransientError);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET'])('network error %s is transient', (code) => {
    const error = Object.assign(new Error(`connect ${code} 127.0.0.1:4566`), { code });
    expect(toRolloutsError(error, context)).toBeInstanceOf(TransientError);
  });

  it('an SDK timeout is transient', () => {
    const error = Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
    expect(toRolloutsError(error, context)).toBeInstanceOf(TransientError);
  });

  it('"Cannot update in-progress endpoint" is an EndpointBusyError (itself transient)', () => {
    const mapped = toRolloutsError(inProgress(), context);
    expect(mapped).toBeInstanceOf(EndpointBusyError);
    expect(mapped).toBeInstanceOf(TransientError);
  });

  it('ConditionalCheckFailedException is a conflict', () => {
    expect(
      toRolloutsError(awsError('ConditionalCheckFailedException', 'The conditional request failed'), context),
    ).toBeInstanceOf(ConflictError);
  });

  it('anything else is permanent, named after operation and resource, with the cause', () => {
    const cause = awsError('AccessDeniedException', 'not authorized to perform sagemaker:UpdateEndpoint');
    const mapped = toRolloutsError(cause, context);
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped.message).toContain('SageMaker UpdateEndpoint churn-prod');
    expect(mapped.message).toContain('AccessDeniedException');
    expect(mapped.cause).toBe(cause);
    expect(toRolloutsError(couldNotFindEndpoint('x'), context)).toBeInstanceOf(PermanentError);
  });

  it('passes the service errors through unchanged', () => {
    const original = new ConflictError('stale');
    expect(toRolloutsError(original, context)).toBe(original);
  });
});

describe('isNotFound / isAlreadyExists', () => {
  it('recognise SageMaker messages and codes', () => {
    expect(isNotFound(couldNotFindEndpoint('churn-qa'))).toBe(true);
    expect(isNotFound(awsError('ValidationException', 'Could not find endpoint configuration "c1".'))).toBe(
      true,
    );
    expect(isNotFound(awsError('ValidationException', 'Could not find model "m1".'))).toBe(true);
    expect(isNotFound(awsError('ResourceNotFound', 'Pipeline execution not found'))).toBe(true);
    expect(isNotFound(inProgress())).toBe(false);
    expect(isNotFound(throttled())).toBe(false);

    expect(isAlreadyExists(alreadyExisting('model', 'm1'))).toBe(true);
    expect(isAlreadyExists(alreadyExisting('endpoint configuration', 'c1'))).toBe(true);
    expect(isAlreadyExists(awsError('ResourceInUse', 'in use'))).toBe(true);
    expect(isAlreadyExists(couldNotFindEndpoint('x'))).toBe(false);
  });
});
