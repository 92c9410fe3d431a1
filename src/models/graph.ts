import { TributaryError } from '../errors.js';
import type { ModelDefinition } from './model.js';

export interface GraphNode {
  name: string;
  /** model: built by a SQL file; table: read from the lake (a source's table, or any table not built by a model). */
  kind: 'model' | 'table';
  model: ModelDefinition | undefined;
  upstream: string[];
}

/** Models and the tables they read, in dependency order. */
export class ModelGraph {
  readonly nodes: Map<string, GraphNode>;
  /** Model names, each after everything it depends on. */
  readonly order: string[];

  constructor(
    models: readonly ModelDefinition[],
    extraDependencies: Record<string, string[]> = {},
    /** Per source, the lake tables its queries read (`SourceConnector.lakeQueries`). */
    readonly sourceReads: ReadonlyMap<string, string[]> = new Map(),
  ) {
    this.nodes = new Map();
    for (const m of models) this.nodes.set(m.name, { name: m.name, kind: 'model', model: m, upstream: [] });
    for (const m of models) {
      const upstream = [...new Set([...m.reads, ...(extraDependencies[m.name] ?? [])])].filter((t) => t !== m.name).sort();
      this.nodes.get(m.name)!.upstream = upstream;
      for (const t of upstream) if (!this.nodes.has(t)) this.nodes.set(t, { name: t, kind: 'table', model: undefined, upstream: [] });
    }
    this.order = topologicalOrder(this.nodes);
  }

  get models(): ModelDefinition[] {
    return this.order.map((n) => this.nodes.get(n)!.model!);
  }

  downstream(name: string): string[] {
    return [...this.nodes.values()].filter((n) => n.upstream.includes(name)).map((n) => n.name);
  }

  /**
   * Models selected by targets: `layer.table` (one model), `layer` (every model of the layer), `+name` (with all
   * models upstream of it), `name+` (with all models downstream). No target selects every model.
   */
  select(targets: readonly string[]): string[] {
    if (targets.length === 0) return [...this.order];
    const chosen = new Set<string>();
    for (const raw of targets) {
      const up = raw.startsWith('+');
      const down = raw.endsWith('+');
      const target = raw.replace(/^\+|\+$/g, '');
      const base = this.order.filter((n) => n === target || n.split('.')[0] === target);
      if (base.length === 0) {
        throw new TributaryError('NOT_FOUND', `no model or layer named "${target}"`, { hint: `models: ${this.order.join(', ') || 'none'}` });
      }
      for (const name of base) {
        chosen.add(name);
        if (up) this.walk(name, (n) => this.nodes.get(n)!.upstream, chosen);
        if (down) this.walk(name, (n) => this.downstream(n), chosen);
      }
    }
    return this.order.filter((n) => chosen.has(n));
  }

  private walk(start: string, next: (n: string) => string[], into: Set<string>): void {
    for (const n of next(start)) {
      if (this.nodes.get(n)?.kind !== 'model' || into.has(n)) continue;
      into.add(n);
      this.walk(n, next, into);
    }
  }

  toText(): string {
    if (this.order.length === 0) return 'no models';
    const width = Math.max(...this.order.map((n) => n.length));
    return this.order
      .map((n) => {
        const node = this.nodes.get(n)!;
        const inputs = node.upstream.map((u) => (this.nodes.get(u)!.kind === 'model' ? u : `${u} (table)`));
        return `${n.padEnd(width)}  ${node.model!.materialized.padEnd(11)}  ← ${inputs.join(', ') || '(no inputs)'}`;
      })
      .join('\n');
  }

  toDot(): string {
    const lines = ['digraph tributary {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
    for (const node of this.nodes.values()) {
      const style = node.kind === 'table' ? ', style=dashed' : '';
      const label = node.model ? `${node.name}\\n${node.model.materialized}` : node.name;
      lines.push(`  "${node.name}" [label="${label}"${style}];`);
    }
    for (const node of this.nodes.values()) for (const u of node.upstream) lines.push(`  "${u}" -> "${node.name}";`);
    lines.push('}');
    return lines.join('\n');
  }

  toJson(): { nodes: { name: string; kind: string; materialized?: string; file?: string }[]; edges: { from: string; to: string }[] } {
    return {
      nodes: [...this.nodes.values()].map((n) => ({
        name: n.name,
        kind: n.kind,
        ...(n.model ? { materialized: n.model.materialized, file: n.model.displayFile } : {}),
      })),
      edges: [...this.nodes.values()].flatMap((n) => n.upstream.map((u) => ({ from: u, to: n.name }))),
    };
  }
}

function topologicalOrder(nodes: Map<string, GraphNode>): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const visit = (name: string, path: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      const file = nodes.get(name)?.model?.displayFile;
      throw new TributaryError('CONFIG_INVALID', `models form a cycle: ${cycle.join(' → ')}${file ? ` (${file})` : ''}`);
    }
    state.set(name, 'visiting');
    for (const u of nodes.get(name)!.upstream) visit(u, [...path, name]);
    state.set(name, 'done');
    if (nodes.get(name)!.kind === 'model') order.push(name);
  };
  for (const name of [...nodes.keys()].sort()) visit(name, []);
  return order;
}
