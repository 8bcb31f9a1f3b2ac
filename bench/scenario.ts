import { CreateModelPackageGroupCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { LocalStack } from '../src/local/stack';
import { bundlePath } from './cold-start';
import { median, round } from './common';
import { type HandlerHost, hostFunctions } from './handler-host';
import { approvePackage, registerPackage, smokeTestPipeline } from './local-fixtures';

export interface ScenarioResult {
  /** Handler entry to first AWS request, median over every warm invocation that made one. */
  decisionLatencyMsMedian: number;
  decisionLatencyMsByHandler: Record<string, { invocations: number; medianMs: number }>;
  peakRssMb: Record<string, number>;
}

const MINUTE = 60_000;

/**
 * A rollout scenario on the local stack with every handler running from its minified bundle in a
 * process of its own: v1 to QA and prod, v2 through QA into a two-step canary under traffic,
 * paused and resumed by an operator, promoted; 30 pipeline smoke-test callbacks, 3 of them
 * stopped. Requires the bundles from `buildBundles`.
 */
export const scenario = async (): Promise<ScenarioResult> => {
  const stack = await LocalStack.start();
  let hosts = new Map<string, HandlerHost>();
  try {
    hosts = await hostFunctions(stack, bundlePath);

    const sm = new SageMakerClient({ region: 'us-east-1' });
    await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'churn-model' }));
    const release = async (errorRate: string) => {
      await approvePackage(sm, await registerPackage(sm, 'churn-model', errorRate));
    };
    await release('0.001');
    await stack.run(15 * MINUTE);
    stack.cloud.setTraffic('churn-model-prod', 600);
    await release('0.001');
    await stack.run(14 * MINUTE);
    for (const command of ['pause', 'resume']) {
      // what Lambda hands the function behind its URL (AuthType AWS_IAM) for a signed POST
      await stack.invoke('control', {
        version: '2.0',
        routeKey: '$default',
        rawPath: '/',
        rawQueryString: '',
        headers: { 'content-type': 'application/json' },
        requestContext: {
          authorizer: { iam: { userArn: 'arn:aws:iam::111122223333:user/bench' } },
          http: { method: 'POST', path: '/' },
          requestId: `bench-${command}`,
          timeEpoch: stack.now,
        },
        body: JSON.stringify({
          command,
          deploymentId: 'churn-model:v2',
          reason: 'benchmark',
          requestId: `bench-${command}`,
        }),
        isBase64Encoded: false,
      });
      await stack.run(2 * MINUTE);
    }
    const pipeline = smokeTestPipeline(stack, 'bench-scenario', 'churn-model-qa');
    const executions = Array.from({ length: 30 }, () => pipeline.start());
    for (const arn of executions.slice(0, 3)) pipeline.stop(arn);
    await stack.run(40 * MINUTE);

    const all: number[] = [];
    const byHandler: ScenarioResult['decisionLatencyMsByHandler'] = {};
    const peakRssMb: Record<string, number> = {};
    for (const [name, host] of hosts) {
      const times = host.stats.decisionMs;
      all.push(...times);
      byHandler[name] = { invocations: times.length, medianMs: times.length ? round(median(times), 2) : 0 };
      peakRssMb[name] = round(await host.stop(), 1);
    }
    hosts.clear();
    return {
      decisionLatencyMsMedian: round(median(all), 2),
      decisionLatencyMsByHandler: byHandler,
      peakRssMb,
    };
  } finally {
    for (const host of hosts.values()) await host.stop().catch(() => undefined);
    await stack.close();
  }
};
