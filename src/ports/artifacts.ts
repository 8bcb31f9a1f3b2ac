import type { ArtifactObservation, RegionalArtifact } from '../domain/artifacts';
import type { StageTarget } from './sagemaker';

/** Looks an artifact up where a stage's region would read it (S3 HeadObject, ECR DescribeImages). */
export interface ArtifactLookup {
  observe(artifact: RegionalArtifact): Promise<ArtifactObservation>;
}

/** The lookups of one stage, with the credentials that change its endpoint (its account's). */
export interface ArtifactLookupFactory {
  forStage(target: StageTarget): ArtifactLookup;
}
