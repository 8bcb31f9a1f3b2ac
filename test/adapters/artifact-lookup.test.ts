import { ECRClient } from '@aws-sdk/client-ecr';
import { S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsArtifactLookup } from '../../src/adapters/artifact-lookup';
import { resetClients } from '../../src/adapters/clients';
import { SageMakerModelRegistry } from '../../src/adapters/sagemaker-registry';
import { checkStageArtifacts } from '../../src/app/preflight';
import type { PackageArtifacts, StageArtifactLocation } from '../../src/domain/artifacts';
import { PermanentError, TransientError } from '../../src/errors';
import { VirtualClock } from '../../src/local/clock';
import { type LocalCloud, startLocalCloud } from '../../src/local/cloud';
import { restoreProcessEnv } from '../support/process-env';

/** The pre-flight over the wire: S3 HeadObject and ECR DescribeImages against the local cloud, per region. */
const EU = 'eu-west-1';
const HOME_IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud:v3';
const HOME_DATA = 's3://models-use1/fraud/v3/model.tar.gz';
const LOCATION: StageArtifactLocation = {
  region: EU,
  s3: [{ from: 's3://models-use1/', to: 's3://models-euw1/' }],
  ecr: [
    {
      from: '111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud',
      to: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud',
    },
  ],
};
/** v3's model data and image as copied into eu-west-1, as the pre-flight looks them up. */
const data = {
  kind: 's3',
  source: HOME_DATA,
  region: EU,
  bucket: 'models-euw1',
  key: 'fraud/v3/model.tar.gz',
} as const;
const image = {
  kind: 'ecr',
  source: HOME_IMAGE,
  region: EU,
  registryId: '111122223333',
  repository: 'fraud',
  tag: 'v3',
} as const;

let cloud: LocalCloud;
const savedEnv = { ...process.env };
let pkg: PackageArtifacts;

beforeAll(async () => {
  cloud = await startLocalCloud({ clock: new VirtualClock(Date.UTC(2024, 0, 1)) });
  Object.assign(process.env, cloud.env());
  resetClients();
  const sm = new SageMakerClient({});
  await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'fraud' }));
  const created = await sm.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: 'fraud',
      InferenceSpecification: {
        Containers: [{ Image: HOME_IMAGE, ModelDataUrl: HOME_DATA }],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
    }),
  );
  sm.destroy();
  pkg = await new SageMakerModelRegistry().packageArtifacts(created.ModelPackageArn!);
});

afterAll(async () => {
  restoreProcessEnv(savedEnv);
  resetClients();
  await cloud.close();
});

describe('the artifact pre-flight against the local cloud', () => {
  const lookup = new AwsArtifactLookup();
  const callsIn = (region: string) =>
    cloud.calls
      .filter((c) => ['HeadObject', 'DescribeImages'].includes(c.operation))
      .map((c) => c.region === region);
  beforeEach(() => cloud.resetCalls());

  it('reads the package’s image and model data from the registry', () => {
    expect(pkg).toEqual({
      packageArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/1',
      containers: [{ image: HOME_IMAGE, modelDataUrl: HOME_DATA }],
    });
  });

  it('names the missing image and model data in the stage’s region, looked up there', async () => {
    const verdict = await checkStageArtifacts(lookup, pkg, LOCATION);
    expect(verdict).toEqual({
      ok: false,
      reason:
        `${pkg.packageArn} cannot be deployed in eu-west-1: ` +
        'image fraud:v3 (ECR repository fraud of registry 111122223333, region eu-west-1) is missing (ECR DescribeImages: RepositoryNotFoundException); ' +
        'model data s3://models-euw1/fraud/v3/model.tar.gz (bucket models-euw1, region eu-west-1) is missing (S3 HeadObject: no such object or bucket)',
    });
    expect(callsIn(EU)).toEqual([true, true]);
  });

  it('a repository without the tag is ImageNotFoundException; once replicated, the stage may go', async () => {
    const eu = cloud.inRegion(EU);
    eu.ecr.push('fraud', 'v2');
    cloud.s3.putObject(EU, 'models-euw1', 'fraud/v3/model.tar.gz', 'weights');
    expect(await checkStageArtifacts(lookup, pkg, LOCATION)).toEqual({
      ok: false,
      reason: `${pkg.packageArn} cannot be deployed in eu-west-1: image fraud:v3 (ECR repository fraud of registry 111122223333, region eu-west-1) is missing (ECR DescribeImages: ImageNotFoundException)`,
    });
    eu.ecr.push('fraud', 'v3');
    expect(await checkStageArtifacts(lookup, pkg, LOCATION)).toEqual({ ok: true });
  });

  it('a bucket that lives in another region is named with its region', async () => {
    cloud.s3.putObject('us-east-1', 'models-use1', 'fraud/v3/model.tar.gz', 'weights');
    cloud.inRegion(EU).ecr.push('fraud-home', 'v3');
    const unmapped: StageArtifactLocation = {
      region: EU,
      s3: [],
      ecr: [
        {
          from: '111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud',
          to: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud-home',
        },
      ],
    };
    expect(await checkStageArtifacts(lookup, pkg, unmapped)).toEqual({
      ok: false,
      reason: `${pkg.packageArn} cannot be deployed in eu-west-1: model data s3://models-use1/fraud/v3/model.tar.gz (bucket models-use1, region eu-west-1) is missing (S3 HeadObject: bucket models-use1 is in us-east-1, not eu-west-1)`,
    });
  });

  it('a refused lookup is answered with the permission the stage needs', async () => {
    cloud.faults.add({ service: 's3', operation: 'HeadObject', error: 'AccessDenied', times: 1 });
    expect(await lookup.observe(data)).toEqual({
      artifact: data,
      present: false,
      detail: 'S3 HeadObject: access denied (HTTP 403)',
      deniedPermission:
        's3:GetObject on arn:aws:s3:::models-euw1/fraud/v3/model.tar.gz, and s3:ListBucket on arn:aws:s3:::models-euw1 (without it a missing object is answered 403 too)',
    });
    // a directory bucket is reached through a session the SDK opens first (CreateSession, which
    // the local S3 does not serve): refused, the permission is s3express's
    const refusedSession = {
      send: async () => {
        throw Object.assign(new Error('Access Denied'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
      },
    } as unknown as S3Client;
    const express = { ...data, bucket: 'models--euw1-az1--x-s3' } as const;
    expect(await new AwsArtifactLookup(() => refusedSession).observe(express)).toMatchObject({
      present: false,
      deniedPermission: 's3express:CreateSession on the directory bucket models--euw1-az1--x-s3',
    });
    cloud.faults.add({
      service: 'ecr',
      operation: 'DescribeImages',
      error: 'AccessDeniedException',
      message: 'not authorized',
      times: 1,
    });
    expect(await lookup.observe(image)).toMatchObject({
      present: false,
      detail: 'ECR DescribeImages: AccessDeniedException: not authorized',
      deniedPermission: 'ecr:DescribeImages on arn:aws:ecr:eu-west-1:111122223333:repository/fraud',
    });
  });

  it('a lookup that fails otherwise is an error of its kind, not an absence', async () => {
    // one attempt per call, so the SDK's retry backoff does not sleep
    const ecr = new ECRClient({ region: EU, maxAttempts: 1 });
    const s3 = new S3Client({ region: EU, maxAttempts: 1 });
    const once = new AwsArtifactLookup(
      () => s3,
      () => ecr,
    );
    cloud.faults.add({ service: 'ecr', operation: 'DescribeImages', error: 'ThrottlingException', times: 1 });
    await expect(once.observe(image)).rejects.toBeInstanceOf(TransientError);
    // S3 throttles with a bare 503 (SlowDown): transient
    cloud.faults.add({ service: 's3', operation: 'HeadObject', error: 'SlowDown', times: 1 });
    await expect(once.observe(data)).rejects.toBeInstanceOf(TransientError);
    // a client error that is not a refusal (a HEAD answers no code: a bare 400) is permanent
    cloud.faults.add({ service: 's3', operation: 'HeadObject', error: 'InvalidRequest', times: 1 });
    await expect(once.observe(data)).rejects.toBeInstanceOf(PermanentError);
    ecr.destroy();
    s3.destroy();
  });
});
