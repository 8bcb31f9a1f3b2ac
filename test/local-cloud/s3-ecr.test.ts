import { createHash } from 'node:crypto';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateModelPackageCommand, CreateModelPackageGroupCommand } from '@aws-sdk/client-sagemaker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAll, type Env, setup } from './helpers';

const EU = 'eu-west-1';

describe('local S3', () => {
  let env: Env;
  let home: S3Client;
  let eu: S3Client;
  beforeEach(async () => {
    env = await setup();
    home = new S3Client(env.config);
    eu = new S3Client({ ...env.config, region: EU });
  });
  afterEach(async () => {
    home.destroy();
    eu.destroy();
    await closeAll(env);
  });

  it('PutObject then HeadObject in the bucket’s region: size and ETag (the MD5 of the body)', async () => {
    await eu.send(
      new CreateBucketCommand({
        Bucket: 'models-euw1',
        CreateBucketConfiguration: { LocationConstraint: EU },
      }),
    );
    const put = await eu.send(
      new PutObjectCommand({ Bucket: 'models-euw1', Key: 'fraud/v1/model.tar.gz', Body: 'abc' }),
    );
    expect(put.ETag).toBe('"900150983cd24fb0d6963f7d28e17f72"');
    const head = await eu.send(
      new HeadObjectCommand({ Bucket: 'models-euw1', Key: 'fraud/v1/model.tar.gz' }),
    );
    expect(head).toMatchObject({ ContentLength: 3, ETag: put.ETag });
  });

  it('HeadObject of a missing key or bucket is a bare 404 (NotFound); PutObject to a missing bucket is NoSuchBucket', async () => {
    env.cloud.s3.putObject(EU, 'models-euw1', 'other');
    for (const bucket of ['models-euw1', 'no-such-bucket']) {
      await expect(eu.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' }))).rejects.toMatchObject({
        name: 'NotFound',
        $metadata: { httpStatusCode: 404 },
      });
    }
    await expect(
      eu.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' })),
    ).rejects.toMatchObject({ name: 'NoSuchBucket', message: 'The specified bucket does not exist' });
  });

  it('a bucket answers requests signed for another region with 301 and the bucket’s region', async () => {
    env.cloud.s3.putObject(EU, 'models-euw1', 'k', 'x');
    const error = await home.send(new HeadObjectCommand({ Bucket: 'models-euw1', Key: 'k' })).catch((e) => e);
    expect(error.$metadata.httpStatusCode).toBe(301);
    expect(error.$response.headers['x-amz-bucket-region']).toBe(EU);
    await expect(
      home.send(new PutObjectCommand({ Bucket: 'models-euw1', Key: 'k', Body: 'y' })),
    ).rejects.toMatchObject({
      name: 'PermanentRedirect',
    });
  });

  it('CreateBucket: the region’s location constraint, valid names, one namespace across regions', async () => {
    await expect(
      home.send(
        new CreateBucketCommand({ Bucket: 'b-eu', CreateBucketConfiguration: { LocationConstraint: EU } }),
      ),
    ).rejects.toMatchObject({
      name: 'IllegalLocationConstraintException',
      message:
        'The eu-west-1 location constraint is incompatible for the region specific endpoint this request was sent to.',
    });
    await expect(home.send(new CreateBucketCommand({ Bucket: 'Bad_Name' }))).rejects.toMatchObject({
      name: 'InvalidBucketName',
    });
    await home.send(new CreateBucketCommand({ Bucket: 'b-home' }));
    // us-east-1 answers its owner's second CreateBucket with 200; other regions with BucketAlreadyOwnedByYou
    await home.send(new CreateBucketCommand({ Bucket: 'b-home' }));
    // outside us-east-1 the SDK names the client's region as the location constraint
    await eu.send(new CreateBucketCommand({ Bucket: 'b-eu' }));
    await eu.send(new PutObjectCommand({ Bucket: 'b-eu', Key: 'k', Body: 'x' }));
    await expect(
      eu.send(
        new CreateBucketCommand({ Bucket: 'b-eu', CreateBucketConfiguration: { LocationConstraint: EU } }),
      ),
    ).rejects.toMatchObject({ name: 'BucketAlreadyOwnedByYou', $metadata: { httpStatusCode: 409 } });
    await expect(
      eu.send(
        new CreateBucketCommand({ Bucket: 'b-home', CreateBucketConfiguration: { LocationConstraint: EU } }),
      ),
    ).rejects.toMatchObject({ name: 'BucketAlreadyOwnedByYou' });
  });
});

describe('local ECR', () => {
  let env: Env;
  let eu: ECRClient;
  let home: ECRClient;
  beforeEach(async () => {
    env = await setup();
    eu = new ECRClient({ ...env.config, region: EU });
    home = new ECRClient(env.config);
  });
  afterEach(async () => {
    eu.destroy();
    home.destroy();
    await closeAll(env);
  });

  it('PutImage names the image by the sha256 of its manifest; DescribeImages finds it by tag or digest', async () => {
    const created = await eu.send(new CreateRepositoryCommand({ repositoryName: 'fraud' }));
    expect(created.repository).toMatchObject({
      repositoryArn: 'arn:aws:ecr:eu-west-1:111122223333:repository/fraud',
      repositoryUri: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud',
    });
    const manifest = '{"schemaVersion":2}';
    const pushed = await eu.send(
      new PutImageCommand({ repositoryName: 'fraud', imageManifest: manifest, imageTag: 'v1' }),
    );
    const digest = pushed.image?.imageId?.imageDigest;
    expect(digest).toBe(`sha256:${createHash('sha256').update(manifest).digest('hex')}`);
    for (const imageId of [{ imageTag: 'v1' }, { imageDigest: digest }]) {
      const out = await eu.send(new DescribeImagesCommand({ repositoryName: 'fraud', imageIds: [imageId] }));
      expect(out.imageDetails?.map((d) => [d.imageDigest, d.imageTags])).toEqual([[digest, ['v1']]]);
    }
    await expect(
      eu.send(new PutImageCommand({ repositoryName: 'fraud', imageManifest: manifest, imageTag: 'v1' })),
    ).rejects.toMatchObject({ name: 'ImageAlreadyExistsException' });
  });

  it('DescribeImages answers a missing image or repository with ECR’s exceptions; repositories are per region', async () => {
    env.cloud.inRegion(EU).ecr.push('fraud', 'v1');
    await expect(
      eu.send(new DescribeImagesCommand({ repositoryName: 'fraud', imageIds: [{ imageTag: 'v2' }] })),
    ).rejects.toMatchObject({
      name: 'ImageNotFoundException',
      message:
        "The image with imageId {imageDigest:'null', imageTag:'v2'} does not exist within the repository with name 'fraud' in the registry with id '111122223333'",
    });
    await expect(
      home.send(new DescribeImagesCommand({ repositoryName: 'fraud', imageIds: [{ imageTag: 'v1' }] })),
    ).rejects.toMatchObject({
      name: 'RepositoryNotFoundException',
      message: "The repository with name 'fraud' does not exist in the registry with id '111122223333'",
    });
    await expect(eu.send(new CreateRepositoryCommand({ repositoryName: 'fraud' }))).rejects.toMatchObject({
      name: 'RepositoryAlreadyExistsException',
    });
    await expect(eu.send(new CreateRepositoryCommand({ repositoryName: 'Bad' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });
});

describe('local S3 and ECR: faults as each answers them, and the lookups answered', () => {
  let env: Env;
  let s3: S3Client;
  let ecr: ECRClient;
  beforeEach(async () => {
    env = await setup();
    s3 = new S3Client({ ...env.config, region: EU });
    ecr = new ECRClient({ ...env.config, region: EU });
    env.cloud.s3.putObject(EU, 'models-euw1', 'fraud/v1/model.tar.gz', 'x');
    env.cloud.inRegion(EU).ecr.push('fraud', 'v1');
  });
  afterEach(async () => {
    s3.destroy();
    ecr.destroy();
    await closeAll(env);
  });
  const head = (key = 'fraud/v1/model.tar.gz') =>
    s3.send(new HeadObjectCommand({ Bucket: 'models-euw1', Key: key }));
  const describeImage = (tag: string, repositoryName = 'fraud') =>
    ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: tag }] }));

  it('an S3 fault has the status S3 answers with (a HEAD answer carries no code): 503 SlowDown, 500, 403', async () => {
    for (const [error, status, fault] of [
      ['SlowDown', 503, 'server'],
      ['InternalError', 500, 'server'],
      ['AccessDenied', 403, 'client'],
    ] as const) {
      env.cloud.faults.add({ service: 's3', operation: 'HeadObject', error, times: 1 });
      await expect(head()).rejects.toMatchObject({ $fault: fault, $metadata: { httpStatusCode: status } });
    }
    env.cloud.faults.add({ service: 'ecr', operation: 'DescribeImages', error: 'ServerException', times: 1 });
    await expect(describeImage('v1')).rejects.toMatchObject({
      name: 'ServerException',
      $metadata: { httpStatusCode: 500 },
    });
  });

  it('a fault aimed at a region fails only the calls sent there', async () => {
    env.cloud.s3.putObject('us-east-1', 'models-use1', 'fraud/v1/model.tar.gz', 'x');
    const home = new S3Client(env.config);
    env.cloud.faults.add({ operation: 'HeadObject', region: EU, error: 'SlowDown' });
    await expect(
      home.send(new HeadObjectCommand({ Bucket: 'models-use1', Key: 'fraud/v1/model.tar.gz' })),
    ).resolves.toMatchObject({ ContentLength: 1 });
    await expect(head()).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    home.destroy();
  });

  it('records each lookup S3 and ECR answered, found or not, placed among the applied changes; a fault is no answer', async () => {
    await head();
    await expect(head('fraud/v2/model.tar.gz')).rejects.toMatchObject({ name: 'NotFound' });
    await describeImage('v1');
    await expect(describeImage('v2')).rejects.toMatchObject({ name: 'ImageNotFoundException' });
    await expect(describeImage('v1', 'other')).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
    env.cloud.faults.add({ operation: 'HeadObject', error: 'SlowDown', times: 1 });
    await expect(head()).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    const image = (repository: string, tag: string) =>
      `111122223333.dkr.ecr.eu-west-1.amazonaws.com/${repository}:${tag}`;
    expect(env.cloud.artifactReads.map(({ uri, found, region, seq }) => [uri, found, region, seq])).toEqual([
      ['s3://models-euw1/fraud/v1/model.tar.gz', true, EU, 0],
      ['s3://models-euw1/fraud/v2/model.tar.gz', false, EU, 0],
      [image('fraud', 'v1'), true, EU, 0],
      [image('fraud', 'v2'), false, EU, 0],
      [image('other', 'v1'), false, EU, 0],
    ]);
    // a read after a change is placed after it
    await env.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'fraud' }));
    await env.sm.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: 'fraud',
        ModelApprovalStatus: 'Approved',
        InferenceSpecification: {
          Containers: [{ Image: image('fraud', 'v1') }],
          SupportedContentTypes: ['application/json'],
          SupportedResponseMIMETypes: ['application/json'],
        },
      }),
    );
    expect(env.cloud.changes.map((c) => c.kind)).toEqual(['approval']);
    await head();
    expect(env.cloud.artifactReads.at(-1)).toMatchObject({ seq: 1, found: true });
  });
});
