import * as z from '../../zod';
import { eventBridgeEnvelope } from './envelope';

/** The EventBridge `Scheduled Event` that drives the tick. */
export const scheduleEventSchema = eventBridgeEnvelope('aws.events', 'Scheduled Event', z.looseObject({}));

export type ScheduleEvent = z.infer<typeof scheduleEventSchema>;
