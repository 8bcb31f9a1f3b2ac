import { onOperatorCommand } from '../src/app/control';
import { controlCommandEventSchema, toOperatorCommand } from '../src/domain/schemas/control-command';
import { eventBridgeHandler } from '../src/handler-support';
import { eventTime } from '../src/wiring';

/** Operator commands from the service bus (CLI and other systems alike). */
export const handler = eventBridgeHandler(
  'rollout command',
  controlCommandEventSchema,
  async (event, deps) => ({
    ...(await onOperatorCommand(deps, toOperatorCommand(event), eventTime(event.time))),
  }),
);
