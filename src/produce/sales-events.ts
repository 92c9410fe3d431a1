import { jsonSerde } from '../serdes/json.js';
import type { Serde } from '../serdes/index.js';
import { seededRandom } from '../util/random.js';

/**
 * Sales events like seed 001's `ventes-temps-reel` topic: {"id", "event_time", "pays", "montant", "produit"}, with a
 * controllable share of out-of-order, late and malformed events, to exercise watermarks and the dead-letter queue.
 */
export interface SalesEventOptions {
  /** Countries to draw from (default: ten European ones). */
  countries?: string[];
  /** Normal events are up to this much older than their clock time: out of order, within the watermark (default 5 s). */
  disorderMs?: number;
  /** Share of late events, older than the clock by `lateByMs` (default 0). */
  lateShare?: number;
  lateByMs?: number;
  /** Share of poison pills: invalid JSON, wrong types, missing event time, binary garbage (default 0). */
  poisonShare?: number;
  /** Deterministic output for a seed. */
  seed?: number;
  /** The format events are encoded in (default JSON); poison pills are bytes no format accepts, or JSON with wrong fields. */
  format?: Serde;
}

export interface GeneratedEvent {
  key: string | null;
  value: Buffer;
  kind: 'ok' | 'late' | 'poison';
}

const COUNTRIES = ['France', 'Germany', 'Spain', 'Italy', 'Belgium', 'Netherlands', 'Portugal', 'Switzerland', 'United Kingdom', 'Ireland'];
const PRODUCTS = ['laptop', 'phone', 'headphones', 'monitor', 'keyboard', 'mouse', 'tablet', 'camera'];

export class SalesEventGenerator {
  private readonly random: () => number;
  private n = 0;
  private readonly countries: string[];

  constructor(private readonly options: SalesEventOptions = {}) {
    this.random = seededRandom(options.seed ?? Date.now());
    this.countries = options.countries?.length ? options.countries : COUNTRIES;
  }

  /** One event whose clock time is `now` (epoch ms). */
  next(now: number): GeneratedEvent {
    const r = this.random;
    const id = `evt-${(this.options.seed ?? 0).toString(36)}-${(this.n++).toString(36)}`;
    if (r() < (this.options.poisonShare ?? 0)) return { key: null, value: this.poison(id, now), kind: 'poison' };
    const late = r() < (this.options.lateShare ?? 0);
    const age = late ? (this.options.lateByMs ?? 10 * 60_000) + r() * 60_000 : r() * (this.options.disorderMs ?? 5000);
    const pays = this.countries[Math.floor(r() * this.countries.length)]!;
    const event: Record<string, unknown> = {
      id,
      event_time: new Date(Math.round(now - age)).toISOString(),
      pays,
      montant: Math.round((5 + r() * 495) * 100) / 100,
    };
    if (r() < 0.8) event.produit = PRODUCTS[Math.floor(r() * PRODUCTS.length)];
    return { key: pays, value: (this.options.format ?? jsonSerde).encode(event), kind: late ? 'late' : 'ok' };
  }

  private poison(id: string, now: number): Buffer {
    switch (this.n % 4) {
      case 0:
        return Buffer.from(`{"id": "${id}", "event_time": "${new Date(now).toISOString()}", "pays": "France", "montant": 12.5`); // truncated JSON
      case 1:
        return (this.options.format ?? jsonSerde).encode({ id, event_time: new Date(now).toISOString(), pays: 'France', montant: 'douze euros' });
      case 2:
        return (this.options.format ?? jsonSerde).encode({ id, pays: 'France', montant: 12.5 });
      default:
        return Buffer.from(Array.from({ length: 64 }, () => Math.floor(this.random() * 256)));
    }
  }
}
