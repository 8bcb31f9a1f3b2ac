import { cloudWatchClientFor } from '../src/adapters/clients';
import { CloudWatchMetrics } from '../src/adapters/cloudwatch-metrics';
import { runTick } from '../src/app/tick';
import { scheduleEventSchema } from '../src/domain/schemas/schedule-event';
import { askTheExecutor } from '../src/executor-requests';
import { eventBridgeHandler } from '../src/handler-support';
import { emitMetrics } from '../src/metrics/emf';
import { ALL_GROUPS, groupGauges, METRIC } from '../src/metrics/service-metrics';
import { eventTime, provideMetrics } from '../src/wiring';

askTheExecutor();

provideMetrics(
  ({ crossAccount, region }) => new CloudWatchMetrics(cloudWatchClientFor(crossAccount, region)),
);

/** Every minute: shift canary weights, judge gates, reconcile lost events, expire timeouts. */
export const handler = eventBridgeHandler('schedule event', scheduleEventSchema, async (event, deps) => {
  const now = eventTime(event.time);
  const started = Date.now();
  const report = await runTick(deps, now);
  emitMetrics(ALL_GROUPS, [
    { name: METRIC.tickDuration, unit: 'Milliseconds', value: Date.now() - started },
    { name: METRIC.groupsJudged, unit: 'Count', value: report.active },
    { name: METRIC.tickFailedGroups, unit: 'Count', value: report.failedGroups.length },
  ]);
  const { inFlight, ...summary } = report;
  for (const [group, data] of groupGauges(inFlight, deps.config, now)) emitMetrics(group, data);
  // the summary is logged: the deployments stay out of it (their callbacks hold tokens)
  return { outcome: report.failedGroups.length > 0 ? 'partial' : 'ok', ...summary };
});
