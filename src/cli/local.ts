import { DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeEndpointCommand,
  ListEndpointsCommand,
  ListModelPackagesCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { type Command, InvalidArgumentError } from 'commander';
import { errorCode } from '../adapters/aws-errors';
import { cloudWatchClient, sageMakerClient } from '../adapters/clients';
import { pushImage } from '../local/push-image';
import type { Session } from './cli';
import { CliError, EXIT, UsageError } from './errors';
import { parseIdOrFail } from './history';
import { UnknownNameError } from './suggest';

/**
 * `local ...`: what a scenario step does, against the local cloud `npm start -- --keep-running`
 * left up. Registry and alarms go through the AWS APIs the local cloud implements; traffic and
 * faults, which AWS has no API for, through its control API (/_local/...).
 */

const ALARM_STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;

const number =
  (what: string, min: number, max: number) =>
  (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected ${what} between ${min} and ${max}, got "${value}".`);
    }
    return parsed;
  };

/** The local cloud's address, once it answered on its control API: never real AWS. */
const localCloud = async (session: Session): Promise<string> => {
  const ctx = await session.context();
  const url = ctx.settings.endpointUrl;
  const advice =
    'Start one with `npm start -- --keep-running` and export the environment it prints (or pass --local <url>).';
  if (!url) throw new UsageError(`local commands work on the local cloud only, and none is named. ${advice}`);
  let answer: Response;
  try {
    answer = await fetch(new URL('/_local/clock', url));
  } catch (error) {
    throw new CliError(`no local cloud answers at ${url}: ${(error as Error).message}. ${advice}`, EXIT.aws);
  }
  if (!answer.ok)
    throw new UsageError(`${url} is not a local cloud (GET /_local/clock: ${answer.status}). ${advice}`);
  return url;
};

const control = async (url: string, method: string, path: string, body?: unknown): Promise<unknown> => {
  const answer = await fetch(new URL(`/_local/${path}`, url), {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const reply = (await answer.json()) as { error?: string };
  if (!answer.ok) throw new UsageError(`the local cloud refused ${path}: ${reply.error ?? answer.status}`);
  return reply;
};

/** The ARN of <group>:v<version>, as the registry lists it. */
const packageArn = async (id: string): Promise<string> => {
  const { group, version } = parseIdOrFail(id);
  let token: string | undefined;
  do {
    const page = await sageMakerClient().send(
      new ListModelPackagesCommand({ ModelPackageGroupName: group, NextToken: token }),
    );
    const found = page.ModelPackageSummaryList?.find((p) => p.ModelPackageVersion === version);
    if (found?.ModelPackageArn) return found.ModelPackageArn;
    token = page.NextToken;
  } while (token);
  throw new CliError(`no version ${version} in model package group ${group}: register it first`, EXIT.usage);
};

/** A group the rollouts config names: the service ignores any other group's versions. */
const requireConfiguredGroup = async (session: Session, group: string): Promise<void> => {
  const ctx = await session.context();
  const config = ctx.config();
  if (!config || Object.hasOwn(config.modelPackageGroups, group)) return;
  throw new UnknownNameError('model package group', group, Object.keys(config.modelPackageGroups), {
    advice: `The rollouts config (${ctx.settings.configPath}) does not name it, so the service would ignore its versions`,
  });
};

/** An endpoint the local cloud has; one the config names but nothing created yet is said so. */
const requireEndpoint = async (session: Session, endpoint: string): Promise<void> => {
  const sm = sageMakerClient();
  try {
    await sm.send(new DescribeEndpointCommand({ EndpointName: endpoint }));
    return;
  } catch (error) {
    if (errorCode(error) !== 'ValidationException') throw error;
  }
  const stages = Object.values((await session.context()).config()?.modelPackageGroups ?? {}).flatMap((g) => [
    g.stages.qa.endpointName,
    g.stages.prod.endpointName,
  ]);
  if (stages.includes(endpoint)) {
    throw new UsageError(
      `endpoint ${endpoint} does not exist yet: it is created when its group's first approved version is deployed (\`local approve <group>:v<version>\`, then \`status <group>:v<version> --wait\`)`,
    );
  }
  const existing = (await sm.send(new ListEndpointsCommand({ MaxResults: 100 }))).Endpoints ?? [];
  throw new UnknownNameError('endpoint', endpoint, [
    ...existing.flatMap((e) => (e.EndpointName ? [e.EndpointName] : [])),
    ...stages,
  ]);
};

export const addLocalCommands = (program: Command, session: Session): void => {
  const local = program
    .command('local')
    .description(
      'drive the local cloud left up by `npm start -- --keep-running` (register, approve, traffic, alarms, faults)',
    );
  const done = (result: Record<string, unknown>, text: string) => {
    session.output.out(session.output.json ? JSON.stringify({ ok: true, ...result }) : text);
    session.exitCode = EXIT.ok;
  };

  local
    .command('register')
    .argument('<group>', 'model package group (created if needed)')
    .description('register the next version of a group, PendingManualApproval, and say how the model behaves')
    .option('--error-rate <ratio>', 'share of requests answered 5XX (0..1)', number('a ratio', 0, 1))
    .option('--latency-ms <ms>', 'model latency', number('milliseconds', 0, 600_000))
    .option('--fail-deploy', 'the endpoint fails to deploy this version')
    .action(
      async (group: string, options: { errorRate?: number; latencyMs?: number; failDeploy?: boolean }) => {
        await localCloud(session);
        await requireConfiguredGroup(session, group);
        const sm = sageMakerClient();
        await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group })).catch((error) => {
          // the group exists already: registering another version is the point
          if (!/already exists/i.test((error as Error).message)) throw error;
        });
        const metadata: Record<string, string> = {};
        if (options.errorRate !== undefined) metadata['sim.errorRate'] = String(options.errorRate);
        if (options.latencyMs !== undefined) metadata['sim.latencyMs'] = String(options.latencyMs);
        if (options.failDeploy) metadata['sim.failDeploy'] = 'true';
        await pushImage('us-east-1', group, 'latest');
        const out = await sm.send(
          new CreateModelPackageCommand({
            ModelPackageGroupName: group,
            ModelApprovalStatus: 'PendingManualApproval',
            CustomerMetadataProperties: metadata,
            InferenceSpecification: {
              Containers: [{ Image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/${group}:latest` }],
              SupportedContentTypes: ['application/json'],
              SupportedResponseMIMETypes: ['application/json'],
            },
          }),
        );
        const arn = out.ModelPackageArn ?? '';
        const version = Number(arn.split('/').at(-1));
        done(
          { group, version, deploymentId: `${group}:v${version}`, modelPackageArn: arn },
          `registered ${group}:v${version} (${arn}), PendingManualApproval: \`local approve ${group}:v${version}\` starts its rollout`,
        );
      },
    );

  for (const [verb, status] of [
    ['approve', 'Approved'],
    ['reject', 'Rejected'],
  ] as const) {
    local
      .command(verb)
      .argument('<version>', '<group>:v<version>')
      .description(
        `set the version's approval status to ${status} (the registry emits the state-change event)`,
      )
      .action(async (id: string) => {
        await localCloud(session);
        await requireConfiguredGroup(session, parseIdOrFail(id).group);
        const arn = await packageArn(id);
        await sageMakerClient().send(
          new UpdateModelPackageCommand({
            ModelPackageArn: arn,
            ModelApprovalStatus: status,
            ApprovalDescription: `${status} with sagemaker-rollouts local ${verb}`,
          }),
        );
        done({ modelPackageArn: arn, approval: status }, `${id} ${status}`);
      });
  }

  local
    .command('traffic')
    .argument('<endpoint>', 'endpoint name')
    .argument(
      '<rpm>',
      'simulated requests per minute, split by the variants’ weights',
      number('requests per minute', 0, 1_000_000),
    )
    .description('set the simulated traffic on an endpoint')
    .action(async (endpoint: string, rpm: number) => {
      const url = await localCloud(session);
      await requireEndpoint(session, endpoint);
      await control(url, 'POST', 'traffic', { endpoint, rpm });
      done({ endpoint, rpm }, `${endpoint}: ${rpm} requests per minute`);
    });

  local
    .command('alarm')
    .argument('<name>', 'CloudWatch alarm name')
    .argument('<state>', ALARM_STATES.join(' | '))
    .option('--reason <text>', 'StateReason', 'set with sagemaker-rollouts local alarm')
    .description('set an alarm’s state (CloudWatch SetAlarmState)')
    .action(async (name: string, state: string, options: { reason: string }) => {
      if (!(ALARM_STATES as readonly string[]).includes(state)) {
        throw new UsageError(`alarm state must be one of ${ALARM_STATES.join(', ')}, got "${state}"`);
      }
      await localCloud(session);
      try {
        await cloudWatchClient().send(
          new SetAlarmStateCommand({
            AlarmName: name,
            StateValue: state as (typeof ALARM_STATES)[number],
            StateReason: options.reason,
          }),
        );
      } catch (error) {
        if (errorCode(error) !== 'ResourceNotFound') throw error;
        const alarms = (await cloudWatchClient().send(new DescribeAlarmsCommand({}))).MetricAlarms ?? [];
        throw new UnknownNameError(
          'alarm',
          name,
          alarms.flatMap((a) => (a.AlarmName ? [a.AlarmName] : [])),
        );
      }
      done({ alarm: name, state }, `${name} -> ${state}`);
    });

  local
    .command('fault')
    .argument('<operation>', 'API operation to fail, e.g. CreateEndpoint, or * for every one')
    .option(
      '--service <service>',
      'sagemaker | sagemaker-runtime | sqs | events | cloudwatch | sts (default: any)',
    )
    .option('--error <code>', 'error code (default ValidationException)')
    .option('--message <text>', 'error message')
    .option('--times <n>', 'fail this many calls (default: every call)', number('a count', 1, 1_000_000))
    .description('make an operation of the local cloud fail')
    .action(
      async (
        operation: string,
        options: { service?: string; error?: string; message?: string; times?: number },
      ) => {
        const url = await localCloud(session);
        await control(url, 'POST', 'faults', { operation, ...options });
        done(
          { operation, ...options },
          `${operation} fails${options.times ? ` ${options.times} time(s)` : ''}`,
        );
      },
    );

  local
    .command('clear-faults')
    .description('remove every injected fault')
    .action(async () => {
      const url = await localCloud(session);
      await control(url, 'DELETE', 'faults');
      done({}, 'faults cleared');
    });

  local
    .command('time')
    .description('the local cloud’s simulated time (handlers decide sample events at it)')
    .action(async () => {
      const url = await localCloud(session);
      const clock = (await control(url, 'GET', 'clock')) as { now: number; iso: string };
      done(clock, clock.iso);
    });
};
