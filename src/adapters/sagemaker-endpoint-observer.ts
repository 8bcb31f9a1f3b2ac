import {
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { observing } from '../config/schema';
import type { EndpointObservation } from '../domain/model';
import { TransientError } from '../errors';
import type {
  EndpointObserver,
  EndpointObserverFactory,
  InvokeRequest,
  InvokeResult,
  StageTarget,
} from '../ports/sagemaker';
import { errorCode, errorMessage, httpStatusCode, isNotFound, toRolloutsError } from './aws-errors';
import { sageMakerClientFor, sageMakerRuntimeClientFor } from './clients';

const decodeBody = (body: unknown): string => {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return String(body);
};

export const describeEndpointRaw = async (
  sagemaker: SageMakerClient,
  endpointName: string,
): Promise<DescribeEndpointCommandOutput | null> => {
  try {
    return await sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  } catch (error) {
    if (isNotFound(error)) return null;
    throw toRolloutsError(error, { operation: 'SageMaker DescribeEndpoint', resource: endpointName });
  }
};

/** Reads one stage's endpoints (DescribeEndpoint, InvokeEndpoint): what the deciding functions may do. */
export class SageMakerEndpointObserver implements EndpointObserver {
  constructor(
    readonly sagemaker: SageMakerClient,
    readonly runtime: SageMakerRuntimeClient,
  ) {}

  async describe(endpointName: string): Promise<EndpointObservation | null> {
    const output = await describeEndpointRaw(this.sagemaker, endpointName);
    if (!output) return null;
    return {
      endpointName: output.EndpointName ?? endpointName,
      ...(output.EndpointArn ? { endpointArn: output.EndpointArn } : {}),
      status: (output.EndpointStatus ?? 'Creating') as EndpointObservation['status'],
      configName: output.EndpointConfigName ?? '',
      variants: (output.ProductionVariants ?? []).map((variant) => ({
        variantName: variant.VariantName ?? '',
        currentWeight: variant.CurrentWeight ?? 0,
        desiredWeight: variant.DesiredWeight ?? variant.CurrentWeight ?? 0,
      })),
      ...(output.FailureReason ? { failureReason: output.FailureReason } : {}),
      lastModifiedTime: (output.LastModifiedTime ?? output.CreationTime)?.getTime() ?? 0,
    };
  }

  async invoke(endpointName: string, request: InvokeRequest): Promise<InvokeResult> {
    try {
      const output = await this.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: endpointName,
          Body: new TextEncoder().encode(request.body),
          ContentType: request.contentType,
          ...(request.accept !== undefined ? { Accept: request.accept } : {}),
          ...(request.targetVariant !== undefined ? { TargetVariant: request.targetVariant } : {}),
        }),
      );
      return { ok: true, statusCode: output.$metadata.httpStatusCode ?? 200, body: decodeBody(output.Body) };
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ModelError') {
        const modelError = error as { OriginalStatusCode?: number; OriginalMessage?: string };
        return {
          ok: false,
          statusCode: modelError.OriginalStatusCode ?? httpStatusCode(error) ?? 424,
          body: modelError.OriginalMessage ?? '',
          errorCode: code,
          error: `ModelError: ${errorMessage(error)}`,
        };
      }
      const mapped = toRolloutsError(error, {
        operation: 'SageMaker InvokeEndpoint',
        resource: endpointName,
      });
      if (mapped instanceof TransientError) throw mapped;
      const status = httpStatusCode(error);
      if (status !== undefined && status >= 400) {
        return {
          ok: false,
          statusCode: status,
          body: '',
          errorCode: code,
          error: `${code}: ${errorMessage(error)}`,
        };
      }
      throw mapped;
    }
  }
}

/**
 * Observers per stage, in its region: default credentials, or the stage's observer role (its
 * deployer role where none is configured), clients cached per region and role.
 */
export class SageMakerEndpointObserverFactory implements EndpointObserverFactory {
  forStage(target: StageTarget): SageMakerEndpointObserver {
    const crossAccount = target.crossAccount && observing(target.crossAccount);
    return new SageMakerEndpointObserver(
      sageMakerClientFor(crossAccount, target.region),
      sageMakerRuntimeClientFor(crossAccount, target.region),
    );
  }
}
