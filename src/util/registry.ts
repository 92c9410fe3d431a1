import { TributaryError } from '../errors.js';
import { nearest } from './nearest.js';

/**
 * Kinds by name, as every seam keeps them (source kinds, formats, storage schemes, catalog backends, check kinds,
 * asset kinds). Registering is idempotent for the same implementation, and a later registration of a name replaces
 * an earlier one: a project's config, loaded again in the same process (a reload, a test, `tributary dev`), registers
 * its kinds again. The built-in kinds cannot be replaced or removed, so a plugin cannot silently change what `files`
 * or `json` means. Names are listed in registration order.
 */
export class Registry<T> {
  private readonly entries = new Map<string, T>();
  private readonly builtIn = new Set<string>();

  /** `what` names an entry in errors: 'source kind', 'format', 'storage scheme'… */
  constructor(private readonly what: string) {}

  register(name: string, value: T, options: { builtIn?: boolean } = {}): void {
    if (this.builtIn.has(name) && this.entries.get(name) !== value) {
      throw new TributaryError('CONFIG_INVALID', `${this.what} "${name}" is built in and cannot be replaced`, {
        hint: 'register yours under another name',
      });
    }
    this.entries.set(name, value);
    if (options.builtIn) this.builtIn.add(name);
  }

  /** Removes a registered entry (tests that register their own); built-in entries stay. */
  unregister(name: string): boolean {
    return !this.builtIn.has(name) && this.entries.delete(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  isBuiltIn(name: string): boolean {
    return this.builtIn.has(name);
  }

  get(name: string): T | undefined {
    return this.entries.get(name);
  }

  /** The entry, or CONFIG_INVALID naming `where`, the unknown name, the nearest known one and all of them. */
  require(name: string, where?: string): T {
    const found = this.entries.get(name);
    if (found !== undefined) return found;
    const near = nearest(name, this.names());
    throw new TributaryError('CONFIG_INVALID', `${where ? `${where}: ` : ''}unknown ${this.what} "${name}"`, {
      hint: `${near ? `did you mean "${near}"? ` : ''}${this.what}s: ${this.names().join(', ')}`,
    });
  }

  /** Names in registration order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  values(): T[] {
    return [...this.entries.values()];
  }
}
