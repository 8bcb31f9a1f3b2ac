import { onModelPackageChanged } from '../src/app/model-package-changed';
import { modelPackageEventSchema } from '../src/domain/schemas/model-package-event';
import { askTheExecutor } from '../src/executor-requests';
import { eventBridgeHandler } from '../src/handler-support';
import { eventTime } from '../src/wiring';

askTheExecutor();

/** `SageMaker Model Package State Change`: approvals start deployments, rejections undo them. */
export const handler = eventBridgeHandler(
  'model package state change event',
  modelPackageEventSchema,
  async (event, deps) => ({
    ...(await onModelPackageChanged(
      deps,
      {
        group: event.detail.ModelPackageGroupName,
        version: event.detail.ModelPackageVersion,
        packageArn: event.detail.ModelPackageArn,
        status: event.detail.ModelApprovalStatus,
      },
      eventTime(event.time),
    )),
  }),
  (event) => event.detail.ModelPackageGroupName,
);
