import type { Labels, Logger, Sample } from '@vigil/common';

/** One element of an instant vector returned by the query function. */
export interface QuerySample {
  labels: Labels;
  value: number;
}

/** Evaluates a PromQL expression at `timeMs`: an instant vector or a scalar; throws on error. */
export type QueryFn = (expr: string, timeMs: number) => Promise<QuerySample[] | number>;
export type AppendFn = (samples: Sample[]) => Promise<void>;
export type NotifyFn = (alerts: Alert[]) => void;

/**
 * An alert as sent to a notifier (Prometheus' `notifier.Alert`): times in milliseconds,
 * `endsAt` in the future while firing (validity), equal to the resolution time once resolved.
 */
export interface Alert {
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  endsAt: number;
  generatorURL: string;
}

/** Time source and timers, replaced by a fake in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    h.unref?.();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type AlertState = 'inactive' | 'pending' | 'firing';
export type RuleHealth = 'ok' | 'err' | 'unknown';

export interface RuleManagerOptions {
  queryFn: QueryFn;
  appendFn: AppendFn;
  notifyFn: NotifyFn;
  /** Throws on an invalid PromQL expression (the PromQL parser). */
  checkExpr: (expr: string) => void;
  clock?: Clock;
  externalLabels?: Labels;
  /** Base URL for `generatorURL` and `$externalURL`. */
  externalURL?: string;
  logger: Logger;
  /** Minimum time between two sends of a firing alert (Prometheus' --rules.alert.resend-delay, 1m). */
  resendDelayMs?: number;
  /** How long resolved alerts keep being sent (15m). */
  resolvedRetentionMs?: number;
  /** Lookback for restoring `for` state from ALERTS_FOR_STATE (Prometheus' outage tolerance, 1h). */
  outageToleranceMs?: number;
  /** Minimum `for` left after a restore (Prometheus' for-grace-period, 10m). */
  forGracePeriodMs?: number;
  /** Link hooks: true while the link of `datacenter` is cut. */
  isDatacenterCut?: (datacenter: string) => boolean;
  /** Time (ms) up to which the data of `datacenter` is complete. */
  watermark?: (datacenter: string) => number | undefined;
  /** How long a late alert (found by `reevaluateWindow`) is reported as firing before it resolves (5m). */
  lateFiringMs?: number;
}
