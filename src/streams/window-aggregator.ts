import type { AggregateSpec, StreamEvent } from '../config/types.js';
import type { CompiledOutput } from './definition.js';

/** One window of one group: its bounds, group values and accumulators ([n, v] per aggregate, flattened). */
export interface WindowState {
  start: number;
  end: number;
  keys: unknown[];
  acc: number[];
}

export interface WindowBounds {
  start: number;
  end: number;
}

/**
 * Keyed aggregation over event-time windows for one output (Kafka Streams' windowed aggregation).
 * A window [start, end) is closed once `end + allowedLateness <= watermark`: it is then emitted and forgotten, and
 * events still arriving for it are late. State holds open windows only, so memory follows the watermark.
 */
export class WindowAggregator {
  /** Tumbling and hopping windows by start, then group; sessions by group (a sorted list per group). */
  private readonly fixed = new Map<number, Map<string, WindowState>>();
  private readonly sessions = new Map<string, WindowState[]>();

  constructor(readonly output: CompiledOutput) {}

  /** Adds an event; returns the windows it was too late for (empty when it was counted everywhere). */
  add(event: StreamEvent, time: number, watermark: number): readonly WindowBounds[] {
    const { window, lateness, groupBy } = this.output;
    const keys = groupBy.length === 0 ? NO_KEYS : groupBy.map((f) => event[f] ?? null);
    const group = groupId(keys);
    if (window.kind === 'session') {
      // Lateness is judged on the session the event would join (Flink merges first): an event inside an open
      // session is on time even if its own gap has passed.
      const merged = this.addToSession(group, keys, event, time, time + window.gapMs, watermark - lateness);
      return merged ? NOT_LATE : [{ start: time, end: time + window.gapMs }];
    }
    let late: WindowBounds[] | undefined;
    const first = Math.floor(time / window.advanceMs) * window.advanceMs;
    for (let start = first; start + window.sizeMs > time; start -= window.advanceMs) {
      const end = start + window.sizeMs;
      if (end + lateness <= watermark) {
        (late ??= []).push({ start, end });
        continue;
      }
      let groups = this.fixed.get(start);
      if (!groups) this.fixed.set(start, (groups = new Map()));
      let state = groups.get(group);
      if (!state) groups.set(group, (state = { start, end, keys, acc: this.emptyAcc() }));
      this.accumulate(state.acc, event);
    }
    return late ?? NOT_LATE;
  }

  /** Removes and returns the windows the watermark has closed, oldest first. */
  close(watermark: number): WindowState[] {
    const lateness = this.output.lateness;
    const closed: WindowState[] = [];
    const sizeMs = this.output.window.kind === 'session' ? 0 : this.output.window.sizeMs;
    for (const [start, groups] of this.fixed) {
      if (start + sizeMs + lateness <= watermark) {
        closed.push(...groups.values());
        this.fixed.delete(start);
      }
    }
    for (const [group, list] of this.sessions) {
      const keep = list.filter((s) => s.end + lateness > watermark);
      if (keep.length === list.length) continue;
      closed.push(...list.filter((s) => s.end + lateness <= watermark));
      if (keep.length) this.sessions.set(group, keep);
      else this.sessions.delete(group);
    }
    return closed.sort((a, b) => a.start - b.start || a.end - b.end);
  }

  open(): WindowState[] {
    return [...[...this.fixed.values()].flatMap((g) => [...g.values()]), ...[...this.sessions.values()].flat()];
  }

  /** The values of an accumulator, in the order of the output's aggregates. */
  results(state: WindowState): (number | null)[] {
    return this.output.aggregates.map((a, i) => {
      const n = state.acc[2 * i]!;
      const v = state.acc[2 * i + 1]!;
      if (a.spec.fn === 'count') return n;
      if (n === 0) return null;
      return a.spec.fn === 'avg' ? v / n : v;
    });
  }

  snapshot(): WindowState[] {
    return this.open();
  }

  restore(states: readonly WindowState[]): void {
    for (const s of states) {
      if (this.output.window.kind === 'session') {
        const group = groupId(s.keys);
        this.sessions.set(
          group,
          [...(this.sessions.get(group) ?? []), s].sort((a, b) => a.start - b.start),
        );
      } else {
        let groups = this.fixed.get(s.start);
        if (!groups) this.fixed.set(s.start, (groups = new Map()));
        groups.set(groupId(s.keys), s);
      }
    }
  }

  /** Merges the event into its key's sessions; false (and nothing changed) when the merged session is already closed. */
  private addToSession(group: string, keys: unknown[], event: StreamEvent, start: number, end: number, closedBefore: number): boolean {
    const list = this.sessions.get(group) ?? [];
    let mergedStart = start;
    let mergedEnd = end;
    const overlapping: WindowState[] = [];
    const rest: WindowState[] = [];
    for (const s of list) {
      if (s.start < end && start < s.end) {
        overlapping.push(s);
        mergedStart = Math.min(mergedStart, s.start);
        mergedEnd = Math.max(mergedEnd, s.end);
      } else {
        rest.push(s);
      }
    }
    if (mergedEnd <= closedBefore) return false;
    const merged: WindowState = { start: mergedStart, end: mergedEnd, keys, acc: this.emptyAcc() };
    this.accumulate(merged.acc, event);
    for (const s of overlapping) this.merge(merged.acc, s.acc);
    rest.push(merged);
    this.sessions.set(
      group,
      rest.sort((a, b) => a.start - b.start),
    );
    return true;
  }

  private emptyAcc(): number[] {
    return new Array<number>(this.output.aggregates.length * 2).fill(0);
  }

  private accumulate(acc: number[], event: StreamEvent): void {
    const aggregates = this.output.aggregates;
    for (let i = 0; i < aggregates.length; i++) {
      const spec: AggregateSpec = aggregates[i]!.spec;
      if (spec.field === undefined) {
        acc[2 * i]!++;
        continue;
      }
      const raw = event[spec.field];
      if (raw === undefined || raw === null) continue;
      if (spec.fn === 'count') {
        acc[2 * i]!++;
        continue;
      }
      const x = typeof raw === 'number' ? raw : Number(raw);
      if (!Number.isFinite(x)) continue;
      const n = acc[2 * i]!;
      const v = acc[2 * i + 1]!;
      acc[2 * i] = n + 1;
      acc[2 * i + 1] = spec.fn === 'min' ? (n === 0 ? x : Math.min(v, x)) : spec.fn === 'max' ? (n === 0 ? x : Math.max(v, x)) : v + x;
    }
  }

  private merge(into: number[], from: readonly number[]): void {
    const aggregates = this.output.aggregates;
    for (let i = 0; i < aggregates.length; i++) {
      const fn = aggregates[i]!.spec.fn;
      const [n1, v1, n2, v2] = [into[2 * i]!, into[2 * i + 1]!, from[2 * i]!, from[2 * i + 1]!];
      into[2 * i] = n1 + n2;
      if (fn === 'min' || fn === 'max') into[2 * i + 1] = n1 === 0 ? v2 : n2 === 0 ? v1 : fn === 'min' ? Math.min(v1, v2) : Math.max(v1, v2);
      else into[2 * i + 1] = v1 + v2;
    }
  }
}

const NOT_LATE: readonly WindowBounds[] = Object.freeze([]) as readonly WindowBounds[];
const NO_KEYS: unknown[] = [];

/** A map key for group values; one string value (the common case) is used as is, marked so it cannot collide. */
function groupId(keys: readonly unknown[]): string {
  if (keys.length === 1 && typeof keys[0] === 'string') return `\u0000${keys[0]}`;
  // A `map` may produce any value: BigInts would make JSON.stringify throw.
  return JSON.stringify(keys, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
