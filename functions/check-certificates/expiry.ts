/**
 * Expiry arithmetic in seconds from notAfter (UTC), never in calendar days: "4.99 days" is not
 * "4 days" and a certificate that expires at 23:59 is not "0 days" at 00:01. Thresholds are
 * the smaller of an absolute and a lifetime-relative one, so a 24-hour certificate is not
 * perpetually "expiring" and 47-day certificates warn at a sensible point.
 */
import type { Thresholds } from './config.ts';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Where a certificate stands against the thresholds. */
export type ExpiryState = 'expired' | 'critical' | 'warning' | 'ok' | 'not-yet-valid';

/** The assessment of one certificate's validity period at `now`. */
export interface ExpiryAssessment {
  state: ExpiryState;
  /** Seconds until notAfter (negative once expired). */
  secondsLeft: number;
  /** Days left with two decimals, for `data`. */
  daysLeft: number;
  lifetimeSeconds: number;
  /** Thresholds in effect for this certificate, in seconds. */
  warningSeconds: number;
  criticalSeconds: number;
  notBefore: string;
  notAfter: string;
}

/** Effective thresholds in seconds for a certificate with the given lifetime. */
export function effectiveThresholds(
  thresholds: Thresholds,
  lifetimeSeconds: number,
): { warning: number; critical: number } {
  return {
    warning: Math.min(thresholds.warningDays * DAY, thresholds.warnFraction * lifetimeSeconds),
    critical: Math.min(thresholds.criticalDays * DAY, thresholds.criticalFraction * lifetimeSeconds),
  };
}

/** Assesses notBefore/notAfter at `now`. */
export function assessExpiry(
  notBefore: Date,
  notAfter: Date,
  now: Date,
  thresholds: Thresholds,
): ExpiryAssessment {
  const secondsLeft = (notAfter.getTime() - now.getTime()) / 1000;
  const lifetimeSeconds = Math.max(0, (notAfter.getTime() - notBefore.getTime()) / 1000);
  const { warning, critical } = effectiveThresholds(thresholds, lifetimeSeconds);
  let state: ExpiryState;
  if (now < notBefore) state = 'not-yet-valid';
  else if (secondsLeft <= 0) state = 'expired';
  else if (secondsLeft <= critical) state = 'critical';
  else if (secondsLeft <= warning) state = 'warning';
  else state = 'ok';
  return {
    state,
    secondsLeft,
    daysLeft: Math.round((secondsLeft / DAY) * 100) / 100,
    lifetimeSeconds,
    warningSeconds: warning,
    criticalSeconds: critical,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
  };
}

function unit(count: number, name: string): string {
  return `${count} ${name}${count === 1 ? '' : 's'}`;
}

/**
 * A duration for people: "2 days 5 hours", "3 hours 20 minutes", "45 minutes"; whole days only
 * from 30 days on ("142 days"). Rounds down, so "2 days 23 hours" is never shown as "3 days".
 */
export function humanDuration(seconds: number): string {
  const total = Math.floor(Math.abs(seconds));
  const days = Math.floor(total / DAY);
  const hours = Math.floor((total % DAY) / HOUR);
  const minutes = Math.floor((total % HOUR) / MINUTE);
  if (days >= 30) return unit(days, 'day');
  if (days >= 1) return hours === 0 ? unit(days, 'day') : `${unit(days, 'day')} ${unit(hours, 'hour')}`;
  if (hours >= 1)
    return minutes === 0 ? unit(hours, 'hour') : `${unit(hours, 'hour')} ${unit(minutes, 'minute')}`;
  if (minutes >= 1) return unit(minutes, 'minute');
  return 'less than a minute';
}

/** A UTC timestamp for messages: "2026-11-24 10:00 UTC". */
export function humanDate(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** "expires in 2 days 5 hours (2026-11-24 10:00 UTC)" / "expired 3 days ago (...)" / "is not valid before ...". */
export function describeExpiry(expiry: ExpiryAssessment): string {
  if (expiry.state === 'not-yet-valid') return `is not valid before ${humanDate(expiry.notBefore)}`;
  if (expiry.secondsLeft <= 0)
    return `expired ${humanDuration(expiry.secondsLeft)} ago (${humanDate(expiry.notAfter)})`;
  return `expires in ${humanDuration(expiry.secondsLeft)} (${humanDate(expiry.notAfter)})`;
}
