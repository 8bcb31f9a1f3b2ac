import { findEndpoint } from '../src/app/deps';
import { onEndpointChanged } from '../src/app/endpoint-changed';
import { endpointEventSchema } from '../src/domain/schemas/endpoint-event';
import { askTheExecutor } from '../src/executor-requests';
import { eventBridgeHandler } from '../src/handler-support';
import { eventTime } from '../src/wiring';

askTheExecutor();

/** `SageMaker Endpoint State Change`: a managed endpoint moved; look at it and continue. */
export const handler = eventBridgeHandler(
  'endpoint state change event',
  endpointEventSchema,
  async (event, deps) => ({
    ...(await onEndpointChanged(deps, event.detail.EndpointName, eventTime(event.time), {
      region: event.region,
      endpointArn: event.detail.EndpointArn,
    })),
  }),
  (event, deps) => findEndpoint(deps.config, event.detail.EndpointName)?.group,
);
