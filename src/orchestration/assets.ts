import { TributaryError } from '../errors.js';
import type { ResolvedConfig } from '../config/types.js';
import type { ModelGraph } from '../models/graph.js';
import { assetKinds } from './kinds/index.js';

/**
 * The unit of orchestration, as in Dagster: every thing the project produces, with what it depends on. Each kind
 * declares its own (orchestration/kinds/): `source:<name>`, `<layer>.<name>` (models), `check:<table>`,
 * `sync:<table>`, `stream:<name>`, and any registered kind.
 */
export type AssetKind = string;

export interface Asset {
  key: string;
  kind: AssetKind;
  /** Lake tables this asset writes. */
  writes: string[];
  /** Keys of the assets it depends on. */
  upstream: string[];
}

export class AssetGraph {
  readonly assets = new Map<string, Asset>();
  /** Keys, each after everything it depends on. */
  readonly order: string[];

  constructor(config: ResolvedConfig, models: ModelGraph) {
    const producers = new Map<string, string[]>();
    const reads = new Map<string, string[]>();
    const gates = new Map<string, string[]>();
    for (const handler of assetKinds()) {
      for (const declared of handler.declare({ config, models })) {
        if (this.assets.has(declared.key)) throw new TributaryError('CONFIG_INVALID', `asset ${declared.key} is declared twice`);
        this.assets.set(declared.key, { key: declared.key, kind: handler.kind, writes: declared.writes, upstream: [] });
        reads.set(declared.key, declared.reads);
        if (declared.before?.length) gates.set(declared.key, declared.before);
        for (const t of declared.writes) producers.set(t, [...(producers.get(t) ?? []), declared.key]);
      }
    }
    // A reader of a table waits for its checks when it has some (checks gate what is read), else for its producers;
    // the checks themselves wait for the producers.
    const gate = (table: string, reader: string): string[] =>
      this.assets.has(`check:${table}`) && reader !== `check:${table}` ? [`check:${table}`] : (producers.get(table) ?? []);
    for (const asset of this.assets.values()) asset.upstream = unique(reads.get(asset.key)!.flatMap((t) => gate(t, asset.key)));
    for (const [key, waiting] of gates) {
      for (const other of waiting) {
        const asset = this.assets.get(other);
        if (!asset)
          throw new TributaryError('CONFIG_INVALID', `${key}: before names no asset "${other}"`, { hint: `assets: ${[...this.assets.keys()].join(', ')}` });
        asset.upstream = unique([...asset.upstream, key]);
      }
    }
    this.order = topological(this.assets);
  }

  get(key: string): Asset {
    const asset = this.assets.get(key);
    if (!asset) throw new TributaryError('NOT_FOUND', `no asset "${key}"`, { hint: `assets: ${this.order.join(', ')}` });
    return asset;
  }

  downstream(key: string): string[] {
    return this.order.filter((k) => this.assets.get(k)!.upstream.includes(key));
  }

  /**
   * Assets matched by selectors (see `JobConfig.select`), in dependency order. `where` names the selection in
   * errors (e.g. `jobs.daily.select`).
   */
  select(selectors: readonly string[], where: string): string[] {
    const chosen = new Set<string>();
    for (const raw of selectors) {
      const up = raw.startsWith('+');
      const down = raw.endsWith('+') && raw.length > 1;
      const selector = raw.replace(/^\+/, '').replace(/\+$/, '');
      const base = this.order.filter((k) => matches(selector, this.assets.get(k)!));
      if (base.length === 0) {
        throw new TributaryError('CONFIG_INVALID', `${where}: "${raw}" matches no asset`, { hint: `assets: ${this.order.join(', ') || 'none'}` });
      }
      for (const key of base) {
        chosen.add(key);
        if (up) this.walk(key, (k) => this.assets.get(k)!.upstream, chosen);
        if (down) this.walk(key, (k) => this.downstream(k), chosen);
      }
    }
    return this.order.filter((k) => chosen.has(k));
  }

  /** For each selected asset, the selected assets it waits for: directly, or through assets left out of the selection. */
  dependencies(selected: readonly string[]): Map<string, string[]> {
    const inSelection = new Set(selected);
    const result = new Map<string, string[]>();
    for (const key of selected) {
      const deps = new Set<string>();
      const seen = new Set<string>();
      const visit = (k: string) => {
        for (const u of this.assets.get(k)!.upstream) {
          if (seen.has(u)) continue;
          seen.add(u);
          if (inSelection.has(u)) deps.add(u);
          else visit(u);
        }
      };
      visit(key);
      result.set(key, [...deps]);
    }
    return result;
  }

  private walk(start: string, next: (k: string) => string[], into: Set<string>): void {
    for (const k of next(start)) {
      if (into.has(k)) continue;
      into.add(k);
      this.walk(k, next, into);
    }
  }
}

function matches(selector: string, asset: Asset): boolean {
  if (selector === '*') return true;
  const colon = selector.indexOf(':');
  if (colon > 0) {
    const kind = selector.slice(0, colon);
    const rest = selector.slice(colon + 1);
    return asset.kind === kind && (rest === '*' || asset.key === selector);
  }
  if (asset.kind !== 'model') return false;
  if (selector.includes('*')) return globToRegExp(selector).test(asset.key);
  return asset.key === selector || asset.key.split('.')[0] === selector;
}

/** `gold.*`, `silver.dim_*`: `*` matches any run of characters. */
export function globToRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

function topological(assets: Map<string, Asset>): string[] {
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: string[] = [];
  const visit = (key: string, path: string[]) => {
    if (done.has(key)) return;
    if (visiting.has(key)) throw new TributaryError('CONFIG_INVALID', `assets form a cycle: ${[...path.slice(path.indexOf(key)), key].join(' → ')}`);
    visiting.add(key);
    for (const u of assets.get(key)!.upstream) visit(u, [...path, key]);
    visiting.delete(key);
    done.add(key);
    order.push(key);
  };
  for (const key of [...assets.keys()].sort()) visit(key, []);
  return order;
}
