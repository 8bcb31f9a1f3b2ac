import { SageMakerServiceException } from '@aws-sdk/client-sagemaker';

/** An AWS service error as the SDK raises it after parsing an error response. */
export const awsError = (name: string, message: string, httpStatusCode = 400): SageMakerServiceException =>
  new SageMakerServiceException({
    name,
    message,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 },
  });

export const ENDPOINT_ARN = 'arn:aws:sagemaker:us-east-1:111122223333:endpoint/churn-prod';

/** SageMaker's messages, as recorded in aws-facts.md. */
export const couldNotFindEndpoint = (name: string) =>
  awsError('ValidationException', `Could not find endpoint "${ENDPOINT_ARN.replace('churn-prod', name)}".`);
export const inProgress = () =>
  awsError('ValidationException', `Cannot update in-progress endpoint "${ENDPOINT_ARN}".`);
export const alreadyExisting = (kind: string, name: string) =>
  awsError(
    'ValidationException',
    `Cannot create already existing ${kind} "arn:aws:sagemaker:us-east-1:111122223333:${kind.replace(/ /g, '-')}/${name}".`,
  );
export const throttled = () => awsError('ThrottlingException', 'Rate exceeded');
