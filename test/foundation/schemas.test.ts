import { describe, expect, it } from 'vitest';
import {
  apiEndpointStatus,
  callbackMessageSchema,
  endpointEventSchema,
  modelPackageEventSchema,
  parseCallbackBody,
  parseCommandRequest,
  parseInput,
  scheduleEventSchema,
  toOperatorCommand,
} from '../../src/domain/schemas';
import { InputValidationError } from '../../src/errors';
import { fixture, type Json } from './fixtures';

/** Runs `parse` and returns the InputValidationError it throws. */
const rejection = (parse: () => unknown): InputValidationError => {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InputValidationError);
    return error as InputValidationError;
  }
  throw new Error('expected the input to be rejected');
};

const callbackBody = (name: string): Record<string, Json> => JSON.parse(fixture(name).Records[0].body);

describe('model package events', () => {
  it.each([
    ['model-package-approved', 'Approved'],
    ['model-package-rejected', 'Rejected'],
    ['model-package-registered', 'PendingManualApproval'],
    ['model-package-lifecycle-update', 'Approved'],
  ])('accepts %s', (name, status) => {
    const event = parseInput(modelPackageEventSchema, fixture(name), 'model package event');
    expect(event.detail.ModelApprovalStatus).toBe(status);
    expect(event.detail.ModelPackageGroupName).toBe('churn-model');
    expect(event.detail.ModelPackageVersion).toBe(3);
    // fields we do not read pass through
    expect(event.detail.InferenceSpecification).toBeDefined();
    expect(event['detail-type']).toBe('SageMaker Model Package State Change');
  });

  it('keeps the ModelLifeCycle the service itself set', () => {
    const event = parseInput(modelPackageEventSchema, fixture('model-package-lifecycle-update'), 'event');
    expect(event.detail.ModelLifeCycle).toMatchObject({ Stage: 'QA', StageStatus: 'Deploying' });
  });

  const cases: [string, (e: Json) => void, string][] = [
    ['version as a string', (e) => (e.detail.ModelPackageVersion = '3'), 'detail.ModelPackageVersion:'],
    ['version 0', (e) => (e.detail.ModelPackageVersion = 0), 'detail.ModelPackageVersion:'],
    ['no package ARN', (e) => delete e.detail.ModelPackageArn, 'detail.ModelPackageArn: required'],
    [
      'unversioned package ARN',
      (e) => (e.detail.ModelPackageArn = e.detail.ModelPackageArn.replace(/\/3$/, '')),
      'detail.ModelPackageArn:',
    ],
    [
      'ARN of another version',
      (e) => (e.detail.ModelPackageVersion = 4),
      'detail.ModelPackageArn: names version 3, not 4',
    ],
    [
      'unknown approval status',
      (e) => (e.detail.ModelApprovalStatus = 'approved'),
      'detail.ModelApprovalStatus:',
    ],
    ['no group', (e) => delete e.detail.ModelPackageGroupName, 'detail.ModelPackageGroupName: required'],
    ['another detail-type', (e) => (e['detail-type'] = 'SageMaker Endpoint State Change'), 'detail-type:'],
    ['another source', (e) => (e.source = 'custom.sagemaker'), 'source:'],
    ['short account', (e) => (e.account = '1111'), 'account: must be a 12-digit account id'],
    ['epoch time', (e) => (e.time = '1583831889050'), 'time:'],
  ];
  it.each(cases)('rejects %s, naming the field', (_, mutate, expected) => {
    const event = fixture('model-package-approved');
    mutate(event);
    const error = rejection(() => parseInput(modelPackageEventSchema, event, 'model package event'));
    expect(error.message.startsWith('Invalid model package event: ')).toBe(true);
    expect(error.message).toContain(expected);
    expect(error.issues.some((issue) => issue.startsWith(expected.replace(/ .*$/, '')))).toBe(true);
  });
});

describe('endpoint events', () => {
  it.each([
    ['endpoint-in-service', 'IN_SERVICE', 'InService'],
    ['endpoint-failed', 'FAILED', 'Failed'],
    ['endpoint-updating', 'UPDATING', 'Updating'],
  ] as const)('accepts %s', (name, status, apiStatus) => {
    const event = parseInput(endpointEventSchema, fixture(name), 'endpoint event');
    expect(event.detail.EndpointStatus).toBe(status);
    expect(apiEndpointStatus(event.detail.EndpointStatus)).toBe(apiStatus);
    expect(event.detail.Tags).toEqual({
      'sagemaker-rollouts:group': 'churn-model',
      'sagemaker-rollouts:stage': 'qa',
    });
  });

  it('carries the failure reason', () => {
    const event = parseInput(endpointEventSchema, fixture('endpoint-failed'), 'endpoint event');
    expect(event.detail.FailureReason).toMatch(/health check/);
  });

  it.each([
    'OUT_OF_SERVICE',
    'SYSTEM_UPDATING',
    'ROLLING_BACK',
    'DELETING',
    'UPDATE_ROLLBACK_FAILED',
    'CREATING',
  ])('accepts the inferred status %s', (status) => {
    const event = fixture('endpoint-in-service');
    event.detail.EndpointStatus = status;
    expect(parseInput(endpointEventSchema, event, 'endpoint event').detail.EndpointStatus).toBe(status);
  });

  it('accepts a status it does not know: the event is only a trigger, DescribeEndpoint decides (finding 10)', () => {
    for (const status of ['InService', 'PROVISIONING', undefined]) {
      const event = fixture('endpoint-in-service');
      if (status === undefined) delete event.detail.EndpointStatus;
      else event.detail.EndpointStatus = status;
      const parsed = parseInput(endpointEventSchema, event, 'endpoint event');
      expect(parsed.detail.EndpointStatus).toBe(status);
      expect(apiEndpointStatus(parsed.detail.EndpointStatus)).toBeUndefined();
    }
    const numeric = fixture('endpoint-in-service');
    numeric.detail.EndpointStatus = 3;
    expect(() => parseInput(endpointEventSchema, numeric, 'endpoint event')).toThrow(
      /detail\.EndpointStatus/,
    );
  });

  it('accepts an event without Tags and FailureReason', () => {
    const event = fixture('endpoint-in-service');
    delete event.detail.Tags;
    expect(parseInput(endpointEventSchema, event, 'endpoint event').detail.Tags).toBeUndefined();
  });

  const cases: [string, (e: Json) => void, string][] = [
    [
      'CreationTime as ISO text',
      (e) => (e.detail.CreationTime = '2025-03-04T10:00:00Z'),
      'detail.CreationTime:',
    ],
    ['no LastModifiedTime', (e) => delete e.detail.LastModifiedTime, 'detail.LastModifiedTime: required'],
    ['Tags as the API list', (e) => (e.detail.Tags = [{ Key: 'stage', Value: 'qa' }]), 'detail.Tags:'],
    [
      'an endpoint name with an underscore',
      (e) => (e.detail.EndpointName = 'churn_model'),
      'detail.EndpointName:',
    ],
  ];
  it.each(cases)('rejects %s, naming the field', (_, mutate, expected) => {
    const event = fixture('endpoint-in-service');
    mutate(event);
    expect(rejection(() => parseInput(endpointEventSchema, event, 'endpoint event')).message).toContain(
      expected,
    );
  });
});

describe('callback messages', () => {
  it('reads an Executing message with its arguments', () => {
    const message = parseCallbackBody(fixture('callback-executing').Records[0].body);
    expect(message).toMatchObject({
      token: 'AbCdEf1234',
      status: 'Executing',
      arguments: { task: 'deploy', stage: 'prod' },
    });
    expect(message.pipelineExecutionArn).toMatch(/:pipeline\/churn-training\/execution\//);
  });

  it.each(['callback-stopping', 'callback-stopping-capitalized'])('reads %s as Stopping', (name) => {
    const message = parseCallbackBody(fixture(name).Records[0].body);
    expect(message.status).toBe('Stopping');
    expect(message).not.toHaveProperty('Status');
  });

  it.each(['STOPPING', 'stopping', 'Stopping'])('normalises status %s', (value) => {
    const body = { ...callbackBody('callback-executing'), status: value };
    expect(parseInput(callbackMessageSchema, body, 'callback message').status).toBe('Stopping');
  });

  it('defaults a missing status to Executing and missing arguments to {}', () => {
    const body = callbackBody('callback-executing');
    delete body.status;
    delete body.arguments;
    expect(parseInput(callbackMessageSchema, body, 'callback message')).toMatchObject({
      status: 'Executing',
      arguments: {},
    });
  });

  it('rejects the malformed fixture (not JSON) naming the body', () => {
    const error = rejection(() => parseCallbackBody(fixture('callback-malformed').Records[0].body));
    expect(error.message).toBe('Invalid callback message: body: not JSON');
  });

  it('rejects every field of the malformed fixture once it is closed', () => {
    const error = rejection(() => parseCallbackBody(`${fixture('callback-malformed').Records[0].body}}`));
    expect(error.issues).toEqual([
      'token: must be exactly 10 letters or digits',
      'pipelineExecutionArn: must be a pipeline execution ARN',
      expect.stringMatching(/^arguments: /),
    ]);
  });

  const cases: [string, (b: Json) => void, string][] = [
    [
      'a token of 9 characters',
      (b) => (b.token = 'AbCdEf123'),
      'token: must be exactly 10 letters or digits',
    ],
    [
      'a token of 11 characters',
      (b) => (b.token = 'AbCdEf12345'),
      'token: must be exactly 10 letters or digits',
    ],
    ['a token with a dash', (b) => (b.token = 'AbCdE-1234'), 'token: must be exactly 10 letters or digits'],
    ['no token', (b) => delete b.token, 'token: required'],
    ['status Paused', (b) => (b.status = 'Paused'), 'status: must be Executing or Stopping, got "Paused"'],
    ['Status Paused', (b) => (b.Status = 'Paused'), 'Status: must be Executing or Stopping, got "Paused"'],
    [
      'a pipeline ARN without execution',
      (b) => (b.pipelineExecutionArn = b.pipelineExecutionArn.replace(/\/execution\/.*$/, '')),
      'pipelineExecutionArn: must be a pipeline execution ARN',
    ],
    ['arguments as a list', (b) => (b.arguments = ['deploy']), 'arguments:'],
  ];
  it.each(cases)('rejects %s, naming the field', (_, mutate, expected) => {
    const body = callbackBody('callback-executing');
    mutate(body);
    const error = rejection(() => parseCallbackBody(JSON.stringify(body)));
    expect(error.message).toContain(`Invalid callback message: ${expected}`);
  });

  it('has full SQS records in every callback fixture', () => {
    for (const name of [
      'callback-executing',
      'callback-stopping',
      'callback-stopping-capitalized',
      'callback-malformed',
    ]) {
      const record = fixture(name).Records[0];
      expect(Object.keys(record).sort()).toEqual(
        [
          'attributes',
          'awsRegion',
          'body',
          'eventSource',
          'eventSourceARN',
          'md5OfBody',
          'messageAttributes',
          'messageId',
          'receiptHandle',
        ].sort(),
      );
      expect(record.eventSource).toBe('aws:sqs');
      expect(record.attributes.ApproximateReceiveCount).toMatch(/^\d+$/);
      expect(record.attributes.SentTimestamp).toMatch(/^\d{13}$/);
      expect(typeof record.body).toBe('string');
    }
  });
});

describe('control commands (function URL requests)', () => {
  const ARN = 'arn:aws:sts::111122223333:assumed-role/ml-platform-operators/jane.doe';
  const withBody = (event: Json, change: (body: Json) => void): Json => {
    const body = JSON.parse(event.body);
    change(body);
    event.body = JSON.stringify(body);
    return event;
  };

  it.each(['promote', 'pause', 'resume', 'abort', 'rollback', 'retry'] as const)(
    'accepts control-%s, with the caller Lambda names kept only as a claim',
    (verb) => {
      const request = parseCommandRequest(fixture(`control-${verb}`));
      expect(request.received?.body).toMatchObject({ command: verb, deploymentId: 'churn-model:v3' });
      expect(request.received?.urlCaller).toBe(ARN);
      expect(request.method).toBe('POST');
    },
  );

  it('accepts a deployment id with an attempt, and a base64 body', () => {
    const event = withBody(fixture('control-retry'), (b) => (b.deploymentId = 'churn-model:v3#2'));
    event.body = Buffer.from(event.body).toString('base64');
    event.isBase64Encoded = true;
    const received = parseCommandRequest(event).received;
    expect(received?.body.deploymentId).toBe('churn-model:v3#2');
    // the exact bytes sent, which the proof of identity is bound to
    expect(received?.bytes.toString('base64')).toBe(event.body);
  });

  it.each(['promote', 'rollback'] as const)('takes the stage a %s names, down to the command', (verb) => {
    const event = withBody(fixture(`control-${verb}`), (b) => (b.stage = 'qa'));
    const body = parseCommandRequest(event).received!.body;
    expect(body.stage).toBe('qa');
    expect(toOperatorCommand(body, ARN)).toMatchObject({ verb, stage: 'qa', actor: ARN });
    const without = parseCommandRequest(fixture(`control-${verb}`)).received!.body;
    expect('stage' in toOperatorCommand(without, ARN)).toBe(false);
  });

  it('gives no command for a method other than POST, whatever the body', () => {
    const event = fixture('control-promote');
    event.requestContext.http.method = 'GET';
    delete event.body;
    expect(parseCommandRequest(event)).toMatchObject({ received: undefined, method: 'GET' });
  });

  const bodyCases: [string, (b: Json) => void, string][] = [
    [
      'a deployment id without version',
      (b) => (b.deploymentId = 'churn-model'),
      'deploymentId: must be <group>:v<version>',
    ],
    ['a deployment id with version 0', (b) => (b.deploymentId = 'churn-model:v0'), 'deploymentId:'],
    ['a deployment id with a bad attempt', (b) => (b.deploymentId = 'churn-model:v3#x'), 'deploymentId:'],
    [
      'a 200,000-digit deployment id',
      (b) => (b.deploymentId = `churn-model:v${'9'.repeat(200_000)}`),
      'deploymentId: at most 84 characters',
    ],
    [
      'a version too large to be one',
      (b) => (b.deploymentId = `churn-model:v${'9'.repeat(12)}`),
      'deploymentId: must be <group>:v<version>',
    ],
    [
      'a group name over 63 characters',
      (b) => (b.deploymentId = `${'g'.repeat(64)}:v1`),
      'deploymentId: must be <group>:v<version>',
    ],
    ['a request id over 128 characters', (b) => (b.requestId = 'r'.repeat(129)), 'requestId:'],
    ['an unknown command', (b) => (b.command = 'deploy'), 'command:'],
    [
      'an actor of its own (the signer is the actor)',
      (b) => (b.actor = 'someone.else'),
      'actor: unknown field',
    ],
    ['a reason over 1024 characters', (b) => (b.reason = 'x'.repeat(1025)), 'reason:'],
    ['no request id', (b) => delete b.requestId, 'requestId: required'],
    ['a misspelt field', (b) => (b.deploymentID = 'churn-model:v3'), 'deploymentID: unknown field'],
    ['full that is not a boolean', (b) => (b.full = 'yes'), 'full:'],
    [
      'full on another command than promote',
      (b) => {
        b.command = 'abort';
        b.full = true;
      },
      'full: full applies to promote only',
    ],
    [
      'a stage on another command than promote and rollback',
      (b) => {
        b.command = 'pause';
        b.stage = 'prod';
      },
      'stage: stage applies to promote and rollback only',
    ],
    ['a stage that is no stage name', (b) => (b.stage = 'prod/eu'), 'stage: must be a stage name'],
    ['a stage that is not a string', (b) => (b.stage = 2), 'stage:'],
  ];
  it.each(bodyCases)('rejects a body with %s, naming the field', (_, mutate, expected) => {
    const event = withBody(fixture('control-promote'), mutate);
    expect(rejection(() => parseCommandRequest(event)).message).toContain(expected);
  });

  const requestCases: [string, (e: Json) => void, string][] = [
    ['a body that is not JSON', (e) => (e.body = 'promote please'), 'body must be a JSON object'],
    ['no body', (e) => delete e.body, 'body must be a JSON object'],
    [
      'a caller that is not a principal ARN',
      (e) => (e.requestContext.authorizer.iam.userArn = 'jane'),
      'requestContext.authorizer.iam.userArn:',
    ],
    ['an EventBridge event', (e) => (e.version = '0'), 'version:'],
  ];
  it.each(requestCases)('rejects a request with %s', (_, mutate, expected) => {
    const event = fixture('control-promote');
    mutate(event);
    expect(rejection(() => parseCommandRequest(event)).message).toContain(expected);
  });
});

describe('schedule events', () => {
  it('accepts the scheduled event', () => {
    expect(parseInput(scheduleEventSchema, fixture('schedule'), 'schedule event').source).toBe('aws.events');
  });

  it('rejects another event, naming the field', () => {
    const error = rejection(() =>
      parseInput(scheduleEventSchema, fixture('model-package-approved'), 'schedule event'),
    );
    expect(error.message).toContain('detail-type:');
    expect(error.message).toContain('source:');
  });
});

describe('parseInput', () => {
  it('reports every issue as `path: message`, joined by "; "', () => {
    const event = fixture('model-package-approved');
    event.detail.ModelPackageVersion = '3';
    event.detail.ModelApprovalStatus = 'Maybe';
    const error = rejection(() => parseInput(modelPackageEventSchema, event, 'model package event'));
    expect(error.issues).toHaveLength(2);
    expect(error.message).toBe(`Invalid model package event: ${error.issues.join('; ')}`);
  });

  it('names the root when the input is not an object', () => {
    expect(rejection(() => parseInput(scheduleEventSchema, 'tick', 'schedule event')).message).toMatch(
      /^Invalid schedule event: \(root\): /,
    );
  });
});
