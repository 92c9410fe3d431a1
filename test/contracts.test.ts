import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './support/helpers.js';
import { USER_ACTIVITY } from './support/schemas.js';

// `tributary contracts check|register`: seed 003's compatibility gate (§2.4, `mvn schema-registry:test-compatibility`)
// on the project's own schemas, against its embedded registry, as a CI job would run it.

describe('tributary contracts', () => {
  it('checks each schema against its subject, registers them, and fails the gate on a breaking change, naming it', { timeout: 120_000 }, async () => {
    const dir = tempDir('trib-contracts-');
    writeFileSync(path.join(dir, 'tributary.config.mjs'), 'export default {};\n');
    mkdirSync(path.join(dir, 'contracts'));
    const contract = (schema: unknown) => writeFileSync(path.join(dir, 'contracts/user_activity-value.avsc'), JSON.stringify(schema, null, 2));
    contract(USER_ACTIVITY);

    const first = await cli(['contracts', 'check', '--project', dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('user_activity-value: new subject');
    const registered = await cli(['contracts', 'register', '--project', dir]);
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toContain('user_activity-value: id 1, version 1');

    // A new producer version: an optional field, compatible under BACKWARD.
    contract({ ...USER_ACTIVITY, fields: [...USER_ACTIVITY.fields, { name: 'referrer', type: ['null', 'string'], default: null }] });
    const compatible = await cli(['contracts', 'check', '--json', '--project', dir]);
    expect(compatible.code, compatible.stderr).toBe(0);
    expect(JSON.parse(compatible.stdout)).toMatchObject([{ subject: 'user_activity-value', status: 'compatible', messages: [] }]);

    // A breaking one: a field every reader now needs, and an event type removed.
    contract({
      ...USER_ACTIVITY,
      fields: [
        ...USER_ACTIVITY.fields.filter((f) => f.name !== 'event_type'),
        { name: 'event_type', type: { type: 'enum', name: 'EventType', symbols: ['CLICK', 'VIEW'] } },
        { name: 'session_id', type: 'string' },
      ],
    });
    const broken = await cli(['contracts', 'check', '--project', dir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('user_activity-value: INCOMPATIBLE');
    expect(broken.stdout).toContain('/fields/session_id: field session_id (string) is not written and has no default');
    expect(broken.stdout).toMatch(/\/fields\/event_type\/symbols: enum com\.monitoring\.streaming\.EventType: the writer's symbols PURCHASE, LOGIN, LOGOUT/);
    expect(broken.stdout).toContain('1 of 1 schema(s) would break their subject');
    const refused = await cli(['contracts', 'register', '--project', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/user_activity-value: REFUSED: Schema being registered is incompatible/);

    // A schema the registry cannot take is named too.
    rmSync(path.join(dir, 'contracts/user_activity-value.avsc'));
    writeFileSync(path.join(dir, 'contracts/orders-value.avsc'), JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'nope' }] }));
    const invalid = await cli(['contracts', 'check', '--project', dir]);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/orders-value: INVALID[\s\S]*Invalid schema/);
  });

  it('gates JSON Schema contracts by Confluent’s JSON rules', { timeout: 120_000 }, async () => {
    const dir = tempDir('trib-contracts-json-');
    writeFileSync(path.join(dir, 'tributary.config.mjs'), 'export default {};\n');
    mkdirSync(path.join(dir, 'contracts'));
    const contract = (schema: unknown) => writeFileSync(path.join(dir, 'contracts/payments-value.json'), JSON.stringify(schema, null, 2));
    const closed = { type: 'object', properties: { id: { type: 'string' }, amount: { type: 'number' } }, required: ['id'], additionalProperties: false };
    contract(closed);
    const registered = await cli(['contracts', 'register', '--project', dir]);
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toContain('payments-value: id 1, version 1');
    // An optional property in a closed model: compatible.
    contract({ ...closed, properties: { ...closed.properties, currency: { type: 'string' } } });
    const compatible = await cli(['contracts', 'check', '--json', '--project', dir]);
    expect(JSON.parse(compatible.stdout)).toMatchObject([{ subject: 'payments-value', status: 'compatible' }]);
    // amount narrowed to integers and made required: refused, each reason named.
    contract({ type: 'object', properties: { id: { type: 'string' }, amount: { type: 'integer' } }, required: ['id', 'amount'] });
    const broken = await cli(['contracts', 'check', '--project', dir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('payments-value: INCOMPATIBLE');
    expect(broken.stdout).toContain('/properties/amount/type: TYPE_NARROWED: the new schema does not accept number');
    expect(broken.stdout).toContain('REQUIRED_ATTRIBUTE_ADDED: property amount is now required');
  });
});
