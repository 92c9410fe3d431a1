import { describe, expect, it } from 'vitest';
import { registerSourceKind, sourceConnector } from '../src/sources/registry.js';
import { registerSerde } from '../src/serdes/index.js';
import { Registry } from '../src/util/registry.js';

describe('registries of kinds', () => {
  it('accept the same registration again, and let a later one replace an earlier one (a config loaded again)', () => {
    const kinds = new Registry<{ v: number }>('widget kind');
    const first = { v: 1 };
    kinds.register('w', first);
    kinds.register('w', first);
    expect(kinds.require('w')).toBe(first);
    const reloaded = { v: 2 };
    kinds.register('w', reloaded);
    expect(kinds.require('w')).toBe(reloaded);
    expect(kinds.names()).toEqual(['w']);
  });

  it('refuse to replace a built-in kind, and keep it when asked to remove it', () => {
    const kinds = new Registry<string>('widget kind');
    kinds.register('core', 'built-in', { builtIn: true });
    kinds.register('core', 'built-in');
    expect(() => kinds.register('core', 'mine')).toThrow(/widget kind "core" is built in and cannot be replaced/);
    expect(kinds.unregister('core')).toBe(false);
    expect(kinds.require('core')).toBe('built-in');
  });

  it('name an unknown kind with the nearest known one and the setting it came from', () => {
    const kinds = new Registry<string>('widget kind');
    kinds.register('sprocket', 's');
    kinds.register('gear', 'g');
    expect(() => kinds.require('sprockt', 'widgets.a.kind')).toThrow(/widgets\.a\.kind: unknown widget kind "sprockt"/);
    const refused = (() => {
      try {
        kinds.require('sprockt');
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID', hint: 'did you mean "sprocket"? widget kinds: sprocket, gear' });
  });

  it('keep the built-in source kind and format: a plugin cannot change what `files` or `json` means', () => {
    const files = sourceConnector('files');
    expect(() => registerSourceKind({ ...files })).toThrow(/source kind "files" is built in/);
    expect(sourceConnector('files')).toBe(files);
    expect(() =>
      registerSerde({ kind: 'json', schema: files.schema as never, create: () => ({ kind: 'json', decode: () => 1, encode: () => Buffer.alloc(0) }) }),
    ).toThrow(/format "json" is built in/);
  });
});
