import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactObservation, EcrImage, RegionalArtifact, S3Object } from '../domain/artifacts';
import type { ArtifactLookup, ArtifactLookupFactory } from '../ports/artifacts';
import type { StageTarget } from '../ports/sagemaker';
import { errorCode, errorMessage, httpStatusCode, toRolloutsError } from './aws-errors';
import { ecrClientFor, ecrClientIn, s3ClientFor, s3ClientIn } from './clients';

/** The region S3 names in a 301's `x-amz-bucket-region` header. */
const bucketRegionOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null
    ? (error as { $response?: { headers?: Record<string, string | undefined> } }).$response?.headers?.[
        'x-amz-bucket-region'
      ]
    : undefined;

/**
 * What HeadObject needs. Without s3:ListBucket, S3 answers 403 (not 404) for a key that does not
 * exist. A directory bucket (`--x-s3`) is reached through a session the SDK opens first.
 */
const s3PermissionFor = (artifact: S3Object): string =>
  artifact.bucket.endsWith('--x-s3')
    ? `s3express:CreateSession on the directory bucket ${artifact.bucket}`
    : `s3:GetObject on arn:aws:s3:::${artifact.bucket}/${artifact.key}, and s3:ListBucket on arn:aws:s3:::${artifact.bucket} (without it a missing object is answered 403 too)`;

/**
 * The pre-flight lookups, each with a client of the artifact's own region: S3 HeadObject (a bare
 * 404 is a missing object or bucket; a 301 names the region the bucket is really in) and ECR
 * DescribeImages (RepositoryNotFoundException, ImageNotFoundException). A refusal (S3's bare 403,
 * ECR's AccessDeniedException) is answered with the permission the stage's credentials need. Any
 * other failure (throttling, 5xx, timeouts) is thrown as the project's error kinds, so the
 * executor retries it; it is never taken for an absence.
 */
export class AwsArtifactLookup implements ArtifactLookup {
  constructor(
    private readonly s3In: (region: string) => S3Client = s3ClientIn,
    private readonly ecrIn: (region: string) => ECRClient = ecrClientIn,
  ) {}

  observe(artifact: RegionalArtifact): Promise<ArtifactObservation> {
    return artifact.kind === 's3' ? this.headObject(artifact) : this.describeImage(artifact);
  }

  private async headObject(artifact: S3Object): Promise<ArtifactObservation> {
    try {
      await this.s3In(artifact.region).send(
        new HeadObjectCommand({ Bucket: artifact.bucket, Key: artifact.key }),
      );
      return { artifact, present: true };
    } catch (error) {
      const status = httpStatusCode(error);
      if (status === 404)
        return { artifact, present: false, detail: 'S3 HeadObject: no such object or bucket' };
      if (status === 403) {
        return {
          artifact,
          present: false,
          detail: 'S3 HeadObject: access denied (HTTP 403)',
          deniedPermission: s3PermissionFor(artifact),
        };
      }
      if (status === 301) {
        const where = bucketRegionOf(error);
        return {
          artifact,
          present: false,
          detail: `S3 HeadObject: bucket ${artifact.bucket} is in ${where ?? 'another region'}, not ${artifact.region}`,
        };
      }
      throw toRolloutsError(error, {
        operation: 'S3 HeadObject',
        resource: `s3://${artifact.bucket}/${artifact.key}`,
      });
    }
  }

  private async describeImage(artifact: EcrImage): Promise<ArtifactObservation> {
    const imageId = {
      ...(artifact.digest ? { imageDigest: artifact.digest } : {}),
      ...(artifact.tag ? { imageTag: artifact.tag } : {}),
    };
    try {
      await this.ecrIn(artifact.region).send(
        new DescribeImagesCommand({
          registryId: artifact.registryId,
          repositoryName: artifact.repository,
          imageIds: [imageId],
        }),
      );
      return { artifact, present: true };
    } catch (error) {
      const name = errorCode(error);
      if (name === 'RepositoryNotFoundException' || name === 'ImageNotFoundException') {
        return { artifact, present: false, detail: `ECR DescribeImages: ${name}` };
      }
      if (name === 'AccessDeniedException') {
        return {
          artifact,
          present: false,
          detail: `ECR DescribeImages: ${name}: ${errorMessage(error)}`,
          deniedPermission: `ecr:DescribeImages on arn:aws:ecr:${artifact.region}:${artifact.registryId}:repository/${artifact.repository}`,
        };
      }
      throw toRolloutsError(error, { operation: 'ECR DescribeImages', resource: artifact.repository });
    }
  }
}

/**
 * A stage's lookups with the credentials of its account: the executor's own, or the stage's
 * deployer role (assumed like every other change there), since SageMaker reads the artifacts in
 * the endpoint's account and a copy there may be readable by that account alone.
 */
export class AwsArtifactLookupFactory implements ArtifactLookupFactory {
  forStage(target: StageTarget): ArtifactLookup {
    const crossAccount = target.crossAccount;
    return new AwsArtifactLookup(
      (region) => s3ClientFor(region, crossAccount),
      (region) => ecrClientFor(region, crossAccount),
    );
  }
}
