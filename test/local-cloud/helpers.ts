import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { VirtualClock } from '../../src/local/clock';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../../src/local/cloud';

export const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

export async function setup(options: LocalCloudOptions = {}) {
  const cloud = await startLocalCloud({ clock: new VirtualClock(T0), ...options });
  const config = {
    endpoint: cloud.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
  return {
    cloud,
    sm: new SageMakerClient(config),
    runtime: new SageMakerRuntimeClient(config),
    sqs: new SQSClient(config),
    events: new EventBridgeClient(config),
    cw: new CloudWatchClient(config),
    sts: new STSClient(config),
    config,
  };
}

export type Env = Awaited<ReturnType<typeof setup>>;

/** Creates a group, a package version with the given sim metadata, and a model from it. */
export async function modelFromPackage(
  env: Env,
  group: string,
  modelName: string,
  metadata: Record<string, string> = {},
): Promise<string> {
  const { CreateModelPackageGroupCommand, CreateModelPackageCommand, CreateModelCommand } = await import(
    '@aws-sdk/client-sagemaker'
  );
  await env.sm
    .send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group }))
    .catch(() => undefined);
  const pkg = await env.sm.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: group,
      InferenceSpecification: {
        Containers: [{ Image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/img:1' }],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      ...(Object.keys(metadata).length > 0 ? { CustomerMetadataProperties: metadata } : {}),
    }),
  );
  await env.sm.send(
    new CreateModelCommand({
      ModelName: modelName,
      ExecutionRoleArn: 'arn:aws:iam::111122223333:role/sm',
      Containers: [{ ModelPackageName: pkg.ModelPackageArn }],
    }),
  );
  return pkg.ModelPackageArn!;
}

export async function closeAll(env: Env): Promise<void> {
  for (const c of [env.sm, env.runtime, env.sqs, env.events, env.cw, env.sts]) c.destroy();
  await env.cloud.close();
}

export type { LocalCloud };
