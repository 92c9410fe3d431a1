/** Pieces of the routes' JSON Schemas (response bodies), shared by the route plugins. */

export const text = { type: 'string' } as const;
export const textOrNull = { type: ['string', 'null'] } as const;
export const time = { type: 'string', format: 'date-time' } as const;
export const timeOrNull = { type: ['string', 'null'], format: 'date-time' } as const;
export const intOrNull = { type: ['integer', 'null'] } as const;
export const strings = { type: 'array', items: text } as const;

/** An object whose properties are all required, and nothing else. */
export function obj(properties: Record<string, unknown>): {
  type: 'object';
  properties: Record<string, unknown>;
  required: string[];
  additionalProperties: false;
} {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}
