import type { ArtifactObservation, RegionalArtifact } from '../domain/artifacts';

/** Looks an artifact up where a stage's region would read it (S3 HeadObject, ECR DescribeImages). */
export interface ArtifactLookup {
  observe(artifact: RegionalArtifact): Promise<ArtifactObservation>;
}
