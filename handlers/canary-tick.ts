import { cloudWatchClientFor } from '../src/adapters/clients';
import { CloudWatchMetrics } from '../src/adapters/cloudwatch-metrics';
import { runTick } from '../src/app/tick';
import { scheduleEventSchema } from '../src/domain/schemas/schedule-event';
import { eventBridgeHandler } from '../src/handler-support';
import { eventTime, provideMetrics } from '../src/wiring';

provideMetrics((crossAccount) => new CloudWatchMetrics(cloudWatchClientFor(crossAccount)));

/** Every minute: shift canary weights, judge gates, reconcile lost events, expire timeouts. */
export const handler = eventBridgeHandler('schedule event', scheduleEventSchema, async (event, deps) => {
  const report = await runTick(deps, eventTime(event.time));
  return { outcome: report.failedGroups.length > 0 ? 'partial' : 'ok', ...report };
});
