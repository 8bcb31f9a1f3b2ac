import { CreateRepositoryCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { errorCode } from '../adapters/aws-errors';
import { ecrClientIn } from '../adapters/clients';

/**
 * What a CI build pushes before it registers a version: the image, through ECR's API (the
 * repository if needed, then the tag), so that the executor's pre-flight finds it. Pushed
 * already: nothing changes.
 */
export const pushImage = async (region: string, repositoryName: string, imageTag: string): Promise<void> => {
  const ecr = ecrClientIn(region);
  const tolerate = (code: string) => (error: unknown) => {
    if (errorCode(error) !== code) throw error;
  };
  await ecr
    .send(new CreateRepositoryCommand({ repositoryName }))
    .catch(tolerate('RepositoryAlreadyExistsException'));
  const imageManifest = JSON.stringify({ schemaVersion: 2, repository: repositoryName, tag: imageTag });
  await ecr
    .send(new PutImageCommand({ repositoryName, imageTag, imageManifest }))
    .catch(tolerate('ImageAlreadyExistsException'));
};
