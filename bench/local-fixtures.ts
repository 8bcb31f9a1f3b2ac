import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { pushImage } from '../src/local/push-image';
import type { LocalStack } from '../src/local/stack';

const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/model:1';
const ROLE = 'arn:aws:iam::111122223333:role/SageMakerExecution';

/** Registers a new version of `group` whose model fails `errorRate` of its requests; returns its ARN. */
export const registerPackage = async (
  sm: SageMakerClient,
  group: string,
  errorRate = '0',
): Promise<string> => {
  // what CI pushed before it registered the version: the executor's pre-flight looks for it
  await pushImage('us-east-1', 'model', '1');
  return (
    await sm.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: group,
        CustomerMetadataProperties: { 'sim.errorRate': errorRate },
        InferenceSpecification: {
          Containers: [{ Image: IMAGE }],
          SupportedContentTypes: ['application/json'],
          SupportedResponseMIMETypes: ['application/json'],
        },
        ModelApprovalStatus: 'PendingManualApproval',
      }),
    )
  ).ModelPackageArn!;
};

export const approvePackage = (sm: SageMakerClient, arn: string) =>
  sm.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: 'Approved' }));

/** Endpoints outside the configuration, InService once the stack has run past their creation. */
export const createEndpoints = async (
  stack: LocalStack,
  prefix: string,
  count: number,
  runMs = 6 * 60_000,
): Promise<string[]> => {
  const sm = new SageMakerClient({ region: 'us-east-1' });
  const model = `${prefix}-model`;
  await sm.send(
    new CreateModelCommand({ ModelName: model, PrimaryContainer: { Image: IMAGE }, ExecutionRoleArn: ROLE }),
  );
  await sm.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: `${prefix}-config`,
      ProductionVariants: [
        { VariantName: 'main', ModelName: model, InstanceType: 'ml.m5.large', InitialInstanceCount: 1 },
      ],
    }),
  );
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(
      names
        .slice(i, i + 50)
        .map((name) =>
          sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${prefix}-config` })),
        ),
    );
  }
  await stack.run(runMs);
  return names;
};

export const callbackQueue = (stack: LocalStack): { name: string; url: string } => {
  const source = stack.wiring.queueSources.find((s) => s.functionName === 'pipelineCallback');
  if (!source) throw new Error('serverless.yml has no pipelineCallback queue');
  return {
    name: `${stack.wiring.service}-local-${source.queue.logicalId}`,
    url: stack.queueUrls[source.queue.logicalId]!,
  };
};

/** A pipeline whose CallbackStep asks for a smoke test of `endpointName`; returns a starter. */
export const smokeTestPipeline = (stack: LocalStack, name: string, endpointName: string) => {
  stack.cloud.pipelines.define({
    name,
    callbackQueueUrl: callbackQueue(stack).url,
    callbackArguments: { task: 'smoke-test', endpointName, body: { instances: [[0.1, 0.2]] } },
  });
  const ops = stack.cloud.pipelines.operations();
  const ctx = { region: stack.cloud.region, account: '111122223333', accessKeyId: undefined };
  return {
    start: () =>
      (ops.StartPipelineExecution!({ PipelineName: name }, ctx) as { PipelineExecutionArn: string })
        .PipelineExecutionArn,
    stop: (arn: string) => ops.StopPipelineExecution!({ PipelineExecutionArn: arn }, ctx),
  };
};
