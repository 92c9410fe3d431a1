import { Cron } from 'croner';
import { TributaryError, errorMessage } from '../errors.js';

/**
 * A cron schedule read in a time zone (croner: 5 or 6 fields, or @hourly/@daily/@weekly/@monthly/@yearly).
 * Across daylight-saving changes it behaves as Vixie cron does: a time the spring-forward gap skips fires at the
 * first valid time after the gap, and a time the fall-back repeats fires once.
 */
export class Schedule {
  private readonly cron: Cron;

  constructor(
    readonly expression: string,
    readonly timezone: string,
    where: string,
  ) {
    checkTimezone(timezone, where);
    try {
      this.cron = new Cron(expression, { timezone, paused: true });
    } catch (err) {
      throw new TributaryError('CONFIG_INVALID', `${where}: "${expression}" is not a cron expression: ${errorMessage(err)}`, {
        hint: "five fields 'minute hour day month weekday', e.g. '0 2 * * *', or @daily",
      });
    }
  }

  /** The first fire time strictly after `after`. */
  next(after: Date): Date | undefined {
    return this.cron.nextRun(after) ?? undefined;
  }

  /** The last fire time at or before `now`, looking no further back than `since` (exclusive). */
  lastDue(since: Date, now: Date): Date | undefined {
    let due: Date | undefined;
    for (let t = this.next(since); t && t.getTime() <= now.getTime(); t = this.next(t)) due = t;
    return due;
  }
}

export function checkTimezone(timezone: string, where: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new TributaryError('CONFIG_INVALID', `${where}: "${timezone}" is not an IANA time zone`, { hint: "e.g. 'UTC', 'Europe/Paris', 'America/New_York'" });
  }
}
