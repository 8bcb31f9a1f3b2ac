import { CreateModelPackageGroupCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { LOCAL_CLOCK_ENV, localClockSpec } from '../clock';
import { loadConfigFile } from '../config/load';
import { DEFAULT_LOCAL_CONFIG, LocalStack } from './stack';

/** Simulated seconds per wall-clock second while the local cloud is kept running (default). */
export const DEFAULT_SPEED = 60;

/**
 * A new local cloud on the example configuration (rollouts.local.yml), as an account ready for
 * the service: every configured model package group exists in the registry (empty), and every
 * alarm a canary names exists, OK. Nothing is deployed yet: the first approved version of a group
 * creates its endpoints. Whatever scenarios ran before, the kept cloud is this one, so the
 * README's commands give the same answers every time.
 */
export const startExampleCloud = async (): Promise<LocalStack> => {
  const stack = await LocalStack.start({ configPath: DEFAULT_LOCAL_CONFIG });
  const config = loadConfigFile(stack.env().ROLLOUTS_CONFIG_PATH!);
  const sagemaker = new SageMakerClient({
    region: stack.cloud.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  for (const [group, { stages }] of Object.entries(config.modelPackageGroups)) {
    await sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group }));
    for (const alarm of stages.prod.strategy.alarms)
      stack.cloud.cloudwatch.setAlarmState(alarm, 'OK', 'created with the example configuration');
  }
  return stack;
};

/**
 * Leaves the local cloud ready for new work: every alarm back to OK (a scenario may end with the
 * business alarm firing, which would roll back every new canary) and no injected fault. Returns
 * what it changed, to be printed.
 */
export const cleanForNewWork = (stack: LocalStack): string[] => {
  const changed: string[] = [];
  for (const name of stack.cloud.cloudwatch.alarmNames()) {
    const state = stack.cloud.cloudwatch.alarmState(name);
    if (state !== 'OK') {
      stack.cloud.cloudwatch.setAlarmState(name, 'OK', 'reset for new work by --keep-running');
      changed.push(`alarm ${name}: ${state} -> OK`);
    }
  }
  if (stack.cloud.faults.count() > 0) {
    stack.cloud.faults.clear();
    changed.push('injected faults cleared');
  }
  return changed;
};

/**
 * The environment another shell exports to use the kept cloud: the stack's (endpoints, table,
 * bus, config, dummy credentials), the region under both names the tools read, the clock
 * handlers run in other processes decide by, and the SDK's Node-version notice off.
 */
export const exportBlock = (stack: LocalStack, clockSpec: string): Record<string, string> => {
  const env = stack.env();
  return {
    ...env,
    AWS_DEFAULT_REGION: env.AWS_REGION ?? stack.cloud.region,
    [LOCAL_CLOCK_ENV]: clockSpec,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
};

/**
 * Keeps the local cloud up until SIGINT/SIGTERM: simulated time follows the wall clock at `speed`
 * (the tick fires, endpoints change state, traffic flows) along the line ROLLOUTS_LOCAL_CLOCK
 * describes, so a handler run elsewhere decides at the time this cloud is at.
 */
export const keepRunning = async (
  stack: LocalStack,
  options: { speed: number; write: (text: string) => void; paint: (code: string, text: string) => string },
): Promise<void> => {
  const { speed, write, paint } = options;
  const changed = cleanForNewWork(stack);
  const anchorVirtual = stack.now;
  const anchorWall = Date.now();
  const env = exportBlock(stack, localClockSpec(anchorVirtual, anchorWall, speed));
  write(
    `\n${paint('1', 'The local cloud is still running')} at ${stack.cloud.url} (DynamoDB at ${stack.dynamoUrl}), simulated time ${new Date(anchorVirtual).toISOString()}.\n` +
      (changed.length > 0 ? `Ready for new work: ${changed.join('; ')}.\n` : '') +
      'Point the CLI or `serverless invoke local` at it with:\n\n' +
      Object.entries(env)
        .map(([k, v]) => `  export ${k}=${v}`)
        .join('\n') +
      `\n\n${speed} simulated seconds pass per second. Ctrl-C to stop.\n`,
  );
  let stopping = false;
  await new Promise<void>((done) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || stopping) return;
      const target = anchorVirtual + (Date.now() - anchorWall) * speed;
      if (target <= stack.now) return;
      busy = true;
      stack
        .run(target - stack.now)
        .catch((error: unknown) => write(`${String(error)}\n`))
        .finally(() => {
          busy = false;
        });
    }, 200);
    const stop = () => {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      void stack.close().then(done, done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
};
